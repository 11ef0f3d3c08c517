import type { MailboxCandidate, ReserveOutcome, ReserveRequest } from '@mailcadence/core'
import type { PendingHeap } from './heap.js'
import {
  type CampaignRecord,
  copyDate,
  copyItem,
  copyLead,
  counterKey,
  earliestPending,
  type ItemRecord,
  isBefore,
  type State,
  setItemStatus,
} from './state.js'

/**
 * One reservation, as `Store.reserveSends` specifies: every check is made before anything is
 * written, so a refused request changes nothing, and the whole function is synchronous, so no
 * other call of this store can interleave with it (the compare-and-set the contract asks for).
 */
export function reserveOne(state: State, req: ReserveRequest, now: Date): ReserveOutcome {
  const cs = state.campaigns.get(req.campaignId)
  if (cs === undefined || cs.campaign.status !== 'IN_PROGRESS') return { ok: false, reason: 'not-running' }
  const campaign = cs.campaign
  const nowMs = now.getTime()

  if (campaign.nextSlotAt !== null && campaign.nextSlotAt.getTime() > nowMs) {
    return { ok: false, reason: 'pacing', until: copyDate(campaign.nextSlotAt) }
  }
  const campaignKey = counterKey(campaign.id, req.campaignDayKey)
  const campaignCount = state.campaignDayCounts.get(campaignKey) ?? 0
  if (campaignCount >= req.maxEmailsPerDay) return { ok: false, reason: 'campaign-limit' }

  const earliest = earliestPending(cs)
  if (earliest === undefined) return { ok: false, reason: 'queue-empty' }
  if (earliest.scheduledAt > nowMs)
    return { ok: false, reason: 'not-due', until: new Date(earliest.scheduledAt) }

  const choice = choose(state, cs, req, earliest, nowMs)
  if (choice === undefined) return { ok: false, reason: 'mailbox-limit' }

  // Every check passed: claim the pacing slot, both day counts and the item together.
  const { item, heap, candidate } = choice
  const mailboxKey = mailboxKeyOf(candidate.mailboxId, candidate.dayKey)
  campaign.nextSlotAt = copyDate(req.nextSlotAt)
  state.campaignDayCounts.set(campaignKey, campaignCount + 1)
  state.mailboxDayCounts.set(mailboxKey, (state.mailboxDayCounts.get(mailboxKey) ?? 0) + 1)
  if (item.mailboxId === null) {
    campaign.lastMailboxId = candidate.mailboxId
    item.mailboxId = candidate.mailboxId
  }
  heap.removeTop()
  setItemStatus(state, cs, item, 'sending')
  item.leaseToken = req.leaseToken
  item.leaseUntil = req.leaseUntil.getTime()
  item.messageId = candidate.messageId
  item.updatedAt = nowMs
  item.resCampaignDayKey = req.campaignDayKey
  item.resMailboxDayKey = candidate.dayKey
  const next = earliestPending(cs)

  return {
    ok: true,
    send: {
      item: copyItem(item),
      lead: copyLead(item.lead),
      campaignDayKey: req.campaignDayKey,
      mailboxDayKey: candidate.dayKey,
      nextPendingAt: next === undefined ? null : new Date(next.scheduledAt),
    },
  }
}

/** What a reservation takes: an item, the heap it is the top of, and the mailbox it leaves from. */
interface Choice {
  item: ItemRecord
  heap: PendingHeap<ItemRecord>
  candidate: MailboxCandidate
}

/**
 * The oldest due item that can leave, and from where: the earliest due head among the heaps that
 * can leave, which are each candidate mailbox with room (its sticky items) and `unassigned` (from
 * the candidate with room whose turn it is, see {@link firstInTurn}). Heaps of full or
 * non-candidate mailboxes never count. `earliest` is the campaign's earliest pending item, due.
 */
function choose(
  state: State,
  cs: CampaignRecord,
  req: ReserveRequest,
  earliest: ItemRecord,
  nowMs: number,
): Choice | undefined {
  // Usually the earliest pending item can leave, and then it is the one: no other heap is looked at.
  if (earliest.mailboxId === null) {
    const first = firstInTurn(state, req, cs.campaign.lastMailboxId)
    return first === undefined ? undefined : { item: earliest, heap: cs.unassigned, candidate: first }
  }
  const own = req.mailboxes.find((c) => c.mailboxId === earliest.mailboxId)
  const ownHeap = cs.byMailbox.get(earliest.mailboxId)
  if (own !== undefined && ownHeap !== undefined && hasRoom(state, own)) {
    return { item: earliest, heap: ownHeap, candidate: own }
  }

  // Otherwise the earliest due sticky item of a candidate with room, or an older unassigned one.
  let best: Choice | undefined
  for (const candidate of req.mailboxes) {
    const heap = cs.byMailbox.get(candidate.mailboxId)
    const top = heap?.peek()
    if (heap === undefined || top === undefined || top.scheduledAt > nowMs) continue
    // The day count is only looked up for a candidate that would be the best so far.
    if ((best === undefined || isBefore(top, best.item)) && hasRoom(state, candidate)) {
      best = { item: top, heap, candidate }
    }
  }
  const unassigned = cs.unassigned.peek()
  if (
    unassigned !== undefined &&
    unassigned.scheduledAt <= nowMs &&
    (best === undefined || isBefore(unassigned, best.item))
  ) {
    const first = firstInTurn(state, req, cs.campaign.lastMailboxId)
    if (first !== undefined) return { item: unassigned, heap: cs.unassigned, candidate: first }
  }
  return best
}

/**
 * The candidate with room an unassigned item leaves from. With a rotation, the first in rotation
 * after the campaign's `lastMailboxId` (from the start of the list when it is null or not in it;
 * candidates outside the rotation after all of them); without one, the first in the order given.
 */
function firstInTurn(
  state: State,
  req: ReserveRequest,
  lastMailboxId: string | null,
): MailboxCandidate | undefined {
  const candidates = req.mailboxes
  if (req.rotation === undefined) return candidates.find((c) => hasRoom(state, c))
  const rotation = rotationIndex(req.rotation)
  const size = req.rotation.length
  const after = lastMailboxId === null ? -1 : (rotation.get(lastMailboxId) ?? -1)
  let first: MailboxCandidate | undefined
  let firstKey = Number.POSITIVE_INFINITY
  for (let ord = 0; ord < candidates.length; ord++) {
    const candidate = candidates[ord]!
    const at = rotation.get(candidate.mailboxId)
    const key = at === undefined ? size + ord : (at - after - 1 + size) % size
    // The day count is only looked up for a candidate that would come first so far.
    if (key < firstKey && hasRoom(state, candidate)) {
      first = candidate
      firstKey = key
    }
  }
  return first
}

/** Whether a candidate mailbox has sent fewer emails than its daily limit on its day. */
function hasRoom(state: State, c: MailboxCandidate): boolean {
  return (state.mailboxDayCounts.get(mailboxKeyOf(c.mailboxId, c.dayKey)) ?? 0) < c.dailyEmailLimit
}

/**
 * Position of each id in a rotation list. Core passes the same array for every request of a
 * campaign in a tick, so the map is built once per list, not once per request.
 */
const rotationIndexes = new WeakMap<readonly string[], Map<string, number>>()
function rotationIndex(rotation: readonly string[]): Map<string, number> {
  let index = rotationIndexes.get(rotation)
  if (index === undefined) {
    index = new Map()
    for (let i = 0; i < rotation.length; i++) if (!index.has(rotation[i]!)) index.set(rotation[i]!, i)
    rotationIndexes.set(rotation, index)
  }
  return index
}

/**
 * `counterKey(mailboxId, dayKey)`, remembered per mailbox for its latest day: every request offers
 * every candidate mailbox, and building the key each time was most of a reservation's garbage.
 */
const mailboxKeys = new Map<string, { dayKey: string; key: string }>()
function mailboxKeyOf(mailboxId: string, dayKey: string): string {
  const known = mailboxKeys.get(mailboxId)
  if (known !== undefined && known.dayKey === dayKey) return known.key
  if (mailboxKeys.size > 10_000) mailboxKeys.clear()
  const key = counterKey(mailboxId, dayKey)
  mailboxKeys.set(mailboxId, { dayKey, key })
  return key
}
