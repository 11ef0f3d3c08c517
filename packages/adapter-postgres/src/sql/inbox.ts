/**
 * What comes back from the inbox (`InboxStore`): sends by Message-ID, the record of inbound
 * messages applied, postponing a lead, stopping a domain's leads, and the inbox cursors.
 */
import type { InboundRecord, InboxCursor, Lead, LeadStatus, QueueItem, SentMessage } from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import { itemColumns, leadColumns, type Row, sendLogColumns, toItem, toLead, toSendLogEntry } from './rows.js'
import type { Tables } from './schema.js'

/** Send-log rows with one of these Message-IDs, each with its lead (index `send_log_message_id`). */
export async function findSentByMessageIds(
  s: Session,
  t: Tables,
  messageIds: readonly string[],
): Promise<SentMessage[]> {
  if (messageIds.length === 0) return []
  const rows = await s.query<Row>(
    `SELECT ${sendLogColumns('g')}, ${leadColumns('l', 'lead_')}
     FROM ${t.sendLog} g JOIN ${t.leads} l ON l.id = g.lead_id
     WHERE g.message_id = ANY($1::text[])`,
    [[...new Set(messageIds)]],
  )
  return rows.map((r) => ({ send: toSendLogEntry(r), lead: toLead(r, 'lead_') }))
}

export async function getInbound(s: Session, t: Tables, messageId: string): Promise<InboundRecord | null> {
  const [row] = await s.query<Row>(
    `SELECT message_id, kind, campaign_id::text AS campaign_id, lead_id::text AS lead_id, processed_at
     FROM ${t.inbound} WHERE message_id = $1`,
    [messageId],
  )
  if (!row) return null
  return {
    messageId: String(row.message_id),
    kind: String(row.kind),
    campaignId: row.campaign_id === null ? null : String(row.campaign_id),
    leadId: row.lead_id === null ? null : String(row.lead_id),
    processedAt: new Date((row.processed_at as Date).getTime()),
  }
}

/** Insert-if-absent: true when this call recorded it. */
export async function recordInbound(
  s: Session,
  t: Tables,
  record: Omit<InboundRecord, 'processedAt'>,
  now: Date,
): Promise<boolean> {
  const rows = await s.query(
    `INSERT INTO ${t.inbound} (message_id, kind, campaign_id, lead_id, processed_at)
     VALUES ($1, $2, $3::bigint, $4::bigint, $5)
     ON CONFLICT (message_id) DO NOTHING RETURNING 1`,
    [
      record.messageId,
      record.kind,
      isId(record.campaignId) ? record.campaignId : null,
      isId(record.leadId) ? record.leadId : null,
      now,
    ],
  )
  return rows.length === 1
}

/**
 * The lead's lowest pending step moves to `until` if that is later, in one statement: the item row
 * is locked (a reservation holding it makes this wait, then find it no longer pending).
 */
export async function postponeLead(
  s: Session,
  t: Tables,
  campaignId: string,
  emailKey: string,
  until: Date,
  now: Date,
): Promise<QueueItem | null> {
  if (!isId(campaignId)) return null
  const [row] = await s.query<Row>(
    `WITH next AS (
       SELECT q.id FROM ${t.items} q JOIN ${t.leads} l ON l.id = q.lead_id
       WHERE l.campaign_id = $1 AND l.email_key = $2 AND q.campaign_id = $1 AND q.status = 'pending'
       ORDER BY q.step LIMIT 1
       FOR NO KEY UPDATE OF q
     ),
     moved AS (
       UPDATE ${t.items} AS q SET scheduled_at = $3, updated_at = $4
       FROM next WHERE q.id = next.id AND q.status = 'pending' AND q.scheduled_at < $3
       RETURNING ${itemColumns('q')}
     )
     SELECT * FROM moved
     UNION ALL
     SELECT ${itemColumns('q')} FROM ${t.items} q JOIN next ON q.id = next.id
     WHERE NOT EXISTS (SELECT 1 FROM moved)`,
    [campaignId, emailKey, until, now],
  )
  return row ? toItem(row) : null
}

/**
 * Stops the campaign's active leads at `domain`, as `stopLead` does one: leads locked first (in id
 * order, as `suppress` locks them), then their pending items cancelled in the same transaction.
 */
export async function stopLeadsOfDomain(
  s: Session,
  t: Tables,
  campaignId: string,
  domain: string,
  status: Exclude<LeadStatus, 'active'>,
  reason: string,
  now: Date,
): Promise<{ leads: Lead[]; cancelled: number }> {
  if (!isId(campaignId)) return { leads: [], cancelled: 0 }
  const suffix = `@${domain}`
  return s.transaction(async (tx) => {
    // right(): an exact suffix, with no LIKE pattern to escape.
    const rows = await tx.query<Row>(
      `WITH locked AS (
         SELECT l.id FROM ${t.leads} l
         WHERE l.campaign_id = $1 AND l.status = 'active' AND right(l.email_key, length($2)) = $2
         ORDER BY l.id FOR NO KEY UPDATE
       )
       UPDATE ${t.leads} AS l SET status = $3, updated_at = $4
       FROM locked WHERE l.id = locked.id AND l.status = 'active'
       RETURNING ${leadColumns('l')}`,
      [campaignId, suffix, status, now],
    )
    const leads = rows.map((r) => toLead(r)).sort((a, b) => Number(a.id) - Number(b.id))
    if (leads.length === 0) return { leads, cancelled: 0 }
    const cancelled = await tx.query(
      `UPDATE ${t.items} SET status = 'cancelled', last_error = $3, updated_at = $4
       WHERE campaign_id = $1 AND lead_id = ANY($2::bigint[]) AND status = 'pending'
       RETURNING id`,
      [campaignId, leads.map((l) => l.id), reason, now],
    )
    return { leads, cancelled: cancelled.length }
  })
}

export async function getInboxCursor(
  s: Session,
  t: Tables,
  mailboxId: string,
  folder: string,
): Promise<InboxCursor | null> {
  const [row] = await s.query<Row>(
    `SELECT uid_validity, last_uid FROM ${t.inboxCursors} WHERE mailbox_id = $1 AND folder = $2`,
    [mailboxId, folder],
  )
  return row ? { uidValidity: String(row.uid_validity), lastUid: Number(row.last_uid) } : null
}

export async function saveInboxCursor(
  s: Session,
  t: Tables,
  mailboxId: string,
  folder: string,
  cursor: InboxCursor,
  now: Date,
): Promise<void> {
  await s.query(
    `INSERT INTO ${t.inboxCursors} (mailbox_id, folder, uid_validity, last_uid, updated_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (mailbox_id, folder)
     DO UPDATE SET uid_validity = EXCLUDED.uid_validity, last_uid = EXCLUDED.last_uid, updated_at = EXCLUDED.updated_at`,
    [mailboxId, folder, cursor.uidValidity, cursor.lastUid, now],
  )
}
