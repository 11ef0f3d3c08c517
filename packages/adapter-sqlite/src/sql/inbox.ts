/**
 * The inbox capability (`InboxStore`): sends found by Message-ID, inbound messages recorded once,
 * postponing and stopping leads, and the IMAP poller's cursors. None of it runs on a tick.
 */
import type { InboundRecord, InboxCursor, Lead, LeadStatus, QueueItem, SentMessage } from '@mailcadence/core'
import { type Db, type Row, rowId } from '../db.js'
import { raiseNextDue } from './due.js'
import { cancelLeadPending, leadRow, stopActiveLead } from './leads.js'
import { T, toItem, toLead, toSendLogEntry } from './rows.js'

export function findSentByMessageIds(db: Db, messageIds: readonly string[]): SentMessage[] {
  return db
    .all<Row>(
      `SELECT g.*, l.id AS l_id, l.campaign_id AS l_campaign_id, l.email AS l_email, l.first_name AS l_first_name,
         l.last_name AS l_last_name, l.company AS l_company, l.variables AS l_variables, l.timezone AS l_timezone,
         l.country AS l_country, l.status AS l_status, l.created_at AS l_created_at, l.updated_at AS l_updated_at
       FROM ${T.sendLog} g JOIN ${T.leads} l ON l.id = g.lead_id
       WHERE g.message_id IN (SELECT DISTINCT value FROM json_each(?))`,
      JSON.stringify(messageIds),
    )
    .map((row) => ({ send: toSendLogEntry(row), lead: toLead(prefixed(row, 'l_')) }))
}

/** The columns of `row` named with `prefix`, without it. */
function prefixed(row: Row, prefix: string): Row {
  const out: Row = {}
  for (const [key, value] of Object.entries(row))
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value
  return out
}

export function getInbound(db: Db, messageId: string): InboundRecord | null {
  const row = db.get<Row>(`SELECT * FROM ${T.inbound} WHERE message_id = ?`, messageId)
  if (row === undefined) return null
  return {
    messageId: String(row.message_id),
    kind: String(row.kind),
    campaignId: row.campaign_id === null ? null : String(row.campaign_id),
    leadId: row.lead_id === null ? null : String(row.lead_id),
    processedAt: new Date(Number(row.processed_at)),
  }
}

/** Inserts the record unless one with its Message-ID exists; returns whether this call did. */
export function recordInbound(db: Db, record: Omit<InboundRecord, 'processedAt'>, now: Date): boolean {
  const { changes } = db.run(
    `INSERT INTO ${T.inbound} (message_id, kind, campaign_id, lead_id, processed_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
    record.messageId,
    record.kind,
    record.campaignId === null ? null : (rowId(record.campaignId) ?? null),
    record.leadId === null ? null : (rowId(record.leadId) ?? null),
    now.getTime(),
  )
  return changes > 0
}

/** Moves the lead's next pending item (lowest step) to `until`, only later, never earlier. */
export function postponeLead(
  db: Db,
  campaignId: string,
  emailKey: string,
  until: Date,
  now: Date,
): QueueItem | null {
  const cid = rowId(campaignId)
  const lead = cid === undefined ? undefined : leadRow(db, cid, emailKey)
  if (cid === undefined || lead === undefined) return null
  const next = db.get<Row>(
    `SELECT * FROM ${T.items} WHERE lead_id = ? AND status = 'pending' ORDER BY step LIMIT 1`,
    lead.id as number,
  )
  if (next === undefined) return null
  if (until.getTime() <= Number(next.scheduled_at)) return toItem(next)
  db.run(
    `UPDATE ${T.items} SET scheduled_at = ?, updated_at = ? WHERE id = ?`,
    until.getTime(),
    now.getTime(),
    next.id as number,
  )
  // The item may have been the campaign's earliest: its next-due bound follows it.
  raiseNextDue(db, [cid])
  return toItem(db.get<Row>(`SELECT * FROM ${T.items} WHERE id = ?`, next.id as number)!)
}

/** Stops every active lead of the campaign at `@domain` (exact suffix), as `stopLead` stops one. */
export function stopLeadsOfDomain(
  db: Db,
  campaignId: string,
  domain: string,
  status: Exclude<LeadStatus, 'active'>,
  reason: string,
  now: Date,
): { leads: Lead[]; cancelled: number } {
  const cid = rowId(campaignId)
  if (cid === undefined) return { leads: [], cancelled: 0 }
  const suffix = `@${domain}`
  // substr compares the suffix exactly: `_` and `%` in a domain are literal, unlike in LIKE.
  const candidates = db.all<{ id: number }>(
    `SELECT id FROM ${T.leads} WHERE campaign_id = ? AND status = 'active'
       AND substr(email_key, -length(?)) = ? ORDER BY id`,
    cid,
    suffix,
    suffix,
  )
  const nowMs = now.getTime()
  const leads: Lead[] = []
  let cancelled = 0
  for (const { id } of candidates) {
    if (!stopActiveLead(db, id, status, nowMs)) continue
    cancelled += cancelLeadPending(db, cid, id, reason, nowMs)
    leads.push(toLead(db.get<Row>(`SELECT * FROM ${T.leads} WHERE id = ?`, id)!))
  }
  return { leads, cancelled }
}

export function getInboxCursor(db: Db, mailboxId: string, folder: string): InboxCursor | null {
  const row = db.get<{ uid_validity: string; last_uid: number }>(
    `SELECT uid_validity, last_uid FROM ${T.cursors} WHERE mailbox_id = ? AND folder = ?`,
    mailboxId,
    folder,
  )
  return row === undefined ? null : { uidValidity: String(row.uid_validity), lastUid: Number(row.last_uid) }
}

export function saveInboxCursor(
  db: Db,
  mailboxId: string,
  folder: string,
  cursor: InboxCursor,
  now: Date,
): void {
  db.run(
    `INSERT INTO ${T.cursors} (mailbox_id, folder, uid_validity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (mailbox_id, folder) DO UPDATE
       SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at`,
    mailboxId,
    folder,
    cursor.uidValidity,
    cursor.lastUid,
    now.getTime(),
  )
}
