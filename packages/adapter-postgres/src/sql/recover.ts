/**
 * Lease recovery. Every tick calls it, so its common case (nothing expired) is one indexed query on
 * the partial index of `sending` rows. Rows locked by a completion in progress are skipped
 * (`SKIP LOCKED`): that completion decides them, and recovery never waits while holding rows.
 */
import type { RecoveredItem } from '@mailcadence/core'
import type { Session } from '../db.js'
import { REQUEUE_ENDED_SQL, type Row } from './rows.js'
import type { Tables } from './schema.js'

const RECOVERED = `q.id::text AS item_id, q.campaign_id::text AS campaign_id, q.lead_id::text AS lead_id,
  q.step, q.status`

function toRecovered(r: Row): RecoveredItem {
  return {
    itemId: String(r.item_id),
    campaignId: String(r.campaign_id),
    leadId: String(r.lead_id),
    step: Number(r.step),
    status: r.status === 'pending' ? 'pending' : 'failed',
  }
}

/** The expired-lease query (also used by the plan test). A lease is held while `now < lease_until`. */
export function expiredSql(t: Tables): string {
  return `SELECT q.id, q.campaign_id, q.lead_id FROM ${t.items} q
    WHERE q.status = 'sending' AND q.lease_until <= $1
    ORDER BY q.lease_until, q.id`
}

export async function recoverExpiredLeases(
  s: Session,
  t: Tables,
  now: Date,
  policy: 'fail' | 'retry',
): Promise<RecoveredItem[]> {
  if (policy === 'fail') {
    // The mail may have left: fail it, never send it again. No other row needs to be read.
    const rows = await s.query<Row>(
      `WITH expired AS (${expiredSql(t)} FOR UPDATE SKIP LOCKED)
       UPDATE ${t.items} AS q
       SET status = 'failed', last_error = 'interrupted', lease_token = NULL, lease_until = NULL, updated_at = $1
       FROM expired e WHERE q.id = e.id
       RETURNING ${RECOVERED}`,
      [now],
    )
    return rows.map(toRecovered)
  }
  const expired = await s.query<{ id: string; campaign_id: string; lead_id: string }>(
    `SELECT e.id::text AS id, e.campaign_id::text AS campaign_id, e.lead_id::text AS lead_id
     FROM (${expiredSql(t)}) e`,
    [now],
  )
  if (expired.length === 0) return []
  return s.transaction(async (tx) => {
    // Whether an item may go back to pending depends on its lead and campaign: lock them first (in
    // id order, as completions do), then decide from a snapshot taken after the locks.
    await tx.query(
      `SELECT id FROM ${t.campaigns} WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`,
      [[...new Set(expired.map((e) => e.campaign_id))]],
    )
    await tx.query(`SELECT id FROM ${t.leads} WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`, [
      [...new Set(expired.map((e) => e.lead_id))],
    ])
    const rows = await tx.query<Row>(
      `WITH expired AS (
         SELECT q.id FROM ${t.items} q
         WHERE q.id = ANY($2::bigint[]) AND q.status = 'sending' AND q.lease_until <= $1
         FOR UPDATE SKIP LOCKED
       ),
       decided AS (
         SELECT e.id, (l.status = 'active' AND c.status NOT IN (${REQUEUE_ENDED_SQL})) AS revive
         FROM expired e
         JOIN ${t.items} i ON i.id = e.id
         JOIN ${t.leads} l ON l.id = i.lead_id
         JOIN ${t.campaigns} c ON c.id = i.campaign_id
       )
       UPDATE ${t.items} AS q
       SET status = CASE WHEN d.revive THEN 'pending' ELSE 'failed' END,
           scheduled_at = CASE WHEN d.revive THEN $1 ELSE q.scheduled_at END,
           last_error = 'interrupted', lease_token = NULL, lease_until = NULL, updated_at = $1
       FROM decided d WHERE q.id = d.id
       RETURNING ${RECOVERED}`,
      [now, expired.map((e) => e.id)],
    )
    return rows.map(toRecovered)
  })
}
