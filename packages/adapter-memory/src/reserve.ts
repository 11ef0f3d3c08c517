import type { MailboxCandidate, ReserveOutcome, ReserveRequest } from '@mailcadence/core'
import type { PendingHeap } from './heap.js'
import {
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

interface Choice {
  item: ItemRecord
  heap: PendingHeap<ItemRecord>
  candidate: MailboxCandidate
}

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

  // The oldest due item that can leave is the earliest due head among the heaps that can leave:
  // each candidate mailbox with room (its sticky items), and `unassigned` from the first
  // candidate with room. Heaps of full or non-candidate mailboxes are never looked at.
  // With a rotation, an unassigned item takes the candidate with room that comes first in rotation
  // after the campaign's lastMailboxId (candidates outside the rotation after all of them).
  let choice: Choice | undefined
  let firstWithRoom: MailboxCandidate | undefined
  const rotation = req.rotation === undefined ? undefined : rotationIndex(req.rotation)
  const size = req.rotation?.length ?? 0
  const after =
    rotation === undefined || campaign.lastMailboxId === null
      ? -1
      : (rotation.get(campaign.lastMailboxId) ?? -1)
  let firstKey = Number.POSITIVE_INFINITY
  const candidates = req.mailboxes
  for (let ord = 0; ord < candidates.length; ord++) {
    const candidate = candidates[ord]!
    const used = state.mailboxDayCounts.get(mailboxKeyOf(candidate.mailboxId, candidate.dayKey)) ?? 0
    if (used >= candidate.dailyEmailLimit) continue
    if (rotation === undefined) firstWithRoom ??= candidate
    else {
      const at = rotation.get(candidate.mailboxId)
      const key = at === undefined ? size + ord : (at - after - 1 + size) % size
      if (key < firstKey) {
        firstKey = key
        firstWithRoom = candidate
      }
    }
    const heap = cs.byMailbox.get(candidate.mailboxId)
    const top = heap?.peek()
    if (heap === undefined || top === undefined || top.scheduledAt > nowMs) continue
    if (choice === undefined || isBefore(top, choice.item)) choice = { item: top, heap, candidate }
  }
  if (firstWithRoom !== undefined) {
    const top = cs.unassigned.peek()
    if (
      top !== undefined &&
      top.scheduledAt <= nowMs &&
      (choice === undefined || isBefore(top, choice.item))
    ) {
      choice = { item: top, heap: cs.unassigned, candidate: firstWithRoom }
    }
  }
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
