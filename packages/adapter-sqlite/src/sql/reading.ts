/** Reads for a tick, `explain()`, dashboards and tests; each runs in one read transaction. */
import type {
  DayCountQuery,
  DayCounts,
  DueCount,
  FailedSend,
  QueueItem,
  QueueStats,
  SendLogEntry,
  WindowKeyStat,
} from '@mailcadence/core'
import { type Db, type Row, rowId } from '../db.js'
import { earliestPending } from './due.js'
import { dayCount } from './reserve.js'
import { T, toItem, toSendLogEntry } from './rows.js'

export function queueStats(db: Db, campaignId: string): QueueStats {
  const stats: QueueStats = {
    pending: 0,
    sending: 0,
    sent: 0,
    failed: 0,
    cancelled: 0,
    nextScheduledAt: null,
  }
  const cid = rowId(campaignId)
  if (cid === undefined) return stats
  const rows = db.all<{ status: keyof Omit<QueueStats, 'nextScheduledAt'>; n: number }>(
    `SELECT status, count(*) AS n FROM ${T.items} WHERE campaign_id = ? GROUP BY status`,
    cid,
  )
  for (const row of rows) stats[row.status] = row.n
  const next = earliestPending(db, cid)
  stats.nextScheduledAt = next === null ? null : new Date(next)
  return stats
}

/** Due pending items by mailbox and window key, from the index of pending items only. */
export function countDueByMailbox(db: Db, campaignId: string, now: Date): DueCount[] {
  const cid = rowId(campaignId)
  if (cid === undefined) return []
  return db
    .all<{ mailbox_id: number | null; window_key: string; n: number }>(
      `SELECT mailbox_id, window_key, count(*) AS n FROM ${T.items} INDEXED BY mailcadence_items_pending
       WHERE campaign_id = ? AND status = 'pending' AND scheduled_at <= ? GROUP BY mailbox_id, window_key`,
      cid,
      now.getTime(),
    )
    .map((r) => ({
      mailboxId: r.mailbox_id === null ? null : String(r.mailbox_id),
      windowKey: r.window_key,
      count: r.n,
    }))
}

/**
 * The distinct window keys of the pending items, each with its earliest item: a skip scan, one
 * probe of the (campaign, key, …) index per key, so it costs O(keys), not O(pending items).
 */
export function listWindowKeys(db: Db, campaignId: string): WindowKeyStat[] {
  const cid = rowId(campaignId)
  if (cid === undefined) return []
  const keys = db.all<{ k: string }>(
    `WITH RECURSIVE keys(k) AS (
       SELECT (SELECT min(window_key) FROM ${T.items} WHERE campaign_id = ? AND status = 'pending')
       UNION ALL
       SELECT (SELECT min(window_key) FROM ${T.items} WHERE campaign_id = ? AND status = 'pending' AND window_key > keys.k)
       FROM keys WHERE keys.k IS NOT NULL
     )
     SELECT k FROM keys WHERE k IS NOT NULL`,
    cid,
    cid,
  )
  return keys.map(({ k }) => {
    const row = db.get<{ at: number }>(
      `SELECT min(scheduled_at) AS at FROM ${T.items} INDEXED BY mailcadence_items_pending_by_key
       WHERE campaign_id = ? AND status = 'pending' AND window_key = ?`,
      cid,
      k,
    )!
    return { windowKey: k, nextAt: new Date(row.at) }
  })
}

export function dayCounts(db: Db, query: DayCountQuery): DayCounts {
  const mailboxes: Record<string, number> = {}
  for (const { mailboxId, dayKey } of query.mailboxes) {
    const id = rowId(mailboxId)
    mailboxes[mailboxId] = id === undefined ? 0 : dayCount(db, T.mailboxDays, 'mailbox_id', id, dayKey)
  }
  const cid = rowId(query.campaignId)
  const campaign =
    cid === undefined ? 0 : dayCount(db, T.campaignDays, 'campaign_id', cid, query.campaignDayKey)
  return { campaign, mailboxes }
}

export function listQueueItems(db: Db, campaignId: string): QueueItem[] {
  const cid = rowId(campaignId)
  if (cid === undefined) return []
  return db
    .all<Row>(`SELECT * FROM ${T.items} WHERE campaign_id = ? ORDER BY created_at, id`, cid)
    .map(toItem)
}

export function listSendLog(db: Db, campaignId: string): SendLogEntry[] {
  const cid = rowId(campaignId)
  if (cid === undefined) return []
  return db.all<Row>(`SELECT * FROM ${T.sendLog} WHERE campaign_id = ? ORDER BY id`, cid).map(toSendLogEntry)
}

export function listFailedSends(db: Db, campaignId: string, limit: number): FailedSend[] {
  const cid = rowId(campaignId)
  if (cid === undefined) return []
  return db
    .all<Row>(
      `SELECT q.*, l.email AS lead_email FROM ${T.items} q JOIN ${T.leads} l ON l.id = q.lead_id
       WHERE q.campaign_id = ? AND q.status = 'failed' ORDER BY q.updated_at DESC, q.id DESC LIMIT ?`,
      cid,
      limit,
    )
    .map((row) => ({ item: toItem(row), to: String(row.lead_email) }))
}

export function listRecentSends(db: Db, campaignId: string, limit: number): SendLogEntry[] {
  const cid = rowId(campaignId)
  if (cid === undefined) return []
  return db
    .all<Row>(`SELECT * FROM ${T.sendLog} WHERE campaign_id = ? ORDER BY id DESC LIMIT ?`, cid, limit)
    .map(toSendLogEntry)
}

export function listSendTimes(db: Db, campaignId: string, from: Date, to: Date): Date[] {
  const cid = rowId(campaignId)
  if (cid === undefined) return []
  return db
    .all<{ sent_at: number }>(
      `SELECT sent_at FROM ${T.sendLog} WHERE campaign_id = ? AND sent_at >= ? AND sent_at < ? ORDER BY sent_at`,
      cid,
      from.getTime(),
      to.getTime(),
    )
    .map((r) => new Date(r.sent_at))
}
