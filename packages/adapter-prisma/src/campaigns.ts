/**
 * Campaigns: creation (once per `externalId`), settings, status changes (compare-and-set on the
 * status), auto-completion and the list every tick starts from.
 */
import type {
  Campaign,
  CampaignPatch,
  CampaignStatus,
  NewCampaign,
  RunnableCampaign,
} from '@mailcadence/core'
import { isMailcadenceError } from '@mailcadence/core'
import type { CampaignRow, Models } from './client.js'
import { invalidInput } from './errors.js'
import { MAX_KEY_LENGTH } from './imports.js'
import { campaignSettings, idOf, parseId, parseIds, toCampaign } from './rows.js'
import { Rollback, type Runner } from './runner.js'

/**
 * `Store.createCampaign`: a campaign with an `externalId` is created once. The transaction returns
 * the campaign that has it, if any, or inserts; two calls racing past that read both insert, the
 * unique key on `external_id` refuses the later one (`store-conflict`, after it waited for the
 * first to commit), and that one then returns the campaign the other created.
 */
export async function createCampaignOnce(run: Runner, input: NewCampaign, now: Date): Promise<Campaign> {
  const externalId = input.externalId ?? null
  if (externalId !== null && (externalId.length === 0 || externalId.length > MAX_KEY_LENGTH)) {
    throw invalidInput('externalId', `must be a string of 1 to ${MAX_KEY_LENGTH} characters`)
  }
  try {
    return await run.write('createCampaign', (tx) => createCampaign(tx, input, now))
  } catch (error) {
    if (externalId === null || !isMailcadenceError(error, 'store-conflict')) throw error
    const existing = await run.read('createCampaign', (db) => getCampaignByExternalId(db, externalId))
    if (existing === null) throw error
    return existing
  }
}

export async function createCampaign(tx: Models, input: NewCampaign, now: Date): Promise<Campaign> {
  if (input.externalId != null) {
    const existing = await getCampaignByExternalId(tx, input.externalId)
    if (existing !== null) return existing
  }
  const row = (await tx.mcCampaign.create({
    data: {
      ...campaignSettings(input),
      status: 'DRAFT',
      nextSlotAt: null,
      lastMailboxId: null,
      createdAt: now,
      updatedAt: now,
    },
  })) as CampaignRow
  return toCampaign(row)
}

export async function getCampaign(db: Models, idText: string): Promise<Campaign | null> {
  const id = parseId(idText)
  if (id === undefined) return null
  const row = (await db.mcCampaign.findUnique({ where: { id } })) as CampaignRow | null
  return row === null ? null : toCampaign(row)
}

export async function getCampaignByExternalId(db: Models, externalId: string): Promise<Campaign | null> {
  const row = (await db.mcCampaign.findUnique({ where: { externalId } })) as CampaignRow | null
  return row === null ? null : toCampaign(row)
}

export async function updateCampaign(
  tx: Models,
  idText: string,
  patch: CampaignPatch,
  now: Date,
): Promise<Campaign | null> {
  const id = parseId(idText)
  if (id === undefined) return null
  const changed = await tx.mcCampaign.updateMany({
    where: { id },
    // The version moves in the same write as the settings (see Campaign.settingsVersion).
    data: { ...campaignSettings(patch), updatedAt: now, settingsVersion: { increment: 1 } },
  })
  return changed.count === 0 ? null : getCampaign(tx, idText)
}

export async function setCampaignStatus(
  tx: Models,
  idText: string,
  change: { from: readonly CampaignStatus[]; to: CampaignStatus; cancelPending?: string },
  now: Date,
): Promise<{ changed: boolean; campaign: Campaign } | null> {
  const id = parseId(idText)
  if (id === undefined) return null
  // Compare-and-set; it waits for any reservation of the campaign in flight, and once it has
  // committed no reservation can take the slot (they require IN_PROGRESS).
  const moved = await tx.mcCampaign.updateMany({
    where: { id, status: { in: [...change.from] } },
    data: { status: change.to, updatedAt: now },
  })
  if (moved.count === 1 && change.cancelPending !== undefined) {
    await tx.mcQueueItem.updateMany({
      where: { campaignId: id, status: 'pending' },
      data: { status: 'cancelled', lastError: change.cancelPending, updatedAt: now },
    })
  }
  const campaign = await getCampaign(tx, idText)
  return campaign === null ? null : { changed: moved.count === 1, campaign }
}

/**
 * `IN_PROGRESS → COMPLETED` when nothing is pending or sending. The status moves first (locking the
 * row, so a concurrent `addLeads` or completion waits), then the queue is checked; if anything is
 * left the move is rolled back.
 */
export async function completeIfDrained(tx: Models, idText: string, now: Date): Promise<boolean> {
  const id = parseId(idText)
  if (id === undefined) return false
  const moved = await tx.mcCampaign.updateMany({
    where: { id, status: 'IN_PROGRESS' },
    data: { status: 'COMPLETED', updatedAt: now },
  })
  if (moved.count === 0) return false
  const left = await tx.mcQueueItem.findFirst({
    where: { campaignId: id, status: { in: ['pending', 'sending'] } },
    select: { id: true },
  })
  if (left !== null) throw new Rollback(false)
  return true
}

/**
 * Campaigns `IN_PROGRESS` with their earliest pending item, and drained ones (nothing pending or
 * sending) with `nextItemAt: null`. Reads only pending and sending items through the
 * (campaign, status, scheduled_at) index, never the sent history.
 */
export async function listRunnableCampaigns(
  db: Models,
  filter?: { ids?: readonly string[] },
): Promise<RunnableCampaign[]> {
  const where: Record<string, unknown> = { status: 'IN_PROGRESS' }
  if (filter?.ids !== undefined) where.id = { in: parseIds(filter.ids) }
  const rows = (await db.mcCampaign.findMany({ where, orderBy: { id: 'asc' } })) as CampaignRow[]
  if (rows.length === 0) return []
  const ids = rows.map((r) => r.id)
  const pending = (await db.mcQueueItem.groupBy({
    by: ['campaignId'],
    where: { campaignId: { in: ids }, status: 'pending' },
    _min: { scheduledAt: true },
  })) as Array<{ campaignId: bigint; _min: { scheduledAt: Date | null } }>
  const earliest = new Map(pending.map((p) => [idOf(p.campaignId), p._min.scheduledAt]))
  const idle = ids.filter((id) => !earliest.has(idOf(id)))
  const busy = new Set<string>()
  if (idle.length > 0) {
    const sending = (await db.mcQueueItem.groupBy({
      by: ['campaignId'],
      where: { campaignId: { in: idle }, status: 'sending' },
      _count: { _all: true },
    })) as Array<{ campaignId: bigint }>
    for (const s of sending) busy.add(idOf(s.campaignId))
  }
  const out: RunnableCampaign[] = []
  for (const row of rows) {
    const id = idOf(row.id)
    if (busy.has(id)) continue
    out.push({ campaign: toCampaign(row), nextItemAt: earliest.get(id) ?? null })
  }
  return out
}
