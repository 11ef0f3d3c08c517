/**
 * Which campaigns a tick runs. `listDueCampaigns` reads `can_send_from` (the campaign's next-due
 * bound, or its deferral when later) through a partial index, so an idle tick over thousands of
 * waiting campaigns reads only the due ones; the bound is raised when found stale, so a campaign
 * whose early items were sent is not read again until its next item is due.
 */
import type { CampaignDeferral, RunnableCampaign } from '@mailcadence/core'
import { type Db, idList, type Row } from '../db.js'
import { T, toCampaign } from './rows.js'

/** Earliest `scheduled_at` of the campaign's pending items (one index probe), or null. */
export function earliestPending(db: Db, campaignId: number | string): number | null {
  const row = db.get<{ at: number | null }>(
    `SELECT min(scheduled_at) AS at FROM ${T.items} WHERE campaign_id = ? AND status = 'pending'`,
    campaignId,
  )
  return row?.at ?? null
}

function isSending(db: Db, campaignId: number | string): boolean {
  return (
    db.get(
      `SELECT 1 AS one FROM ${T.items} WHERE campaign_id = ? AND status = 'sending' LIMIT 1`,
      campaignId,
    ) !== undefined
  )
}

/** A running campaign as a tick lists it, or undefined when all it has left is in flight. */
function runnable(db: Db, row: Row): RunnableCampaign | undefined {
  const earliest = earliestPending(db, row.id as number)
  if (earliest === null && isSending(db, row.id as number)) return undefined
  return { campaign: toCampaign(row), nextItemAt: earliest === null ? null : new Date(earliest) }
}

export function listRunnableCampaigns(db: Db, ids: readonly string[] | undefined): RunnableCampaign[] {
  const rows =
    ids === undefined
      ? db.all<Row>(`SELECT * FROM ${T.campaigns} WHERE status = 'IN_PROGRESS' ORDER BY id`)
      : db.all<Row>(
          `SELECT * FROM ${T.campaigns} WHERE status = 'IN_PROGRESS'
             AND id IN (SELECT value FROM json_each(?)) ORDER BY id`,
          idList(ids),
        )
  return rows.flatMap((row) => runnable(db, row) ?? [])
}

export interface DueListing {
  campaigns: RunnableCampaign[]
  laterAt: Date | null
  /** Campaigns whose bound was found stale: `raiseNextDue` them (it needs the write lock). */
  stale: number[]
}

/**
 * The running campaigns that may send by `dueBefore`, the drained ones, and the earliest instant
 * among the others. Candidates come from the index on `can_send_from`; each is checked against its
 * queue (one probe), since the bound may lag behind.
 */
export function listDueCampaigns(db: Db, dueBefore: Date, ids: readonly string[] | undefined): DueListing {
  const limit = dueBefore.getTime()
  const only = ids === undefined ? '' : 'AND id IN (SELECT value FROM json_each(?))'
  const args = ids === undefined ? [] : [idList(ids)]
  const candidates = [
    ...db.all<Row>(
      `SELECT * FROM ${T.campaigns} WHERE status = 'IN_PROGRESS' AND can_send_from IS NULL ${only}`,
      ...args,
    ),
    ...db.all<Row>(
      `SELECT * FROM ${T.campaigns} WHERE status = 'IN_PROGRESS' AND can_send_from <= ? ${only}`,
      limit,
      ...args,
    ),
  ]
  const later = db.get<{ at: number | null }>(
    `SELECT min(can_send_from) AS at FROM ${T.campaigns} WHERE status = 'IN_PROGRESS' AND can_send_from > ? ${only}`,
    limit,
    ...args,
  )
  let laterAt = later?.at ?? Number.POSITIVE_INFINITY
  const campaigns: RunnableCampaign[] = []
  const stale: number[] = []
  for (const row of candidates) {
    const id = row.id as number
    const earliest = earliestPending(db, id)
    if (earliest !== (row.next_due_at ?? null)) stale.push(id)
    if (earliest !== null && earliest > limit) {
      laterAt = Math.min(laterAt, earliest)
      continue
    }
    const r = runnable(db, row)
    if (r !== undefined) campaigns.push(r)
  }
  campaigns.sort((a, b) => Number(a.campaign.id) - Number(b.campaign.id))
  return { campaigns, laterAt: laterAt === Number.POSITIVE_INFINITY ? null : new Date(laterAt), stale }
}

/**
 * Sets the bound of these campaigns to their queue's earliest pending item, read under the write
 * lock: no item can become pending meanwhile, so the bound never runs ahead of the queue.
 */
export function raiseNextDue(db: Db, campaignIds: readonly number[]): void {
  for (const id of campaignIds) {
    db.run(
      `UPDATE ${T.campaigns} SET next_due_at = (
         SELECT min(scheduled_at) FROM ${T.items} WHERE campaign_id = ? AND status = 'pending')
       WHERE id = ?`,
      id,
      id,
    )
  }
}

/**
 * Remembers core's deferrals, each under the settings version it was computed from; a later
 * deferral of the same version is kept when it is further out. A campaign not running, or whose
 * settings changed since, is skipped.
 */
export function deferCampaigns(db: Db, deferrals: readonly CampaignDeferral[]): void {
  for (const d of deferrals) {
    db.run(
      `UPDATE ${T.campaigns}
       SET deferred_until = CASE
             WHEN deferred_version = settings_version AND deferred_until > ? THEN deferred_until ELSE ? END,
           deferred_version = settings_version
       WHERE id = ? AND status = 'IN_PROGRESS' AND settings_version = ?`,
      d.until.getTime(),
      d.until.getTime(),
      d.campaignId,
      d.settingsVersion,
    )
  }
}

/** Forgets a campaign's deferral: a new lead may be in a zone whose window opens sooner. */
export function forgetDeferral(db: Db, campaignId: number | string): void {
  db.run(
    `UPDATE ${T.campaigns} SET deferred_until = NULL WHERE id = ? AND deferred_until IS NOT NULL`,
    campaignId,
  )
}
