/** Leads: adding them (with their first item), stopping and suppressing them. */
import type { AddLeadsOutcome, Lead, LeadStatus, NewLead } from '@mailcadence/core'
import { MailcadenceError } from '@mailcadence/core'
import { type Db, type Row, rowId } from '../db.js'
import { forgetDeferral, raiseNextDue } from './due.js'
import { T, toLead } from './rows.js'

/** A queue item to insert as `pending` (or `sent`, for imported history). */
export interface NewItem {
  step: number
  scheduledAt: number
  mailboxId: string | null
  windowKey: string
  references: readonly string[]
  threadSubject: string | null
}

/** The campaign's row id, or a `not-found` error (leads are added to campaigns that exist). */
export function campaignIdOrThrow(db: Db, campaignId: string): number {
  const rid = rowId(campaignId)
  if (rid !== undefined && db.get(`SELECT 1 AS one FROM ${T.campaigns} WHERE id = ?`, rid) !== undefined)
    return rid
  throw new MailcadenceError('not-found', `campaign ${campaignId} does not exist`)
}

export function leadRow(db: Db, campaignId: number, emailKey: string): Row | undefined {
  return db.get<Row>(`SELECT * FROM ${T.leads} WHERE campaign_id = ? AND email_key = ?`, campaignId, emailKey)
}

export function isSuppressed(db: Db, emailKey: string): boolean {
  return db.get(`SELECT 1 AS one FROM ${T.suppressions} WHERE email_key = ?`, emailKey) !== undefined
}

export function insertLead(db: Db, campaignId: number, input: NewLead, status: LeadStatus, now: number): Row {
  const { lastId } = db.run(
    `INSERT INTO ${T.leads} (campaign_id, email, email_key, first_name, last_name, company, variables,
       timezone, country, window_key, status, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    campaignId,
    input.email,
    input.emailKey,
    input.firstName,
    input.lastName,
    input.company,
    JSON.stringify(input.variables),
    input.timezone,
    input.country,
    input.windowKey,
    status,
    now,
    now,
  )
  return db.get<Row>(`SELECT * FROM ${T.leads} WHERE id = ?`, lastId)!
}

/** Inserts a pending item unless the lead already has one of that step; returns whether it did. */
export function insertPendingItem(
  db: Db,
  campaignId: number | string,
  leadId: number | string,
  item: NewItem,
  now: number,
): boolean {
  const { changes } = db.run(
    `INSERT INTO ${T.items} (campaign_id, lead_id, step, status, scheduled_at, mailbox_id, window_key,
       thread_refs, thread_subject, created_at, updated_at)
     VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (campaign_id, lead_id, step) DO NOTHING`,
    campaignId,
    leadId,
    item.step,
    item.scheduledAt,
    item.mailboxId === null ? null : Number(item.mailboxId),
    item.windowKey,
    JSON.stringify(item.references),
    item.threadSubject,
    now,
    now,
  )
  return changes > 0
}

export function addLeads(db: Db, campaignId: string, leads: readonly NewLead[], now: Date): AddLeadsOutcome {
  const cid = campaignIdOrThrow(db, campaignId)
  const outcome: AddLeadsOutcome = { added: [], duplicates: 0, suppressed: [] }
  const nowMs = now.getTime()
  // A suppressed address repeated in one call is refused once and then counted as a duplicate.
  const refused = new Set<string>()
  for (const input of leads) {
    const key = input.emailKey
    if (refused.has(key) || leadRow(db, cid, key) !== undefined) {
      outcome.duplicates += 1
      continue
    }
    if (isSuppressed(db, key)) {
      refused.add(key)
      outcome.suppressed.push(key)
      continue
    }
    const lead = insertLead(db, cid, input, 'active', nowMs)
    const first = { step: 0, scheduledAt: nowMs, mailboxId: null, references: [], threadSubject: null }
    insertPendingItem(db, cid, lead.id as number, { ...first, windowKey: input.windowKey }, nowMs)
    outcome.added.push(toLead(lead))
  }
  if (outcome.added.length > 0) forgetDeferral(db, cid)
  return outcome
}

export function getLead(db: Db, campaignId: string, emailKey: string): Lead | null {
  const rid = rowId(campaignId)
  const row = rid === undefined ? undefined : leadRow(db, rid, emailKey)
  return row === undefined ? null : toLead(row)
}

export function listLeads(db: Db, campaignId: string): Lead[] {
  const rid = rowId(campaignId)
  if (rid === undefined) return []
  return db
    .all<Row>(`SELECT * FROM ${T.leads} WHERE campaign_id = ? ORDER BY created_at, id`, rid)
    .map(toLead)
}

/** Moves an `active` lead to `status` (compare-and-set on `active`); returns whether it changed. */
export function stopActiveLead(db: Db, leadId: number, status: LeadStatus, now: number): boolean {
  const { changes } = db.run(
    `UPDATE ${T.leads} SET status = ?, updated_at = ? WHERE id = ? AND status = 'active'`,
    status,
    now,
    leadId,
  )
  return changes > 0
}

/** Cancels the lead's pending items; returns how many. The campaign's next-due bound follows. */
export function cancelLeadPending(
  db: Db,
  campaignId: number,
  leadId: number,
  reason: string,
  now: number,
): number {
  const { changes } = db.run(
    `UPDATE ${T.items} SET status = 'cancelled', last_error = ?, updated_at = ?
     WHERE lead_id = ? AND status = 'pending'`,
    reason,
    now,
    leadId,
  )
  if (changes > 0) raiseNextDue(db, [campaignId])
  return changes
}

export function stopLead(
  db: Db,
  campaignId: string,
  emailKey: string,
  status: Exclude<LeadStatus, 'active'>,
  reason: string,
  now: Date,
): { lead: Lead; cancelled: number } | null {
  const rid = rowId(campaignId)
  const row = rid === undefined ? undefined : leadRow(db, rid, emailKey)
  if (rid === undefined || row === undefined) return null
  const id = row.id as number
  if (!stopActiveLead(db, id, status, now.getTime()) && status === 'replied' && row.status === 'completed') {
    // A reply after the last step still counts as one (variant stats read it).
    db.run(`UPDATE ${T.leads} SET status = 'replied', updated_at = ? WHERE id = ?`, now.getTime(), id)
  }
  // Pending items are cancelled even if the lead had already stopped: none should be left.
  const cancelled = cancelLeadPending(db, rid, id, reason, now.getTime())
  return { lead: toLead(db.get<Row>(`SELECT * FROM ${T.leads} WHERE id = ?`, id)!), cancelled }
}

export function suppress(db: Db, emailKey: string, reason: string, now: Date): { cancelled: number } {
  const nowMs = now.getTime()
  db.run(
    `INSERT INTO ${T.suppressions} (email_key, reason, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
    emailKey,
    reason,
    nowMs,
  )
  let cancelled = 0
  const leads = db.all<{ id: number; campaign_id: number }>(
    `SELECT id, campaign_id FROM ${T.leads} WHERE email_key = ?`,
    emailKey,
  )
  for (const lead of leads) {
    stopActiveLead(db, lead.id, 'suppressed', nowMs)
    cancelled += cancelLeadPending(db, lead.campaign_id, lead.id, reason, nowMs)
  }
  return { cancelled }
}
