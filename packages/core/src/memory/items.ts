/**
 * The queue mutations several store methods share: status moves that keep the counts and indexes
 * right, inserting items, cancelling and stopping.
 */
import type { ImportedLead, LeadStatus, QueueStatus } from '../index.js'
import type { CampaignRecord, ItemRecord, LeadRecord, State } from './state.js'

/** Moves an item to `to`, keeping the per-status counts and the `sending` set right. */
export function setItemStatus(state: State, cs: CampaignRecord, item: ItemRecord, to: QueueStatus): void {
  cs.counts[item.status] -= 1
  cs.counts[to] += 1
  if (item.status === 'sending') state.sending.delete(item.id)
  if (to === 'sending') state.sending.set(item.id, item)
  item.status = to
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
    windowKey: string
    references: string[]
    threadSubject: string | null
  },
  now: number,
): ItemRecord {
  const item = addItem(state, cs, lead, 'pending', fields, now)
  cs.pending.add(item)
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
    windowKey: lead.windowKey,
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
      windowKey: lead.windowKey,
      references: [],
      threadSubject: null,
      messageId: sent.messageId,
      sentAt: sent.sentAt,
    },
    now,
  )
  recordSent(state, cs, item, lead.email, sent.subject)
}

/** Writes a `sent` item's send-log row, and indexes it by Message-ID. */
export function recordSent(
  state: State,
  cs: CampaignRecord,
  item: ItemRecord,
  to: string,
  subject: string,
): void {
  item.sentTo = to
  item.sentSubject = subject
  cs.sendLog.push(item)
  if (item.messageId !== null) {
    const same = state.sentByMessageId.get(item.messageId)
    if (same === undefined) state.sentByMessageId.set(item.messageId, [item])
    else same.push(item)
  }
}

/** Creates an item in `status` and adds it to its lists and counts (not to the pending indexes). */
function addItem(
  state: State,
  cs: CampaignRecord,
  lead: LeadRecord,
  status: 'pending' | 'sent',
  fields: Pick<
    ItemRecord,
    'step' | 'scheduledAt' | 'mailboxId' | 'windowKey' | 'references' | 'threadSubject'
  > & {
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
    windowKey: fields.windowKey,
    references: fields.references,
    messageId: fields.messageId ?? null,
    threadSubject: fields.threadSubject,
    variantId: null,
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
