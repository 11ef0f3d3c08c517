/** Reads for `explain()`, `queueStats()` and tests; none of them runs on a tick's hot path. */
import type {
  DayCountQuery,
  DayCounts,
  DueCount,
  QueueItem,
  QueueStats,
  SendLogEntry,
  WindowKeyStat,
} from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import { dateOrNull, itemColumns, type Row, sendLogColumns, toItem, toSendLogEntry } from './rows.js'
import type { Tables } from './schema.js'

export async function queueStats(s: Session, t: Tables, campaignId: string): Promise<QueueStats> {
  const stats: QueueStats = {
    pending: 0,
    sending: 0,
    sent: 0,
    failed: 0,
    cancelled: 0,
    nextScheduledAt: null,
  }
  if (!isId(campaignId)) return stats
  const rows = await s.query<{
    status: keyof Omit<QueueStats, 'nextScheduledAt'>
    n: number
    next_at: unknown
  }>(
    `SELECT q.status, count(*)::int AS n, NULL::timestamptz AS next_at
     FROM ${t.items} q WHERE q.campaign_id = $1 GROUP BY q.status
     UNION ALL
     SELECT 'next', 0, (SELECT q.scheduled_at FROM ${t.items} q
       WHERE q.campaign_id = $1 AND q.status = 'pending' ORDER BY q.scheduled_at LIMIT 1)`,
    [campaignId],
  )
  for (const row of rows) {
    if ((row.status as string) === 'next') stats.nextScheduledAt = dateOrNull(row.next_at)
    else stats[row.status] = row.n
  }
  return stats
}

/**
 * Due pending items by mailbox and window key, from the partial indexes of pending items: only the
 * campaign's due pending entries are read, never sent rows.
 */
export async function countDueByMailbox(
  s: Session,
  t: Tables,
  campaignId: string,
  now: Date,
): Promise<DueCount[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<{ mailbox_id: string | null; window_key: string; n: number }>(
    `SELECT q.mailbox_id::text AS mailbox_id, q.window_key, count(*)::int AS n FROM ${t.items} q
     WHERE q.campaign_id = $1 AND q.status = 'pending' AND q.scheduled_at <= $2
     GROUP BY q.mailbox_id, q.window_key`,
    [campaignId, now],
  )
  return rows.map((row) => ({ mailboxId: row.mailbox_id, windowKey: row.window_key, count: row.n }))
}

/**
 * A loose index scan over `queue_items_pending_by_key` (campaign_id, window_key, scheduled_at, id):
 * each step of the recursion jumps to the first pending entry of the next key, which is also that
 * key's earliest item, so the query reads one index entry (and its row) per distinct key however
 * many items each key holds. PostgreSQL has no skip scan of its own before version 18.
 */
export function windowKeysSql(t: Tables): string {
  return `WITH RECURSIVE k AS (
      (SELECT q.window_key, q.scheduled_at FROM ${t.items} q
       WHERE q.campaign_id = $1 AND q.status = 'pending'
       ORDER BY q.window_key, q.scheduled_at, q.id LIMIT 1)
      UNION ALL
      SELECT n.window_key, n.scheduled_at FROM k, LATERAL (
        SELECT q.window_key, q.scheduled_at FROM ${t.items} q
        WHERE q.campaign_id = $1 AND q.status = 'pending' AND q.window_key > k.window_key
        ORDER BY q.window_key, q.scheduled_at, q.id LIMIT 1
      ) n
    )
    SELECT k.window_key, k.scheduled_at FROM k`
}

export async function listWindowKeys(s: Session, t: Tables, campaignId: string): Promise<WindowKeyStat[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<Row>(windowKeysSql(t), [campaignId], { prepared: true })
  return rows.map((row) => ({ windowKey: String(row.window_key), nextAt: dateOrNull(row.scheduled_at)! }))
}

/**
 * The campaign's count is kept for its current day only (on the campaign row); asked for another
 * day it reads 0. Mailbox counts are kept per day.
 */
export async function dayCounts(s: Session, t: Tables, query: DayCountQuery): Promise<DayCounts> {
  const boxes = query.mailboxes.filter((m) => isId(m.mailboxId))
  const [row] = await s.query<{ campaign: number | null; boxes: Array<{ id: string; n: number }> | null }>(
    `SELECT
       (SELECT CASE WHEN c.day_key = $2 THEN c.day_sent ELSE 0 END FROM ${t.campaigns} c WHERE c.id = $1)
         AS campaign,
       (SELECT json_agg(json_build_object('id', x.mailbox_id::text, 'n', coalesce(d.sent, 0)))
        FROM unnest($3::bigint[], $4::text[]) AS x (mailbox_id, day_key)
        LEFT JOIN ${t.mailboxDays} d ON d.mailbox_id = x.mailbox_id AND d.day_key = x.day_key) AS boxes`,
    [
      isId(query.campaignId) ? query.campaignId : null,
      query.campaignDayKey,
      boxes.map((m) => m.mailboxId),
      boxes.map((m) => m.dayKey),
    ],
  )
  const mailboxes: Record<string, number> = {}
  for (const m of query.mailboxes) mailboxes[m.mailboxId] = 0
  for (const b of row?.boxes ?? []) mailboxes[b.id] = Number(b.n)
  return { campaign: Number(row?.campaign ?? 0), mailboxes }
}

export async function listQueueItems(s: Session, t: Tables, campaignId: string): Promise<QueueItem[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<Row>(
    `SELECT ${itemColumns('q')} FROM ${t.items} q WHERE q.campaign_id = $1 ORDER BY q.created_at, q.id`,
    [campaignId],
  )
  return rows.map(toItem)
}

export async function listSendLog(s: Session, t: Tables, campaignId: string): Promise<SendLogEntry[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<Row>(
    `SELECT ${sendLogColumns('g')} FROM ${t.sendLog} g WHERE g.campaign_id = $1 ORDER BY g.id`,
    [campaignId],
  )
  return rows.map(toSendLogEntry)
}
