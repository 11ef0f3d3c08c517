/**
 * `Store.reserveSends` on the memory store. The rules come from the store kit: `refusalFor` says
 * why a request is refused (and in which order the checks go), `rotationTurn` which mailbox an
 * unassigned item takes. This module only reads the facts and takes the item.
 */
import type { MailboxCandidate, ReserveOutcome, ReserveRequest } from '../index.js'
import { type ReservationFacts, refusalFor, rotationTurn } from '../store-kit/index.js'
import { copyDate, copyItem, copyLead } from './copy.js'
import type { PendingHeap } from './heap.js'
import { setItemStatus } from './items.js'
import { isBefore, type KeyQueue } from './pending.js'
import { type CampaignRecord, counterKey, type ItemRecord, mailboxCounterKey, type State } from './state.js'

/**
 * One reservation, as `Store.reserveSends` specifies: every check is made before anything is
 * written, so a refused request changes nothing, and the whole function is synchronous, so no
 * other call of this store can interleave with it (the compare-and-set the contract asks for).
 */
export function reserveOne(state: State, req: ReserveRequest, now: Date): ReserveOutcome {
  const cs = state.campaigns.get(req.campaignId)
  const nowMs = now.getTime()
  const campaignKey = counterKey(req.campaignId, req.campaignDayKey)
  const campaignCount = state.campaignDayCounts.get(campaignKey) ?? 0
  // Only the listed keys' queues are looked at: items of other keys are passed over at no cost.
  const listed = cs?.pending.queuesOf(req.windowKeys) ?? []
  const earliestListed = cs?.pending.earliest(listed)
  const earliest = req.windowKeys === undefined ? earliestListed : cs?.pending.earliest()
  const facts: ReservationFacts = {
    status: cs?.campaign.status ?? null,
    nextSlotAt: copyDate(cs?.campaign.nextSlotAt ?? null),
    campaignCount,
    earliestPendingAt: earliest === undefined ? null : new Date(earliest.scheduledAt),
    earliestListedAt: earliestListed === undefined ? null : new Date(earliestListed.scheduledAt),
  }
  // Every check but the mailboxes' is decided on the facts; `mailbox-limit` means they all passed.
  const refusal = refusalFor(req, facts, now)
  if (refusal.reason !== 'mailbox-limit' || cs === undefined || earliestListed === undefined) return refusal
  const choice = choose(state, cs, req, listed, earliestListed, nowMs)
  if (choice === undefined) return refusal

  // Every check passed: claim the pacing slot, both day counts and the item together.
  const { item, heap, candidate } = choice
  const campaign = cs.campaign
  const mailboxKey = mailboxCounterKey(state, candidate.mailboxId, candidate.dayKey)
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
  const next = cs.pending.earliest()

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
 * The oldest due item of the listed queues that can leave, and from where: the earliest due head
 * among the heaps that can leave, which are, in each listed queue, the heap of each candidate
 * mailbox with room (its sticky items) and the unassigned heap (from the candidate with room whose
 * turn it is, see {@link firstInTurn}). Heaps of full or non-candidate mailboxes never count.
 * `earliest` is the earliest pending item of the listed queues, due.
 */
function choose(
  state: State,
  cs: CampaignRecord,
  req: ReserveRequest,
  listed: readonly KeyQueue[],
  earliest: ItemRecord,
  nowMs: number,
): Choice | undefined {
  // Usually the earliest listed item can leave, and then it is the one: no other heap is looked at.
  const earliestHeap = cs.pending.heapOf(earliest)
  if (earliest.mailboxId === null) {
    const first = firstInTurn(state, req, cs.campaign.lastMailboxId)
    return first === undefined ? undefined : { item: earliest, heap: earliestHeap, candidate: first }
  }
  const own = req.mailboxes.find((c) => c.mailboxId === earliest.mailboxId)
  if (own !== undefined && hasRoom(state, own)) return { item: earliest, heap: earliestHeap, candidate: own }

  // Otherwise the earliest due sticky item of a candidate with room, or an older unassigned one.
  let best: Choice | undefined
  let unassigned: { item: ItemRecord; heap: PendingHeap<ItemRecord> } | undefined
  // Each listed key's mailbox heaps are visited (those with sticky items only), not every candidate
  // per key. A mailbox offered twice is the first offer, as `find` above takes it.
  const candidates = new Map<string, MailboxCandidate>()
  for (const c of req.mailboxes) if (!candidates.has(c.mailboxId)) candidates.set(c.mailboxId, c)
  for (const queue of listed) {
    for (const [mailboxId, heap] of queue.byMailbox) {
      const candidate = candidates.get(mailboxId)
      const top = candidate === undefined ? undefined : heap.peek()
      if (candidate === undefined || top === undefined || top.scheduledAt > nowMs) continue
      // The day count is only looked up for a candidate that would be the best so far.
      if ((best === undefined || isBefore(top, best.item)) && hasRoom(state, candidate)) {
        best = { item: top, heap, candidate }
      }
    }
    const top = queue.unassigned.peek()
    if (
      top !== undefined &&
      top.scheduledAt <= nowMs &&
      (unassigned === undefined || isBefore(top, unassigned.item))
    )
      unassigned = { item: top, heap: queue.unassigned }
  }
  if (unassigned !== undefined && (best === undefined || isBefore(unassigned.item, best.item))) {
    const first = firstInTurn(state, req, cs.campaign.lastMailboxId)
    if (first !== undefined) return { ...unassigned, candidate: first }
  }
  return best
}

/** The candidate with room an unassigned item leaves from: the lowest `rotationTurn` with room. */
function firstInTurn(
  state: State,
  req: ReserveRequest,
  lastMailboxId: string | null,
): MailboxCandidate | undefined {
  const turn = rotationTurn(req, lastMailboxId)
  const candidates = req.mailboxes
  let first: MailboxCandidate | undefined
  let firstTurn = Number.POSITIVE_INFINITY
  for (let ord = 0; ord < candidates.length; ord++) {
    const candidate = candidates[ord]!
    const at = turn(candidate, ord)
    // The day count is only looked up for a candidate that would come first so far.
    if (at < firstTurn && hasRoom(state, candidate)) {
      first = candidate
      firstTurn = at
    }
  }
  return first
}

/** Whether a candidate mailbox has sent fewer emails than its daily limit on its day. */
function hasRoom(state: State, c: MailboxCandidate): boolean {
  const count = state.mailboxDayCounts.get(mailboxCounterKey(state, c.mailboxId, c.dayKey)) ?? 0
  return count < c.dailyEmailLimit
}
