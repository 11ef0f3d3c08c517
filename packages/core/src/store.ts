import type {
  Campaign,
  CampaignSchedule,
  CampaignStatus,
  Lead,
  LeadStatus,
  Mailbox,
  ProviderMatching,
  QueueItem,
  QueueStats,
  RecipientDomainLimit,
  Step,
  StopOnReply,
} from './model/types.js'

/**
 * Where the queue lives. Core decides *what* should happen (policy); a store makes it happen
 * *atomically* (mechanism). Rules every adapter follows:
 *
 * - **Time comes from core.** Every call that depends on time receives `now`; an adapter never
 *   reads a clock (`new Date()`, SQL `now()`), so a fake clock drives it in tests.
 * - **Each method is atomic.** It happens entirely or not at all, and concurrent calls (from one
 *   process or many) behave as if they ran one after the other. Where a method says
 *   "compare-and-set", a lost race is an ordinary result, not an error.
 * - **Batches are independent.** Methods taking arrays handle the elements in order, each
 *   atomically on its own; an adapter may use one round trip for all of them.
 * - **Errors** an adapter cannot handle are thrown as `MailcadenceError` with code
 *   `store-unavailable` (retryable: connection, timeout, deadlock), `store-misconfigured` (the host
 *   must fix something: credentials refused, unknown database, schema not migrated) or
 *   `store-conflict`.
 * - Ids are strings chosen by the store. Inputs arrive already validated by core.
 * - A mailbox or campaign read without a field added to the model since (a store not upgraded
 *   yet) is read with its default: `hourlyLimit`, `rampUp`, `provider`, `recipientDomainLimit`
 *   null, `rampLevel` 0, `providerMatching` `'off'`. The conformance suite asks for every field.
 *
 * `runStoreConformance` from `@mailcadence/core/conformance` checks all of this.
 *
 * The migration methods (`MigrationStore`) are an optional capability, all three or none: a store
 * without them works for everything but `analyzeImport`, `importCampaign` and
 * `recordExternalSends`, which then throw `invalid-state` (`supportsMigration` in
 * `@mailcadence/core/store-kit` checks for them). The inbox methods (`InboxStore`) and the counters
 * (`CounterStore`, which the hourly, recipient-domain, warm-up and guard limits need) are optional
 * the same way (`supportsInbox`, `supportsCounters`).
 */
export interface Store extends Partial<MigrationStore>, Partial<InboxStore>, Partial<CounterStore> {
  // -- mailboxes -------------------------------------------------------------------------------

  /** Inserts a mailbox. `pausedUntil`/`pauseReason`/`rampDayKey` start null, `rampLevel` 0. */
  createMailbox(input: NewMailbox, now: Date): Promise<Mailbox>
  /** Applies `patch` to a mailbox and returns it, or null if it does not exist. */
  updateMailbox(id: string, patch: MailboxPatch, now: Date): Promise<Mailbox | null>
  /** The mailboxes with these ids that exist, in any order. */
  getMailboxes(ids: readonly string[]): Promise<Mailbox[]>

  // -- campaigns -------------------------------------------------------------------------------

  /**
   * Inserts a campaign in status `DRAFT` with `nextSlotAt` and `lastMailboxId` null. An
   * `externalId` is unique among campaigns: when one with the same `externalId` exists, nothing is
   * inserted and that campaign is returned instead (so concurrent imports create it once).
   */
  createCampaign(input: NewCampaign, now: Date): Promise<Campaign>
  getCampaign(id: string): Promise<Campaign | null>
  /**
   * Replaces the campaign's settings (not its status or pacing state) and, in the same atomic
   * write, adds one to its `settingsVersion`. Null if it does not exist.
   */
  updateCampaign(id: string, patch: CampaignPatch, now: Date): Promise<Campaign | null>
  /**
   * Compare-and-set on the status: moves the campaign to `to` only if its status is one of
   * `from`. With `cancelPending`, in the same atomic step, every `pending` item of the campaign
   * becomes `cancelled` (reason in `lastError`). Returns the campaign after the call (changed or
   * not) and whether it changed; null if it does not exist.
   *
   * Once this has returned `changed: true` with `to` other than `IN_PROGRESS`, no reservation of
   * the campaign may succeed.
   */
  setCampaignStatus(
    id: string,
    change: { from: readonly CampaignStatus[]; to: CampaignStatus; cancelPending?: string },
    now: Date,
  ): Promise<{ changed: boolean; campaign: Campaign } | null>
  /**
   * Compare-and-set: `IN_PROGRESS → COMPLETED` only if the campaign has no `pending` and no
   * `sending` item. Returns whether it changed.
   */
  completeIfDrained(campaignId: string, now: Date): Promise<boolean>
  /**
   * Campaigns in status `IN_PROGRESS` that have at least one `pending` item, each with the
   * earliest `scheduledAt` of its pending items, and those with no `pending` and no `sending`
   * item (drained, so core can complete them) with `nextItemAt: null`; optionally limited to
   * `ids`. Used by every tick: it must not slow down as sent history grows.
   */
  listRunnableCampaigns(now: Date, filter?: { ids?: readonly string[] }): Promise<RunnableCampaign[]>
  /**
   * Optional; core uses it instead of `listRunnableCampaigns` when present. The same list less the
   * campaigns whose earliest pending item is after `dueBefore` (none of them can send before
   * then), with `laterAt`: the earliest `scheduledAt` among the campaigns left out (null if none).
   * Drained campaigns (`nextItemAt: null`) are always listed. Every tick runs it: with thousands of
   * running campaigns and nothing due, it must answer in a few milliseconds and return little.
   */
  listDueCampaigns?(
    now: Date,
    filter: { dueBefore: Date; ids?: readonly string[] },
  ): Promise<{ campaigns: RunnableCampaign[]; laterAt: Date | null }>
  /**
   * Optional, for stores with `listDueCampaigns`. Core found each of these running campaigns unable
   * to send before `until` whatever its queue holds (its sending window is closed until then), from
   * the campaign's settings at `settingsVersion`. A store may remember that: `listDueCampaigns` may
   * then leave the campaign out while `until` is after `dueBefore` (counting `until` in `laterAt`),
   * until `updateCampaign` changes the campaign. A deferral must be ignored if the campaign's
   * `settingsVersion` no longer equals the one given (its settings changed since core read them,
   * however close in time), or if the campaign has no pending
   * item (a drained campaign is always listed). A store must forget a campaign's deferral when
   * `addLeads` or `importLeads` adds a lead to it (a lead in another time zone may leave sooner:
   * core computes deferrals of campaigns that send in their leads' hours from the window keys of
   * their queue). A store may forget a deferral when the campaign's queue changes otherwise
   * (listing a campaign is never wrong, only slower), and may skip campaigns another call is
   * writing at that moment.
   */
  deferCampaigns?(deferrals: readonly CampaignDeferral[], now: Date): Promise<void>

  // -- leads -----------------------------------------------------------------------------------

  /**
   * Adds leads to a campaign and enqueues step 0 for each (`pending`, `scheduledAt = now`,
   * `mailboxId` null, the lead's `windowKey`). Atomic per lead: a lead whose address (compared by `emailKey`) is
   * already in the campaign is counted as a duplicate, one whose `emailKey` is suppressed is
   * returned in `suppressed`, and neither is inserted. Concurrent calls never insert one address
   * twice in a campaign.
   */
  addLeads(campaignId: string, leads: readonly NewLead[], now: Date): Promise<AddLeadsOutcome>
  /** The lead of this campaign with this `emailKey`, or null. */
  getLead(campaignId: string, emailKey: string): Promise<Lead | null>
  /** Every lead of a campaign, oldest first. For migration and inspection, not the hot path. */
  listLeads(campaignId: string): Promise<Lead[]>
  /**
   * Sets the status of one lead (found by `emailKey`) from `active` to `status` (and, for
   * `replied` only, from `completed` too: a reply after the last step still counts, for
   * `scheduler.variantStats`) and, in the same atomic step, cancels its `pending` items with
   * `reason`. Returns null if no such lead.
   */
  stopLead(
    campaignId: string,
    emailKey: string,
    status: Exclude<LeadStatus, 'active'>,
    reason: string,
    now: Date,
  ): Promise<{ lead: Lead; cancelled: number } | null>
  /**
   * Adds `emailKey` to the suppression list (idempotent) and, in the same atomic step, marks
   * every `active` lead with that address `suppressed` and cancels their `pending` items in every
   * campaign. Returns how many items were cancelled.
   */
  suppress(emailKey: string, reason: string, now: Date): Promise<{ cancelled: number }>

  // -- the queue -------------------------------------------------------------------------------

  /**
   * Reserves sends. Each request is one send of one campaign and is handled atomically on its own,
   * in order. For a request to succeed, all of this happens in one step, or nothing does:
   *
   * 1. the campaign is `IN_PROGRESS`, its `nextSlotAt` is null or `<= now`, and its count for
   *    `campaignDayKey` is below `maxEmailsPerDay`; its `nextSlotAt` becomes `nextSlotAt` of the
   *    request and its count for `campaignDayKey` goes up by one;
   * 2. the oldest due `pending` item (`scheduledAt <= now`, ties by id) that can leave now is
   *    taken: with `windowKeys`, only an item whose `windowKey` is listed can leave; an item with a
   *    `mailboxId` can leave only from that mailbox, one without from any candidate mailbox; a
   *    mailbox "has room" when its count for its `dayKey` is below its `dailyEmailLimit`.
   *    Candidates are tried in the order given (or the rotation's, see `rotation`); an unassigned
   *    item takes the first with room. An item whose key is not listed, whose mailbox is full, or
   *    not among the candidates, is passed over, so it never blocks the others;
   * 3. the chosen mailbox's count for its `dayKey` goes up by one (compare-and-set against its
   *    limit, so concurrent reservations can never pass it), and when the item had no mailbox the
   *    campaign's `lastMailboxId` becomes that mailbox;
   * 4. the item becomes `sending` with `leaseToken`, `leaseUntil`, `mailboxId` and the
   *    `messageId` of the chosen candidate.
   *
   * When it fails, nothing changed and the outcome says why, checked in this order:
   * `not-running`, `pacing` (until `nextSlotAt`), `campaign-limit`, `queue-empty` (no pending
   * item at all), `window-closed` (with `windowKeys`: no pending item has a listed key), `not-due`
   * (until the earliest `scheduledAt` of the pending items with a listed key), `mailbox-limit`
   * (due items exist but none has a mailbox with room). `refusalFor` from
   * `@mailcadence/core/store-kit` applies this order to facts an adapter has read.
   *
   * An adapter that runs the requests of a batch separately (on several connections) must not
   * throw away the reservations that succeeded when another request fails: it reports the failed
   * requests as `{ ok: false, reason: 'store-unavailable', error }` (nothing changed for them) and
   * throws only when none succeeded.
   */
  reserveSends(requests: readonly ReserveRequest[], now: Date): Promise<ReserveOutcome[]>
  /**
   * Records what happened to reserved sends. Each completion applies only while the item is still
   * `sending` with the same `leaseToken`; otherwise nothing changes and the outcome is
   * `lease-lost` (recovery, or another worker, decided first). On success, atomically:
   *
   * - `sent`: the item becomes `sent` (`sentAt = now`, `messageId`); a send-log row is written
   *   (unique on campaign, lead, step); if `next` is given and the lead is still `active` and
   *   the campaign not `CANCELLED`, the next step is enqueued as `pending` at
   *   `next.scheduledAt`, on the same mailbox and `windowKey`, with `references` extended by this `messageId`
   *   and `threadSubject` kept from this item or, if it had none, set to `subject` (unique on
   *   campaign, lead, step: never enqueued twice);
   *   without `next` an `active` lead becomes `completed`.
   * - `retry`: the item goes back to `pending` at `retryAt`, `attempts` set to `attempts`,
   *   `lastError` set; the lease is cleared. With `unassignMailbox` its `mailboxId` becomes null,
   *   so a first email that no mail thread ties to a mailbox can leave from another one. If the
   *   lead is no longer `active` or the campaign is `CANCELLED` or `COMPLETED` (a stop arrived
   *   while it was in flight; `requeueStopReason` is this rule), the item becomes `cancelled`
   *   instead, so stops hold.
   * - `failed`: the item becomes `failed` with `lastError`; with `leadStatus` an `active` lead
   *   takes that status and its other `pending` items are cancelled.
   * - `cancelled`: the item becomes `cancelled` with `lastError = reason`; the lead is unchanged
   *   and no next step is enqueued.
   *
   * With `refund`, the campaign's and the mailbox's day counts taken by the reservation go down by
   * one, but only if they still count the reservation's day keys (no mail left, so the slot is
   * given back); with `refund.nextSlotAt`, the pacing slot too (see `Completion`). A `sent`
   * completion with `mailboxId` first applies the refund (on the reserved mailbox), then moves
   * the item to that mailbox.
   */
  completeSends(completions: readonly Completion[], now: Date): Promise<CompletionOutcome[]>
  /**
   * Recovers `sending` items whose `leaseUntil` is at or before `now` (a worker died or stalled):
   * with `policy: 'fail'` they become `failed` with `lastError = 'interrupted'` (the mail may have
   * left, so it is never sent again); with `'retry'` they become `pending` at `now`, unless the
   * lead is no longer `active` or the campaign is `CANCELLED` or `COMPLETED` (the rule of a `retry`
   * completion: `requeueStopReason`), in which case they fail as `interrupted` too. The lease is cleared either way, so a late completion of the old lease is
   * refused. Returns what changed.
   */
  recoverExpiredLeases(now: Date, policy: 'fail' | 'retry'): Promise<RecoveredItem[]>

  // -- reading ---------------------------------------------------------------------------------

  queueStats(campaignId: string): Promise<QueueStats>
  /**
   * The campaign's due `pending` items (`scheduledAt <= now`) counted by `mailboxId` and
   * `windowKey`: one entry per distinct pair among them, with `mailboxId: null` for those without one (a first email,
   * which may leave from any mailbox); in any order, no entry with a count of 0. Empty when nothing
   * is due or the campaign does not exist. Items in any other status never count. For `explain()`,
   * which needs to know whether a due item has a mailbox it can leave from: it reads the pending
   * items only (through an index on them), never the sent history.
   */
  countDueByMailbox(campaignId: string, now: Date): Promise<DueCount[]>
  /**
   * The distinct `windowKey`s of the campaign's `pending` items (due or not), each with the
   * earliest `scheduledAt` among its items; in any order; empty when none. Core reads it on each
   * tick of a campaign whose leads' keys matter (lead time zones, holiday calendars) to know which
   * keys' windows to open: it must cost O(distinct keys), not O(pending items).
   */
  listWindowKeys(campaignId: string): Promise<WindowKeyStat[]>
  /**
   * Sends counted for the campaign on `campaignDayKey` and for each mailbox on its `dayKey`. A
   * store must answer for the campaign's current day and any mailbox day; a campaign day already
   * over may read 0 (a store may keep the campaign's count for its current day only).
   */
  dayCounts(query: DayCountQuery): Promise<DayCounts>
  /** Queue items of a campaign (all statuses), oldest first. For inspection and tests, not the hot path. */
  listQueueItems(campaignId: string): Promise<QueueItem[]>
  /** The send log of a campaign, in send order. */
  listSendLog(campaignId: string): Promise<SendLogEntry[]>

  // Inspection (dashboards, the CLI). Optional: core checks for each at run time. Without
  // `listCampaigns` or `listMailboxes` the scheduler's listing methods throw `invalid-state`
  // naming the method; the others fall back on the required reads above (slower on long
  // histories). None of them runs on a tick.

  /**
   * Optional. One page of campaigns, in ascending id order as the store orders its ids (creation
   * order for the shipped stores): at most `limit` of them, only those with `status` when given,
   * starting after the campaign whose id is `after` (keyset pagination: a page costs the same on
   * page 1 and page 200, and campaigns created meanwhile never shift a page). An `after` that
   * is not one of the store's ids returns no campaign. Must stay fast with 10,000 campaigns.
   */
  listCampaigns?(query: CampaignListQuery): Promise<Campaign[]>
  /** Optional. Every mailbox, in ascending id order (as `listCampaigns` orders ids). */
  listMailboxes?(): Promise<Mailbox[]>
  /**
   * Optional. The campaign's `failed` items, most recently failed first (`updatedAt` descending,
   * then id descending), at most `limit`, each with its lead's address. `item.lastError` holds the
   * server's answer or the reason. Fallback: `listQueueItems` and `listLeads`.
   */
  listFailedSends?(campaignId: string, query: { limit: number }): Promise<FailedSend[]>
  /**
   * Optional. The campaign's last `limit` send-log rows, newest first (the reverse of
   * `listSendLog`'s order). Fallback: the tail of `listSendLog`.
   */
  listRecentSends?(campaignId: string, query: { limit: number }): Promise<SendLogEntry[]>
  /**
   * Optional. `sentAt` of every send-log row of the campaign with `from <= sentAt < to`, in
   * ascending order: core buckets them into the campaign's local days (one day rule, in core).
   * Fallback: `listSendLog`, filtered.
   */
  listSendTimes?(campaignId: string, range: { from: Date; to: Date }): Promise<Date[]>

  /** Releases what the store holds (pools it created). Stores given a pool by the host leave it open. */
  close(): Promise<void>
}

/**
 * Bringing in campaigns from another sender and counting its sends while both run (a migration):
 * optional for a store, all three methods or none (see `Store`).
 */
export interface MigrationStore {
  /** The campaign created with this `externalId`, or null. */
  getCampaignByExternalId(externalId: string): Promise<Campaign | null>
  /**
   * Brings in leads whose sequence another system has started (a migration). Atomic per lead, like
   * `addLeads`: a lead whose `emailKey` is already in the campaign is left untouched and returned
   * in `existing` (so importing twice changes nothing), one whose `emailKey` is suppressed is
   * returned in `suppressed`; neither is inserted. Otherwise, in one step: the lead is inserted
   * with its `status`; each `history` entry becomes a `sent` queue item (`sentAt`, `mailboxId`,
   * `messageId`, `attempts` 0) and a send-log row, so the step can never be sent again; and `next`,
   * if given, is enqueued as `pending` with its `scheduledAt`, `mailboxId`, `references` and
   * `threadSubject`. Imported history does not touch day counts: `recordExternalSends` does.
   *
   * A lead given with `advance` that is already in the campaign is moved forward instead (a
   * re-import after a rollback, the other system having gone on), compare-and-set against what
   * core read: only while the lead is `active`, has no `sending` item and its highest `sent` step
   * is `advance.lastSentStep` (null: none). Then, in one step: each `history` entry becomes `sent`
   * with a send-log row (the lead's item of that step, if it has one, becomes it; otherwise one is
   * inserted); every other `pending` item of the lead is cancelled (reason `advanced by import`);
   * `next`, if given, is enqueued as above (the lead's item of that step, if not `sent`, becomes
   * that `pending` item); the lead takes `status`. The key is returned in `advanced`. If the lead
   * changed since core read it, nothing changes and the key is returned in `stale`. A lead given
   * with `advance` that is not in the campaign is imported like any other.
   */
  importLeads(campaignId: string, leads: readonly ImportedLead[], now: Date): Promise<ImportLeadsOutcome>

  /**
   * Counts sends made by another system (a legacy sender running beside this one), so that limits
   * hold across both. Each send is handled atomically on its own and at most once per `key`: a key
   * already recorded changes nothing. A new one adds one, with `mailbox`, to the mailbox's count for
   * `mailbox.dayKey` and, with `campaign`, to the campaign's count for `campaign.dayKey` (a
   * store keeping the campaign's current day only moves it forward to a later day, and ignores an
   * earlier one) and moves the campaign's `nextSlotAt` to `campaign.nextSlotAt` if that is later.
   * No limit is checked: the send has happened. Returns how many keys were new.
   */
  recordExternalSends(sends: readonly ExternalSend[], now: Date): Promise<{ recorded: number }>
}

/**
 * What comes back from the inbox (replies, bounces, out-of-office answers, the IMAP poller's
 * place): optional for a store, all seven methods or none (see `Store`). None runs on a tick.
 */
export interface InboxStore {
  /**
   * The send-log rows whose `messageId` is one of `messageIds` (compared exactly), each with its
   * lead, in any order; none for an id nothing was sent with. Indexed on the Message-ID: it must
   * not slow down as the send log grows. At most 100 ids per call.
   */
  findSentByMessageIds(messageIds: readonly string[]): Promise<SentMessage[]>
  /** The inbound message recorded with this `messageId` (`recordInbound`), or null. */
  getInbound(messageId: string): Promise<InboundRecord | null>
  /**
   * Records that an inbound message was applied, keyed by its `messageId`: inserted if absent,
   * with `processedAt = now`. Returns true if this call inserted it, false if it was there (a
   * concurrent call won: compare-and-set, not an error); a record is never changed.
   */
  recordInbound(record: Omit<InboundRecord, 'processedAt'>, now: Date): Promise<boolean>
  /**
   * Moves the next `pending` item (lowest `step` among its pending items) of the campaign's lead with
   * this `emailKey` to `until`, but
   * only later, never earlier: its `scheduledAt` becomes the later of the two, atomically (an item
   * reserved meanwhile is `sending`, no longer pending, and is left alone). Returns the item after
   * the call (moved or not), or null when there is no such lead or it has no pending item. A store
   * that reads the item before its compare-and-set may return it already `sending` (reserved in
   * between): callers treat only a `pending` item scheduled at or after `until` as postponed.
   */
  postponeLead(campaignId: string, emailKey: string, until: Date, now: Date): Promise<QueueItem | null>
  /**
   * Stops every `active` lead of the campaign whose `emailKey` ends with `@` + `domain` (compared
   * exactly: `domain` is lower case; `_` and `%` in it are literal), as `stopLead` stops one: each
   * takes `status` and its `pending` items are cancelled with `reason`, in one atomic step. Leads
   * not `active` are left as they are. Returns the leads it stopped and how many items it cancelled.
   */
  stopLeadsOfDomain(
    campaignId: string,
    domain: string,
    status: Exclude<LeadStatus, 'active'>,
    reason: string,
    now: Date,
  ): Promise<{ leads: Lead[]; cancelled: number }>
  /** The cursor saved for this mailbox and folder (compared exactly), or null. */
  getInboxCursor(mailboxId: string, folder: string): Promise<InboxCursor | null>
  /** Saves (inserts or replaces) the cursor of this mailbox and folder. */
  saveInboxCursor(mailboxId: string, folder: string, cursor: InboxCursor, now: Date): Promise<void>
}

/**
 * Where an inbox reader stands in one folder of one mailbox (IMAP): the folder's `UIDVALIDITY`
 * (decimal digits, as a string so no client's integer type matters) and the highest UID it has
 * handed on. A changed `uidValidity` means the UIDs were renumbered: start the folder again.
 */
export type InboxCursor = { uidValidity: string; lastUid: number }

/** A sent email found by its Message-ID (`InboxStore.findSentByMessageIds`). */
export interface SentMessage {
  send: SendLogEntry
  lead: Lead
}

/** An inbound message applied once (`InboxStore.recordInbound`). */
export interface InboundRecord {
  /** The inbound message's own Message-ID (`<…>`), at most `INPUT_LIMITS.messageIdLength` characters. */
  messageId: string
  /** What it was classified as (`InboundKind`). */
  kind: string
  /** The campaign and lead it matched, or null when it matched no sent email. */
  campaignId: string | null
  leadId: string | null
  processedAt: Date
}

/**
 * Named counters, the one mechanism behind every limit core checks besides the campaign's and the
 * mailbox's day counts (hourly caps, recipient-domain limits, warm-up bookkeeping, guard figures):
 * core decides every key, limit and rule; a store only counts, atomically. Optional for a store,
 * all three methods or none (see `Store`). A counter that was never claimed reads 0.
 */
export interface CounterStore {
  /**
   * All or nothing, atomically: if every claim with a `limit` has `count + by <= limit` (`by`
   * defaults to 1), every claimed counter goes up by its `by` and the result is true; otherwise
   * nothing changes and the result is false (a lost race is an ordinary `false`, never an error).
   * Concurrent claims (from one process or many) never take a counter past a limit. Claims with
   * `limit: null` always pass. A key appears at most once in one call. Each counter keeps the
   * latest `expiresAt` it was claimed with: core never reads nor claims it after that instant, so a
   * store may delete it then (the shipped stores delete a bounded batch of expired counters now and
   * then, in this method).
   */
  claimCounters(claims: readonly CounterClaim[], now: Date): Promise<boolean>
  /** Takes one off each counter (never below 0; each key once): the claim's send did not happen after all. */
  releaseCounters(keys: readonly string[], now: Date): Promise<void>
  /** The counts of these keys (0 for a key never claimed), keyed by key. At most 1,000 keys. */
  readCounters(keys: readonly string[]): Promise<Record<string, number>>
}

/** One counter of a `CounterStore.claimCounters` call. */
export interface CounterClaim {
  /** At most 200 characters, chosen by core. */
  key: string
  /** The most the counter may reach; null: no limit (an increment). */
  limit: number | null
  /** How much to add, an integer >= 1. Default 1. */
  by?: number
  /** When core is done with the counter (see `claimCounters`). */
  expiresAt: Date
}

/** A mailbox to insert; absent `hourlyLimit`, `rampUp` and `provider` mean null. */
export type NewMailbox = Omit<
  Mailbox,
  | 'id'
  | 'createdAt'
  | 'updatedAt'
  | 'pausedUntil'
  | 'pauseReason'
  | 'rampLevel'
  | 'rampDayKey'
  | 'hourlyLimit'
  | 'rampUp'
  | 'provider'
> &
  Partial<Pick<Mailbox, 'hourlyLimit' | 'rampUp' | 'provider'>>
export type MailboxPatch = Partial<Omit<Mailbox, 'id' | 'createdAt' | 'updatedAt'>>

export interface NewCampaign extends CampaignSchedule {
  name: string
  /** The campaign's id in another system (set by `importCampaign`), unique when not null. */
  externalId?: string | null
  mailboxIds: string[]
  steps: Step[]
  variables: string[]
  /** See `Campaign.stopOnReply`; absent means `'lead'`. */
  stopOnReply?: StopOnReply
  /** See `Campaign.recipientDomainLimit`; absent means null. */
  recipientDomainLimit?: RecipientDomainLimit | null
  /** See `Campaign.providerMatching`; absent means `'off'`. */
  providerMatching?: ProviderMatching
}
export type CampaignPatch = Partial<NewCampaign>

export interface NewLead {
  email: string
  /** Lower-cased, trimmed address: the key for duplicates and suppression. */
  emailKey: string
  firstName: string | null
  lastName: string | null
  company: string | null
  variables: Record<string, string>
  timezone: string | null
  country: string | null
  /**
   * Opaque to the store (at most 80 characters; `''` for a lead with neither zone nor country):
   * stored with the lead and copied to each of its queue items, which `ReserveRequest.windowKeys`
   * filters on.
   */
  windowKey: string
}

/** A lead brought in with its progress in another system; see `Store.importLeads`. */
export interface ImportedLead extends NewLead {
  status: LeadStatus
  /** Steps the other system has sent, oldest first. */
  history: ReadonlyArray<{
    step: number
    sentAt: Date
    mailboxId: string
    messageId: string
    subject: string
  }>
  /** The step to send next, or null when the lead's sequence is over. */
  next: {
    step: number
    scheduledAt: Date
    mailboxId: string | null
    references: string[]
    threadSubject: string | null
  } | null
  /**
   * For a lead already in the campaign that the other system is ahead of: move it forward (see
   * `Store.importLeads`) if its highest `sent` step here is still `lastSentStep` (null: none),
   * it is `active` and nothing of it is `sending`. `history` then holds only the steps to add.
   */
  advance?: { lastSentStep: number | null }
}

export interface ImportLeadsOutcome {
  imported: Lead[]
  /** `emailKey`s already in the campaign: left as they were. */
  existing: string[]
  /** `emailKey`s refused because they are suppressed. */
  suppressed: string[]
  /** `emailKey`s given with `advance` and moved forward. */
  advanced: string[]
  /** `emailKey`s given with `advance` whose lead changed since core read it: left as they were. */
  stale: string[]
}

/** A send another system made; see `Store.recordExternalSends`. */
export interface ExternalSend {
  /** Unique id of the send in the other system, such as its send-log row id. */
  key: string
  /** The mailbox whose count it takes, on its local day of the send (from `dayKey()`). */
  mailbox?: { id: string; dayKey: string }
  /** The campaign whose count it takes, if it is one of this store's, and its pacing after the send. */
  campaign?: { id: string; dayKey: string; nextSlotAt: Date | null }
}

export interface AddLeadsOutcome {
  added: Lead[]
  duplicates: number
  /** `emailKey`s refused because they are suppressed. */
  suppressed: string[]
}

/** A campaign that cannot send before `until`, under its settings at `settingsVersion` (see `deferCampaigns`). */
export interface CampaignDeferral {
  campaignId: string
  until: Date
  settingsVersion: number
}

export interface RunnableCampaign {
  campaign: Campaign
  /** Earliest `scheduledAt` of its pending items; null when it has none and nothing is sending. */
  nextItemAt: Date | null
}

export interface MailboxCandidate {
  mailboxId: string
  /** The mailbox's local day now, from `dayKey()`. */
  dayKey: string
  dailyEmailLimit: number
  /** Message-ID the item takes if it leaves from this mailbox. */
  messageId: string
}

export interface ReserveRequest {
  campaignId: string
  leaseToken: string
  leaseUntil: Date
  /** The campaign's window day now (a window crossing midnight counts for the day it opened). */
  campaignDayKey: string
  maxEmailsPerDay: number
  /** Pacing: the campaign's next slot if this reservation succeeds. */
  nextSlotAt: Date
  /** Mailboxes to try, in core's preferred order; paused ones are already left out. */
  mailboxes: readonly MailboxCandidate[]
  /**
   * Optional: the campaign's mailbox ids in rotation order (its `mailboxIds`). When given, an
   * unassigned item tries the candidates in rotation from the one after the campaign's
   * `lastMailboxId` as the store holds it when this request is handled (wrapping; from the first
   * when it is null or not in the list), then any candidate not in the list in the order given
   * (the store kit's `rotationTurn(request, lastMailboxId)` computes this turn). The
   * order of `mailboxes` then no longer matters for unassigned items. This is what lets core put
   * several requests of one campaign in one batch and still spread first emails round-robin.
   */
  rotation?: readonly string[]
  /**
   * Optional: the window keys whose items may leave now (their window is open, no skip date or
   * holiday blocks them). When given, items with any other `windowKey` are passed over (step 2).
   * Absent: every key may leave.
   */
  windowKeys?: readonly string[]
}

export type SkipReason =
  | 'not-running'
  | 'pacing'
  | 'campaign-limit'
  | 'queue-empty'
  | 'window-closed'
  | 'not-due'
  | 'mailbox-limit'

export type ReserveOutcome =
  | { ok: true; send: ReservedSend }
  | { ok: false; reason: SkipReason; until?: Date }
  /** This request could not run (its connection failed); nothing changed for it. */
  | { ok: false; reason: 'store-unavailable'; error: Error }

/** A reserved send: the item (now `sending`) and the lead it goes to. */
export interface ReservedSend {
  item: QueueItem
  lead: Lead
  /** Day keys the reservation counted on, for a refund. */
  campaignDayKey: string
  mailboxDayKey: string
  /** Earliest `scheduledAt` among the campaign's other `pending` items after this reservation, or null if none. */
  nextPendingAt: Date | null
}

interface CompletionBase {
  itemId: string
  leaseToken: string
  /**
   * The step variant core chose for the item (see `QueueItem.variantId`): whatever the `kind`, the
   * store writes it on the item in the same atomic step, but only while the item has none (the
   * first choice is kept for every later attempt). Absent or null: nothing to write.
   */
  variantId?: string | null
  /**
   * Give back what the reservation took (no mail left now): the campaign's day count (with
   * `campaignDayKey`), the mailbox's (with `mailboxId` and `mailboxDayKey`), and with
   * `nextSlotAt` (the slot the reservation set) the pacing slot: the campaign's `nextSlotAt`
   * becomes null, but only if it still equals `nextSlotAt` (compare-and-set: a later
   * reservation's or a recorded external send's slot is kept). Null means "free now", which is
   * what any value before it meant: a reservation succeeds only once the slot has passed.
   */
  refund?: { campaignDayKey?: string; mailboxId?: string; mailboxDayKey?: string; nextSlotAt?: Date }
}

export type Completion =
  | (CompletionBase & {
      kind: 'sent'
      messageId: string
      /** Subject actually sent, for the send log. */
      subject: string
      to: string
      next?: { step: number; scheduledAt: Date }
      /**
       * The email left earlier, from another system (`beforeSend` answered `alreadySent`): the item
       * and its send-log row take this `sentAt` instead of `now` and, with `mailboxId`, that
       * mailbox (the next step leaves from it). Default: sent now, from the reserved mailbox.
       */
      sentAt?: Date
      mailboxId?: string
    })
  | (CompletionBase & {
      kind: 'retry'
      retryAt: Date
      attempts: number
      error: string
      unassignMailbox?: boolean
    })
  | (CompletionBase & { kind: 'failed'; error: string; attempts: number; leadStatus?: 'bounced' | 'failed' })
  /** Not sent on purpose (the host's `beforeSend` vetoed it): the item becomes `cancelled`. */
  | (CompletionBase & { kind: 'cancelled'; reason: string })

export type CompletionOutcome = 'ok' | 'lease-lost'

export interface RecoveredItem {
  itemId: string
  campaignId: string
  leadId: string
  step: number
  status: 'failed' | 'pending'
}

/** Due pending items of a campaign tied to one mailbox, or (`mailboxId: null`) to none, with one window key. */
export interface DueCount {
  mailboxId: string | null
  windowKey: string
  count: number
}

/** One window key of a campaign's pending items (`Store.listWindowKeys`). */
export interface WindowKeyStat {
  windowKey: string
  /** Earliest `scheduledAt` among the campaign's pending items with this key. */
  nextAt: Date
}

export interface DayCountQuery {
  campaignId: string
  campaignDayKey: string
  mailboxes: ReadonlyArray<{ mailboxId: string; dayKey: string }>
}

export interface DayCounts {
  campaign: number
  /** Count per mailbox id for the day asked. */
  mailboxes: Record<string, number>
}

export interface SendLogEntry {
  campaignId: string
  leadId: string
  step: number
  mailboxId: string
  messageId: string
  to: string
  subject: string
  sentAt: Date
}

/** A page request of `Store.listCampaigns`. */
export interface CampaignListQuery {
  status?: CampaignStatus
  /** Id of the last campaign of the previous page; omitted for the first page. */
  after?: string
  /** Most campaigns returned, at least 1. */
  limit: number
}

/** A failed queue item with the address it was going to (`Store.listFailedSends`). */
export interface FailedSend {
  item: QueueItem
  to: string
}
