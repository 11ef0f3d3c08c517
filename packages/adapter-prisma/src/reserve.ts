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
 * If any step fails the transaction rolls back (`Rollback`), so a refused request changes nothing;
 * why it was refused is then read from what is committed and decided by the store kit's
 * `refusalFor`, which holds the order of the reasons.
 */
import type { MailboxCandidate, ReserveOutcome, ReserveRequest } from '@mailcadence/core'
import { candidatesInTurn, type ReservationFacts, refusalFor } from '@mailcadence/core/store-kit'
import type { CampaignRow, ItemRow, LeadRow, Models } from './client.js'
import { claimDay, readDays, releaseDay } from './counters.js'
import type { Provider } from './provider.js'
import { parseId, toItem, toLead } from './rows.js'
import { Rollback, type Runner } from './runner.js'

interface Candidate extends MailboxCandidate {
  id: bigint
}

const OLDEST_FIRST = [{ scheduledAt: 'asc' }, { id: 'asc' }]

/** What a reservation's transaction returns when it took nothing (and rolled back). */
const REFUSED = 'refused'

/** One request of `Store.reserveSends`: its transaction, then, if refused, why. */
export async function reserve(
  run: Runner,
  provider: Provider,
  req: ReserveRequest,
  now: Date,
): Promise<ReserveOutcome> {
  const taken = await run.write('reserveSends', (tx) => reserveOne(tx, provider, req, now))
  if (taken !== REFUSED) return taken
  const facts = await run.read('reserveSends', (db) => refusalFacts(db, req))
  return refusalFor(req, facts, now)
}

/** The request's window-key filter on queue items (`ReserveRequest.windowKeys`), none without it. */
function listedKeys(req: ReserveRequest): Record<string, unknown> {
  return req.windowKeys === undefined ? {} : { windowKey: { in: [...req.windowKeys] } }
}

async function reserveOne(
  tx: Models,
  provider: Provider,
  req: ReserveRequest,
  now: Date,
): Promise<ReserveOutcome | typeof REFUSED> {
  const campaignId = parseId(req.campaignId)
  if (campaignId === undefined) return REFUSED

  // 1. The pacing slot (and the campaign's row lock).
  const slot = await tx.mcCampaign.updateMany({
    where: {
      id: campaignId,
      status: 'IN_PROGRESS',
      OR: [{ nextSlotAt: null }, { nextSlotAt: { lte: now } }],
    },
    data: { nextSlotAt: req.nextSlotAt },
  })
  if (slot.count === 0) return REFUSED

  // 2. The campaign's day count.
  if (!(await claimDay(tx, provider, 'campaign', campaignId, req.campaignDayKey, req.maxEmailsPerDay))) {
    throw new Rollback(REFUSED)
  }

  // 3 and 4. The oldest due item with a listed key that can leave from a candidate with room, and
  // that mailbox's slot. Unassigned items take the candidates in the rotation's turn, from the one
  // after the campaign's lastMailboxId (read under the row lock step 1 took).
  const lastMailboxId =
    req.rotation === undefined
      ? null
      : ((
          (await tx.mcCampaign.findUnique({
            where: { id: campaignId },
            select: { lastMailboxId: true },
          })) as Pick<CampaignRow, 'lastMailboxId'> | null
        )?.lastMailboxId ?? null)
  const candidates: Candidate[] = []
  for (const c of candidatesInTurn(req, lastMailboxId === null ? null : String(lastMailboxId))) {
    const id = parseId(c.mailboxId)
    if (id !== undefined) candidates.push({ ...c, id })
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
        ...listedKeys(req),
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
  throw new Rollback(REFUSED)
}

/**
 * What `refusalFor` decides on, read after the refused transaction rolled back: the campaign's
 * status and slot, its count for the request's day, its earliest pending item, and its earliest
 * pending item with a listed key (each an indexed read of one row).
 */
async function refusalFacts(db: Models, req: ReserveRequest): Promise<ReservationFacts> {
  const campaignId = parseId(req.campaignId)
  const none: ReservationFacts = {
    status: null,
    nextSlotAt: null,
    campaignCount: 0,
    earliestPendingAt: null,
    earliestListedAt: null,
  }
  if (campaignId === undefined) return none
  const campaign = (await db.mcCampaign.findUnique({
    where: { id: campaignId },
    select: { status: true, nextSlotAt: true },
  })) as Pick<CampaignRow, 'status' | 'nextSlotAt'> | null
  if (campaign === null) return none
  const days = await readDays(db, 'campaign', [{ id: campaignId, dayKey: req.campaignDayKey }])
  const earliest = async (where: Record<string, unknown>) => {
    const first = (await db.mcQueueItem.findFirst({
      where: { campaignId, status: 'pending', ...where },
      orderBy: OLDEST_FIRST,
      select: { scheduledAt: true },
    })) as Pick<ItemRow, 'scheduledAt'> | null
    return first?.scheduledAt ?? null
  }
  const earliestPendingAt = await earliest({})
  return {
    status: campaign.status as ReservationFacts['status'],
    nextSlotAt: campaign.nextSlotAt,
    campaignCount: days.get(`${campaignId}|${req.campaignDayKey}`) ?? 0,
    earliestPendingAt,
    earliestListedAt:
      req.windowKeys === undefined || earliestPendingAt === null
        ? earliestPendingAt
        : await earliest(listedKeys(req)),
  }
}
