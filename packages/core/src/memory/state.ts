/**
 * The memory store's state: its records and indexes. The mutations several methods share live in
 * `items.ts`, the pending-item index in `pending.ts`, the copies handed to callers in `copy.ts`.
 *
 * Leads and queue items, the records there are many of, keep their instants as epoch
 * milliseconds: hundreds of thousands of retained `Date` objects cost more in garbage collection
 * than everything else the store does. Callers only ever see copies made by the `copy*`
 * functions, which build fresh model objects (and `Date`s), so no internal object leaks.
 */

import { MailcadenceError } from '../errors.js'
import type { Campaign, InboundRecord, InboxCursor, LeadStatus, Mailbox, QueueStatus } from '../index.js'
import type { PendingIndex } from './pending.js'

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
  /** The lead's window key, which `ReserveRequest.windowKeys` filters on; never changes. */
  readonly windowKey: string
  references: string[]
  messageId: string | null
  threadSubject: string | null
  /** The step variant core fixed on the first completion (see `QueueItem.variantId`); never changes once set. */
  variantId: string | null
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
  readonly timezone: string | null
  readonly country: string | null
  /** Core's `windowKeyOf` the lead, opaque here: copied to each of the lead's items. */
  readonly windowKey: string
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
  /** The `pending` items, by window key and by where they may leave from (see `PendingIndex`). */
  readonly pending: PendingIndex
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
  /**
   * `counterKey(mailboxId, dayKey)` remembered per mailbox for its latest day: every request
   * offers every candidate mailbox, and building the key each time was most of a reservation's
   * garbage. Per store, so two stores in one process never share it.
   */
  readonly mailboxKeys: Map<string, { dayKey: string; key: string }>
  /** Core's deferrals (`deferCampaigns`): campaign id → the instant (ms) it cannot send before. */
  readonly deferredUntil: Map<string, number>
  /** Campaign ids by `externalId`. */
  readonly campaignsByExternalId: Map<string, string>
  /** Keys of the external sends already counted (`recordExternalSends`). */
  readonly externalSends: Set<string>
  /** Sent items by their Message-ID (`findSentByMessageIds`): filled as the send log is written. */
  readonly sentByMessageId: Map<string, ItemRecord[]>
  /** Inbound messages applied, by their Message-ID (`recordInbound`). */
  readonly inbound: Map<string, InboundRecord>
  /** Inbox cursors by `mailboxId` NUL `folder`. */
  readonly inboxCursors: Map<string, InboxCursor>
  /** Named counters (`claimCounters`): key → count and the latest expiry (ms) claimed. */
  readonly counters: Map<string, { count: number; expiresAt: number }>
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
    mailboxKeys: new Map(),
    deferredUntil: new Map(),
    campaignsByExternalId: new Map(),
    externalSends: new Set(),
    sentByMessageId: new Map(),
    inbound: new Map(),
    inboxCursors: new Map(),
    counters: new Map(),
  }
}

/** The next id of a kind: decimal counters, so ids order numerically. */
export function nextId(state: State, kind: keyof State['seq']): string {
  state.seq[kind] += 1
  return String(state.seq[kind])
}

/** Adds one to a day count. */
export function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

export function counterKey(id: string, dayKey: string): string {
  return `${id}|${dayKey}`
}

/** `counterKey(mailboxId, dayKey)` through the store's cache (see `State.mailboxKeys`). */
export function mailboxCounterKey(state: State, mailboxId: string, dayKey: string): string {
  const known = state.mailboxKeys.get(mailboxId)
  if (known !== undefined && known.dayKey === dayKey) return known.key
  if (state.mailboxKeys.size > 10_000) state.mailboxKeys.clear()
  const key = counterKey(mailboxId, dayKey)
  state.mailboxKeys.set(mailboxId, { dayKey, key })
  return key
}

/** The campaign's record, or a `not-found` error. */
export function campaignOrThrow(state: State, campaignId: string): CampaignRecord {
  const cs = state.campaigns.get(campaignId)
  if (cs === undefined) throw new MailcadenceError('not-found', `campaign ${campaignId} does not exist`)
  return cs
}
