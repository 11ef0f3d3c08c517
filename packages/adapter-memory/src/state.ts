/**
 * The memory store's state, its indexes, and the few mutations several methods share.
 *
 * Leads and queue items, the records there are many of, keep their instants as epoch
 * milliseconds: hundreds of thousands of retained `Date` objects cost more in garbage collection
 * than everything else the store does. Callers only ever see copies made by the `copy*`
 * functions, which build fresh model objects (and `Date`s), so no internal object leaks.
 */
import type {
  Campaign,
  ImportedLead,
  Lead,
  LeadStatus,
  Mailbox,
  QueueItem,
  QueueStatus,
  SendLogEntry,
  Step,
} from '@mailcadence/core'
import { PendingHeap } from './heap.js'

/** A queue item as stored: the model's fields (instants in ms) plus bookkeeping. */
export interface ItemRecord {
  readonly id: string
  /** `id` as a number, for ordering ties by id numerically. */
  readonly num: number
  readonly campaignId: string
  /** The lead this item goes to, so completions check it without a lookup. */
  readonly lead: LeadRecord
  readonly step: number
  status: QueueStatus
  scheduledAt: number
  attempts: number
  mailboxId: string | null
  references: string[]
  messageId: string | null
  threadSubject: string | null
  leaseToken: string | null
  leaseUntil: number | null
  lastError: string | null
  sentAt: number | null
  readonly createdAt: number
  updatedAt: number
  /** Day keys counted by the current or last reservation, so a refund gives back only those. */
  resCampaignDayKey: string | null
  resMailboxDayKey: string | null
  /** Recipient and subject as sent; with the fields above, the item's send-log row once `sent`. */
  sentTo: string | null
  sentSubject: string | null
}

/** A lead as stored. */
export interface LeadRecord {
  readonly id: string
  readonly campaignId: string
  readonly email: string
  readonly emailKey: string
  readonly firstName: string | null
  readonly lastName: string | null
  readonly company: string | null
  readonly variables: Record<string, string>
  status: LeadStatus
  readonly createdAt: number
  updatedAt: number
  /** Every queue item of this lead, one per step at most (checked when a step is enqueued). */
  readonly items: ItemRecord[]
}

/** A campaign with its leads, queue, counts and send log. */
export interface CampaignRecord {
  readonly campaign: Campaign
  /** Leads by `emailKey`: the duplicate check of `addLeads`. */
  readonly leads: Map<string, LeadRecord>
  /** Every item, in creation order, for `listQueueItems`. */
  readonly items: ItemRecord[]
  /**
   * Pending items split by where they may leave from: items without a mailbox in `unassigned`,
   * sticky ones in the heap of their mailbox. A reservation then only looks at the heads of the
   * heaps of candidate mailboxes with room (and `unassigned` when any has room), so an item whose
   * mailbox is full never costs a scan, whatever the queue length.
   */
  readonly unassigned: PendingHeap<ItemRecord>
  readonly byMailbox: Map<string, PendingHeap<ItemRecord>>
  /** Items per status, kept up to date on every transition so stats and drains never scan. */
  readonly counts: Record<QueueStatus, number>
  /**
   * The send log: sent items in the order they were recorded. A sent item never changes again,
   * so it is its own log row (with `sentTo` and `sentSubject`) rather than a copy of it.
   */
  readonly sendLog: ItemRecord[]
}

/** Everything one memory store holds. */
export interface State {
  readonly seq: { mailbox: number; campaign: number; lead: number; item: number }
  readonly mailboxes: Map<string, Mailbox>
  readonly campaigns: Map<string, CampaignRecord>
  /** Leads of every campaign by `emailKey`, for `suppress`. */
  readonly leadsByEmailKey: Map<string, LeadRecord[]>
  /** Suppressed `emailKey` → reason given first. */
  readonly suppressed: Map<string, string>
  /**
   * Items in `sending`, by id: completions look items up here (only a `sending` item can be
   * completed) and lease recovery scans only these. There is no index of every item by id: it
   * would be the largest structure of the store, and nothing needs it.
   */
  readonly sending: Map<string, ItemRecord>
  /** `${campaignId}|${dayKey}` → sends counted. */
  readonly campaignDayCounts: Map<string, number>
  /** `${mailboxId}|${dayKey}` → sends counted. */
  readonly mailboxDayCounts: Map<string, number>
  /** Campaign ids by `externalId`. */
  readonly campaignsByExternalId: Map<string, string>
  /** Keys of the external sends already counted (`recordExternalSends`). */
  readonly externalSends: Set<string>
}

export function createState(): State {
  return {
    seq: { mailbox: 0, campaign: 0, lead: 0, item: 0 },
    mailboxes: new Map(),
    campaigns: new Map(),
    leadsByEmailKey: new Map(),
    suppressed: new Map(),
    sending: new Map(),
    campaignDayCounts: new Map(),
    mailboxDayCounts: new Map(),
    campaignsByExternalId: new Map(),
    externalSends: new Set(),
  }
}

/** Adds one to a day count. */
export function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

export function counterKey(id: string, dayKey: string): string {
  return `${id}|${dayKey}`
}

// -- copies --------------------------------------------------------------------------------------

export function copyDate(d: Date): Date
export function copyDate(d: Date | null): Date | null
export function copyDate(d: Date | null): Date | null {
  return d === null ? null : new Date(d.getTime())
}

function dateOf(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

export function copySteps(steps: readonly Step[]): Step[] {
  return steps.map((s) => ({ ...s }))
}

export function copyMailbox(m: Mailbox): Mailbox {
  // The stored mailbox holds only model fields, so a spread plus fresh dates is a full copy.
  return {
    ...m,
    pausedUntil: copyDate(m.pausedUntil),
    createdAt: copyDate(m.createdAt),
    updatedAt: copyDate(m.updatedAt),
  }
}

export function copyCampaign(c: Campaign): Campaign {
  // Same as mailboxes: a spread plus copies of the arrays, steps and dates, which stays a full
  // copy if scalar settings are added to the model.
  return {
    ...c,
    mailboxIds: [...c.mailboxIds],
    steps: copySteps(c.steps),
    variables: [...c.variables],
    createdAt: copyDate(c.createdAt),
    updatedAt: copyDate(c.updatedAt),
    nextSlotAt: copyDate(c.nextSlotAt),
  }
}

export function copyLead(l: LeadRecord): Lead {
  return {
    id: l.id,
    campaignId: l.campaignId,
    email: l.email,
    firstName: l.firstName,
    lastName: l.lastName,
    company: l.company,
    variables: { ...l.variables },
    status: l.status,
    createdAt: new Date(l.createdAt),
    updatedAt: new Date(l.updatedAt),
  }
}

export function copyItem(i: ItemRecord): QueueItem {
  return {
    id: i.id,
    campaignId: i.campaignId,
    leadId: i.lead.id,
    step: i.step,
    status: i.status,
    scheduledAt: new Date(i.scheduledAt),
    attempts: i.attempts,
    mailboxId: i.mailboxId,
    references: i.references.slice(),
    messageId: i.messageId,
    threadSubject: i.threadSubject,
    leaseToken: i.leaseToken,
    leaseUntil: dateOf(i.leaseUntil),
    lastError: i.lastError,
    sentAt: dateOf(i.sentAt),
    createdAt: new Date(i.createdAt),
    updatedAt: new Date(i.updatedAt),
  }
}

/** The send-log row of a sent item (see `CampaignRecord.sendLog`). */
export function copySendLogEntry(i: ItemRecord): SendLogEntry {
  return {
    campaignId: i.campaignId,
    leadId: i.lead.id,
    step: i.step,
    mailboxId: i.mailboxId ?? '',
    messageId: i.messageId ?? '',
    to: i.sentTo ?? '',
    subject: i.sentSubject ?? '',
    sentAt: new Date(i.sentAt ?? 0),
  }
}

// -- queue mutations -----------------------------------------------------------------------------

/** Moves an item to `to`, keeping the per-status counts and the `sending` set right. */
export function setItemStatus(state: State, cs: CampaignRecord, item: ItemRecord, to: QueueStatus): void {
  cs.counts[item.status] -= 1
  cs.counts[to] += 1
  if (item.status === 'sending') state.sending.delete(item.id)
  if (to === 'sending') state.sending.set(item.id, item)
  item.status = to
}

/** Indexes an item that just became `pending` (its status and `scheduledAt` already set). */
export function indexPending(cs: CampaignRecord, item: ItemRecord): void {
  if (item.mailboxId === null) {
    cs.unassigned.push(item)
    return
  }
  let heap = cs.byMailbox.get(item.mailboxId)
  if (heap === undefined) {
    heap = new PendingHeap()
    cs.byMailbox.set(item.mailboxId, heap)
  }
  heap.push(item)
}

/** Whether `a` goes before `b`: earlier `scheduledAt`, then lower id. */
export function isBefore(a: ItemRecord, b: ItemRecord): boolean {
  return a.scheduledAt < b.scheduledAt || (a.scheduledAt === b.scheduledAt && a.num < b.num)
}

/** The earliest pending item of a campaign (by `scheduledAt`, then id), or undefined. */
export function earliestPending(cs: CampaignRecord): ItemRecord | undefined {
  if (cs.counts.pending === 0) return undefined
  let best = cs.unassigned.peek()
  for (const heap of cs.byMailbox.values()) {
    const top = heap.peek()
    if (top !== undefined && (best === undefined || isBefore(top, best))) best = top
  }
  return best
}

/** Creates a `pending` item and indexes it everywhere. */
export function insertItem(
  state: State,
  cs: CampaignRecord,
  lead: LeadRecord,
  fields: {
    step: number
    scheduledAt: number
    mailboxId: string | null
    references: string[]
    threadSubject: string | null
  },
  now: number,
): ItemRecord {
  const item = addItem(state, cs, lead, 'pending', fields, now)
  indexPending(cs, item)
  return item
}

/** Enqueues an imported lead's next step (`ImportedLead.next`) as a `pending` item. */
export function insertImportedNext(
  state: State,
  cs: CampaignRecord,
  lead: LeadRecord,
  next: NonNullable<ImportedLead['next']>,
  now: number,
): ItemRecord {
  const fields = {
    step: next.step,
    scheduledAt: next.scheduledAt.getTime(),
    mailboxId: next.mailboxId,
    references: [...next.references],
    threadSubject: next.threadSubject,
  }
  return insertItem(state, cs, lead, fields, now)
}

/**
 * Records a step another system sent (`Store.importLeads`): a `sent` item, never pending, and its
 * send-log row, so the step can never be reserved again.
 */
export function insertSentItem(
  state: State,
  cs: CampaignRecord,
  lead: LeadRecord,
  sent: { step: number; sentAt: number; mailboxId: string; messageId: string; subject: string },
  now: number,
): void {
  const item = addItem(
    state,
    cs,
    lead,
    'sent',
    {
      step: sent.step,
      scheduledAt: sent.sentAt,
      mailboxId: sent.mailboxId,
      references: [],
      threadSubject: null,
      messageId: sent.messageId,
      sentAt: sent.sentAt,
    },
    now,
  )
  recordSent(cs, item, lead.email, sent.subject)
}

/** Writes a `sent` item's send-log row. */
export function recordSent(cs: CampaignRecord, item: ItemRecord, to: string, subject: string): void {
  item.sentTo = to
  item.sentSubject = subject
  cs.sendLog.push(item)
}

/** Creates an item in `status` and adds it to its lists and counts (not to the pending indexes). */
function addItem(
  state: State,
  cs: CampaignRecord,
  lead: LeadRecord,
  status: 'pending' | 'sent',
  fields: Pick<ItemRecord, 'step' | 'scheduledAt' | 'mailboxId' | 'references' | 'threadSubject'> & {
    messageId?: string
    sentAt?: number
  },
  now: number,
): ItemRecord {
  state.seq.item += 1
  const num = state.seq.item
  const item: ItemRecord = {
    id: String(num),
    num,
    campaignId: cs.campaign.id,
    lead,
    step: fields.step,
    status,
    scheduledAt: fields.scheduledAt,
    attempts: 0,
    mailboxId: fields.mailboxId,
    references: fields.references,
    messageId: fields.messageId ?? null,
    threadSubject: fields.threadSubject,
    leaseToken: null,
    leaseUntil: null,
    lastError: null,
    sentAt: fields.sentAt ?? null,
    createdAt: now,
    updatedAt: now,
    resCampaignDayKey: null,
    resMailboxDayKey: null,
    sentTo: null,
    sentSubject: null,
  }
  cs.items.push(item)
  lead.items.push(item)
  cs.counts[status] += 1
  return item
}

/** Cancels one pending item; it stays in its heap until it reaches the top (lazy deletion). */
export function cancelItem(
  state: State,
  cs: CampaignRecord,
  item: ItemRecord,
  reason: string,
  now: number,
): void {
  setItemStatus(state, cs, item, 'cancelled')
  item.lastError = reason
  item.updatedAt = now
}

/** Cancels every pending item of a lead; returns how many. */
export function cancelLeadPending(
  state: State,
  cs: CampaignRecord,
  lead: LeadRecord,
  reason: string,
  now: number,
): number {
  let cancelled = 0
  for (const item of lead.items) {
    if (item.status !== 'pending') continue
    cancelItem(state, cs, item, reason, now)
    cancelled += 1
  }
  return cancelled
}

/** Moves an `active` lead to `status` (compare-and-set on `active`); returns whether it changed. */
export function stopActiveLead(
  lead: LeadRecord,
  status: Exclude<LeadStatus, 'active'>,
  now: number,
): boolean {
  if (lead.status !== 'active') return false
  lead.status = status
  lead.updatedAt = now
  return true
}

/** Clears an item's lease: after this, a completion carrying the old token is `lease-lost`. */
export function clearLease(item: ItemRecord): void {
  item.leaseToken = null
  item.leaseUntil = null
}
