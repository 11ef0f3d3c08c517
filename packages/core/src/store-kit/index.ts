/**
 * The store kit: pure helpers a store adapter calls instead of re-deriving the rules of
 * `Store.reserveSends` (`@mailcadence/core/store-kit`). Each rule of a reservation lives here
 * once; an adapter only reads the facts (atomically, as its database allows) and writes the
 * outcome. The conformance suite (`@mailcadence/core/conformance`) checks the result either way.
 */
import type { CampaignStatus } from '../model/types.js'
import type {
  CounterStore,
  InboxStore,
  MailboxCandidate,
  MigrationStore,
  ReserveOutcome,
  ReserveRequest,
  SkipReason,
  Store,
} from '../store.js'

/** What an adapter read about a campaign when a reservation found nothing to take. */
export interface ReservationFacts {
  /** The campaign's status, or null when it does not exist. */
  status: CampaignStatus | null
  nextSlotAt: Date | null
  /** The campaign's count for the request's `campaignDayKey`. */
  campaignCount: number
  /** Earliest `scheduledAt` among all the campaign's pending items, or null when it has none. */
  earliestPendingAt: Date | null
  /**
   * Earliest `scheduledAt` among its pending items whose `windowKey` the request lists (all of
   * them when the request has no `windowKeys`), or null when none.
   */
  earliestListedAt: Date | null
}

/** A refused reservation with one of the contract's skip reasons. */
export type Refusal = Extract<ReserveOutcome, { ok: false; reason: SkipReason }>

/**
 * Why a reservation could not be made, in the order `Store.reserveSends` checks: `not-running`,
 * `pacing`, `campaign-limit`, `queue-empty`, `window-closed`, `not-due`, and `mailbox-limit` when
 * every earlier check passes (due items exist, none has a mailbox with room).
 */
export function refusalFor(req: ReserveRequest, facts: ReservationFacts, now: Date): Refusal {
  const nowMs = now.getTime()
  if (facts.status !== 'IN_PROGRESS') return { ok: false, reason: 'not-running' }
  if (facts.nextSlotAt !== null && facts.nextSlotAt.getTime() > nowMs)
    return { ok: false, reason: 'pacing', until: facts.nextSlotAt }
  if (facts.campaignCount >= req.maxEmailsPerDay) return { ok: false, reason: 'campaign-limit' }
  if (facts.earliestPendingAt === null) return { ok: false, reason: 'queue-empty' }
  if (facts.earliestListedAt === null) return { ok: false, reason: 'window-closed' }
  if (facts.earliestListedAt.getTime() > nowMs)
    return { ok: false, reason: 'not-due', until: facts.earliestListedAt }
  return { ok: false, reason: 'mailbox-limit' }
}

/** Whether a pending item with this window key may leave under the request (`ReserveRequest.windowKeys`). */
export function isKeyListed(req: ReserveRequest, windowKey: string): boolean {
  return req.windowKeys === undefined || req.windowKeys.includes(windowKey)
}

/**
 * An unassigned item's turn for each candidate of the request, lower first: with `rotation`, the
 * candidates in rotation from the one after `lastMailboxId` (wrapping; from the first when it is
 * null or not in the rotation), then those outside the rotation in the order given; without
 * `rotation`, the order given. The item leaves from the candidate with room whose turn is lowest.
 * `ord` is the candidate's index in `req.mailboxes`. Cheap enough for a hot path: the rotation's
 * positions are computed once per rotation array (core passes one array per campaign and tick).
 */
export function rotationTurn(
  req: ReserveRequest,
  lastMailboxId: string | null,
): (candidate: MailboxCandidate, ord: number) => number {
  const { rotation } = req
  if (rotation === undefined) return (_c, ord) => ord
  const position = positionsOf(rotation)
  const size = rotation.length
  const after = lastMailboxId === null ? -1 : (position.get(lastMailboxId) ?? -1)
  return (c, ord) => {
    const at = position.get(c.mailboxId)
    return at === undefined ? size + ord : (at - after - 1 + size) % size
  }
}

/** The request's candidates in the order of {@link rotationTurn}. */
export function candidatesInTurn(req: ReserveRequest, lastMailboxId: string | null): MailboxCandidate[] {
  const turn = rotationTurn(req, lastMailboxId)
  return req.mailboxes
    .map((c, ord) => ({ c, turn: turn(c, ord) }))
    .sort((a, b) => a.turn - b.turn)
    .map((x) => x.c)
}

const positions = new WeakMap<readonly string[], Map<string, number>>()
function positionsOf(rotation: readonly string[]): Map<string, number> {
  let position = positions.get(rotation)
  if (position === undefined) {
    position = new Map()
    for (let i = 0; i < rotation.length; i++) if (!position.has(rotation[i]!)) position.set(rotation[i]!, i)
    positions.set(rotation, position)
  }
  return position
}

/** Whether a store has the optional migration capability (`MigrationStore`: all three methods). */
export function supportsMigration(store: Store): store is Store & MigrationStore {
  return (
    typeof store.getCampaignByExternalId === 'function' &&
    typeof store.importLeads === 'function' &&
    typeof store.recordExternalSends === 'function'
  )
}

// Input checks for an adapter's own options (a store's or a transport's, as in
// @mailcadence/transport-smtp): the same `invalid-input` errors, naming the field, as core's.
export { invalidInput } from '../errors.js'
export { checkFunction, checkInteger, checkObject } from '../model/checks.js'
export { describeValue } from '../model/describe.js'

/** Whether a store has the optional inbox capability (`InboxStore`: all seven methods). */
export function supportsInbox(store: Store): store is Store & InboxStore {
  return (
    typeof store.findSentByMessageIds === 'function' &&
    typeof store.getInbound === 'function' &&
    typeof store.recordInbound === 'function' &&
    typeof store.postponeLead === 'function' &&
    typeof store.stopLeadsOfDomain === 'function' &&
    typeof store.getInboxCursor === 'function' &&
    typeof store.saveInboxCursor === 'function'
  )
}

/** Whether a store has the optional counters capability (`CounterStore`: all three methods). */
export function supportsCounters(store: Store): store is Store & CounterStore {
  return (
    typeof store.claimCounters === 'function' &&
    typeof store.releaseCounters === 'function' &&
    typeof store.readCounters === 'function'
  )
}
