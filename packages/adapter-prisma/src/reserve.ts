/**
 * One reservation (`Store.reserveSends`), in one transaction. Every step that claims something is
 * a compare-and-set `updateMany` whose count of 0 means "lost the race", never a read followed by
 * a write:
 *
 * 1. the campaign's pacing slot: `UPDATE campaign SET next_slot_at = … WHERE status = 'IN_PROGRESS'
 *    AND (next_slot_at IS NULL OR next_slot_at <= now)`. It also locks the campaign's row until the
 *    transaction ends, so reservations of one campaign (and its status changes) take turns;
 * 2. the campaign's count for its window day, below `maxEmailsPerDay`;
 * 3. the chosen mailbox's count for its local day, below its `dailyEmailLimit`;
 * 4. the queue item: `UPDATE item SET status = 'sending' … WHERE status = 'pending'`.
 *
 * If any step fails the transaction rolls back (`Rollback`), so a refused request changes nothing.
 */
import type { MailboxCandidate, ReserveOutcome, ReserveRequest, SkipReason } from '@mailcadence/core'
import type { CampaignRow, ItemRow, LeadRow, Models } from './client.js'
import { claimDay, readDays, releaseDay } from './counters.js'
import type { Provider } from './provider.js'
import { parseId, toItem, toLead } from './rows.js'
import { Rollback } from './runner.js'

interface Candidate extends MailboxCandidate {
  id: bigint
}

const OLDEST_FIRST = [{ scheduledAt: 'asc' }, { id: 'asc' }]

export async function reserveOne(
  tx: Models,
  provider: Provider,
  req: ReserveRequest,
  now: Date,
): Promise<ReserveOutcome> {
  const campaignId = parseId(req.campaignId)
  if (campaignId === undefined) return { ok: false, reason: 'not-running' }

  // 1. The pacing slot (and the campaign's row lock).
  const slot = await tx.mcCampaign.updateMany({
    where: {
      id: campaignId,
      status: 'IN_PROGRESS',
      OR: [{ nextSlotAt: null }, { nextSlotAt: { lte: now } }],
    },
    data: { nextSlotAt: req.nextSlotAt },
  })
  if (slot.count === 0) {
    const campaign = (await tx.mcCampaign.findUnique({
      where: { id: campaignId },
      select: { status: true, nextSlotAt: true },
    })) as Pick<CampaignRow, 'status' | 'nextSlotAt'> | null
    if (campaign === null || campaign.status !== 'IN_PROGRESS') return { ok: false, reason: 'not-running' }
    return { ok: false, reason: 'pacing', until: campaign.nextSlotAt ?? now }
  }

  // 2. The campaign's day count.
  if (!(await claimDay(tx, provider, 'campaign', campaignId, req.campaignDayKey, req.maxEmailsPerDay))) {
    throw new Rollback<ReserveOutcome>({ ok: false, reason: 'campaign-limit' })
  }

  // 3 and 4. The oldest due item that can leave from a candidate with room, and that mailbox's slot.
  const candidates: Candidate[] = []
  for (const c of req.mailboxes) {
    const id = parseId(c.mailboxId)
    if (id !== undefined) candidates.push({ ...c, id })
  }
  if (req.rotation !== undefined) {
    // Rotation: unassigned items take the candidates from the one after the campaign's lastMailboxId
    // (read under the row lock step 1 took), then those outside the rotation, in the order given.
    const rotation = req.rotation
    const row = (await tx.mcCampaign.findUnique({
      where: { id: campaignId },
      select: { lastMailboxId: true },
    })) as Pick<CampaignRow, 'lastMailboxId'> | null
    const last = row?.lastMailboxId == null ? -1 : rotation.indexOf(String(row.lastMailboxId))
    const key = (c: Candidate, ord: number) => {
      const at = rotation.indexOf(c.mailboxId)
      return at < 0 ? rotation.length + ord : (at - last - 1 + rotation.length) % rotation.length
    }
    const keyed = candidates.map((c, ord) => ({ c, k: key(c, ord) })).sort((a, b) => a.k - b.k)
    candidates.splice(0, candidates.length, ...keyed.map((x) => x.c))
  }
  const used = await readDays(tx, 'mailbox', candidates)
  let withRoom = candidates.filter((c) => (used.get(`${c.mailboxId}|${c.dayKey}`) ?? 0) < c.dailyEmailLimit)
  const lost: bigint[] = []
  while (withRoom.length > 0) {
    const item = (await tx.mcQueueItem.findFirst({
      where: {
        campaignId,
        status: 'pending',
        scheduledAt: { lte: now },
        OR: [{ mailboxId: { in: withRoom.map((c) => c.id) } }, { mailboxId: null }],
        ...(lost.length > 0 ? { id: { notIn: lost } } : {}),
      },
      orderBy: OLDEST_FIRST,
      include: { lead: true },
    })) as (ItemRow & { lead: LeadRow }) | null
    if (item === null) break
    // A sticky item leaves from its mailbox; an unassigned one from the first candidate with room.
    const candidate = item.mailboxId === null ? withRoom[0]! : withRoom.find((c) => c.id === item.mailboxId)!
    if (
      !(await claimDay(tx, provider, 'mailbox', candidate.id, candidate.dayKey, candidate.dailyEmailLimit))
    ) {
      withRoom = withRoom.filter((c) => c !== candidate) // filled up meanwhile by another campaign
      continue
    }
    const fields = {
      status: 'sending',
      leaseToken: req.leaseToken,
      leaseUntil: req.leaseUntil,
      mailboxId: candidate.id,
      messageId: candidate.messageId,
      resCampaignDayKey: req.campaignDayKey,
      resMailboxDayKey: candidate.dayKey,
      updatedAt: now,
    }
    const taken = await tx.mcQueueItem.updateMany({ where: { id: item.id, status: 'pending' }, data: fields })
    if (taken.count === 0) {
      // Cancelled (a stop) since we read it: give the mailbox slot back and look again.
      await releaseDay(tx, 'mailbox', candidate.id, candidate.dayKey)
      lost.push(item.id)
      continue
    }
    if (item.mailboxId === null) {
      await tx.mcCampaign.updateMany({ where: { id: campaignId }, data: { lastMailboxId: candidate.id } })
    }
    const next = (await tx.mcQueueItem.findFirst({
      where: { campaignId, status: 'pending' },
      orderBy: OLDEST_FIRST,
      select: { scheduledAt: true },
    })) as Pick<ItemRow, 'scheduledAt'> | null
    const { lead, ...row } = item
    return {
      ok: true,
      send: {
        item: toItem({ ...row, ...fields }),
        lead: toLead(lead),
        campaignDayKey: req.campaignDayKey,
        mailboxDayKey: candidate.dayKey,
        nextPendingAt: next?.scheduledAt ?? null,
      },
    }
  }
  throw new Rollback<ReserveOutcome>(await whyNothingLeaves(tx, campaignId, now))
}

/** `queue-empty`, `not-due` (until the earliest item) or `mailbox-limit`, in the contract's order. */
async function whyNothingLeaves(tx: Models, campaignId: bigint, now: Date): Promise<ReserveOutcome> {
  const earliest = (await tx.mcQueueItem.findFirst({
    where: { campaignId, status: 'pending' },
    orderBy: OLDEST_FIRST,
    select: { scheduledAt: true },
  })) as Pick<ItemRow, 'scheduledAt'> | null
  const fail = (reason: SkipReason, until?: Date): ReserveOutcome =>
    until === undefined ? { ok: false, reason } : { ok: false, reason, until }
  if (earliest === null) return fail('queue-empty')
  if (earliest.scheduledAt.getTime() > now.getTime()) return fail('not-due', earliest.scheduledAt)
  return fail('mailbox-limit')
}
