/**
 * The migration capability (`MigrationStore`): importing leads with their progress in another
 * system, moving them forward, and counting that system's sends. Inside the caller's
 * `BEGIN IMMEDIATE`, so each lead's compare-and-set holds against every process.
 */
import type { ExternalSend, ImportedLead, ImportLeadsOutcome } from '@mailcadence/core'
import { type Db, type Row, rowId } from '../db.js'
import { forgetDeferral, raiseNextDue } from './due.js'
import { campaignIdOrThrow, insertLead, insertPendingItem, isSuppressed, leadRow } from './leads.js'
import { bump } from './reserve.js'
import { T, toLead } from './rows.js'

/** Why `importLeads` cancelled a pending item the other system's progress replaced. */
const ADVANCED = 'advanced by import'

type Sent = ImportedLead['history'][number]

export function importLeads(
  db: Db,
  campaignId: string,
  leads: readonly ImportedLead[],
  now: Date,
): ImportLeadsOutcome {
  const cid = campaignIdOrThrow(db, campaignId)
  const outcome: ImportLeadsOutcome = { imported: [], existing: [], suppressed: [], advanced: [], stale: [] }
  const nowMs = now.getTime()
  for (const input of leads) {
    const key = input.emailKey
    const present = leadRow(db, cid, key)
    if (present !== undefined && input.advance !== undefined) {
      const moved = advanceLead(db, cid, present, input, input.advance.lastSentStep, nowMs)
      ;(moved ? outcome.advanced : outcome.stale).push(key)
      continue
    }
    if (present !== undefined) {
      outcome.existing.push(key)
      continue
    }
    if (isSuppressed(db, key)) {
      if (!outcome.suppressed.includes(key)) outcome.suppressed.push(key)
      continue
    }
    const lead = insertLead(db, cid, input, input.status, nowMs)
    for (const sent of input.history) insertSent(db, cid, lead, sent, nowMs)
    if (input.next !== null) insertNext(db, cid, lead, input.next, nowMs)
    outcome.imported.push(toLead(lead))
  }
  if (outcome.imported.length > 0 || outcome.advanced.length > 0) forgetDeferral(db, cid)
  return outcome
}

function insertNext(
  db: Db,
  cid: number,
  lead: Row,
  next: NonNullable<ImportedLead['next']>,
  nowMs: number,
): void {
  insertPendingItem(
    db,
    cid,
    lead.id as number,
    {
      step: next.step,
      scheduledAt: next.scheduledAt.getTime(),
      mailboxId: next.mailboxId,
      windowKey: lead.window_key as string,
      references: next.references,
      threadSubject: next.threadSubject,
    },
    nowMs,
  )
}

/** A step the other system sent: a `sent` item (never pending) and its send-log row. */
function insertSent(db: Db, cid: number, lead: Row, sent: Sent, nowMs: number): void {
  db.run(
    `INSERT INTO ${T.items} (campaign_id, lead_id, step, status, scheduled_at, mailbox_id, window_key,
       message_id, sent_at, created_at, updated_at)
     VALUES (?, ?, ?, 'sent', ?, ?, ?, ?, ?, ?, ?)`,
    cid,
    lead.id as number,
    sent.step,
    sent.sentAt.getTime(),
    rowId(sent.mailboxId) ?? null,
    lead.window_key as string,
    sent.messageId,
    sent.sentAt.getTime(),
    nowMs,
    nowMs,
  )
  logSent(db, cid, lead, sent)
}

function logSent(db: Db, cid: number, lead: Row, sent: Sent): void {
  db.run(
    `INSERT INTO ${T.sendLog} (campaign_id, lead_id, step, mailbox_id, message_id, recipient, subject, sent_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    cid,
    lead.id as number,
    sent.step,
    rowId(sent.mailboxId) ?? 0,
    sent.messageId,
    lead.email as string,
    sent.subject,
    sent.sentAt.getTime(),
  )
}

/**
 * Moves an existing lead forward (`importLeads` with `advance`): compare-and-set against what core
 * read (active, nothing sending, highest sent step), then history, cancellations, next step and
 * status. Returns false, changing nothing, when the lead changed since.
 */
function advanceLead(
  db: Db,
  cid: number,
  lead: Row,
  input: ImportedLead,
  lastSentStep: number | null,
  nowMs: number,
): boolean {
  const leadId = lead.id as number
  const items = db.all<{ id: number; step: number; status: string }>(
    `SELECT id, step, status FROM ${T.items} WHERE lead_id = ?`,
    leadId,
  )
  if (lead.status !== 'active' || items.some((i) => i.status === 'sending')) return false
  const lastSent = items.reduce((max, i) => (i.status === 'sent' && i.step > max ? i.step : max), -1)
  if (lastSent !== (lastSentStep ?? -1)) return false

  for (const sent of input.history) {
    const item = items.find((i) => i.step === sent.step)
    if (item === undefined) {
      insertSent(db, cid, lead, sent, nowMs)
      continue
    }
    db.run(
      `UPDATE ${T.items} SET status = 'sent', sent_at = ?, mailbox_id = ?, message_id = ?, last_error = NULL,
         lease_token = NULL, lease_until = NULL, updated_at = ? WHERE id = ?`,
      sent.sentAt.getTime(),
      rowId(sent.mailboxId) ?? null,
      sent.messageId,
      nowMs,
      item.id,
    )
    item.status = 'sent'
    logSent(db, cid, lead, sent)
  }
  const next = input.next
  for (const item of items) {
    if (item.status !== 'pending' || item.step === next?.step) continue
    db.run(
      `UPDATE ${T.items} SET status = 'cancelled', last_error = ?, updated_at = ? WHERE id = ?`,
      ADVANCED,
      nowMs,
      item.id,
    )
  }
  if (next !== null && !items.some((i) => i.step === next.step)) insertNext(db, cid, lead, next, nowMs)
  if (lead.status !== input.status) {
    db.run(`UPDATE ${T.leads} SET status = ?, updated_at = ? WHERE id = ?`, input.status, nowMs, leadId)
  }
  raiseNextDue(db, [cid])
  return true
}

/** Counts another system's sends, each once per key; no limit is checked (the send happened). */
export function recordExternalSends(db: Db, sends: readonly ExternalSend[], now: Date): { recorded: number } {
  let recorded = 0
  for (const send of sends) {
    const mailboxId = send.mailbox === undefined ? undefined : rowId(send.mailbox.id)
    const c = send.campaign
    const cid = c === undefined ? undefined : rowId(c.id)
    const campaign =
      cid === undefined
        ? undefined
        : db.get<Row>(`SELECT id, next_slot_at FROM ${T.campaigns} WHERE id = ?`, cid)
    const { changes } = db.run(
      `INSERT INTO ${T.external} (key, mailbox_id, mailbox_day_key, campaign_id, campaign_day_key, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      send.key,
      mailboxId ?? null,
      send.mailbox?.dayKey ?? null,
      campaign === undefined ? null : (cid ?? null),
      campaign === undefined ? null : (c?.dayKey ?? null),
      now.getTime(),
    )
    if (changes === 0) continue
    recorded += 1
    if (send.mailbox !== undefined && mailboxId !== undefined) {
      bump(db, T.mailboxDays, 'mailbox_id', mailboxId, send.mailbox.dayKey)
    }
    if (c === undefined || cid === undefined || campaign === undefined) continue
    bump(db, T.campaignDays, 'campaign_id', cid, c.dayKey)
    if (c.nextSlotAt !== null) {
      db.run(
        `UPDATE ${T.campaigns} SET next_slot_at = ? WHERE id = ? AND (next_slot_at IS NULL OR next_slot_at < ?)`,
        c.nextSlotAt.getTime(),
        cid,
        c.nextSlotAt.getTime(),
      )
    }
  }
  return { recorded }
}
