/**
 * `Store.completeSends` and `Store.recoverExpiredLeases`, inside the caller's `BEGIN IMMEDIATE`.
 * The rule of what a stopped lead or campaign does to an item that would go back to `pending` is
 * core's `requeueStopReason`; this module only applies it.
 */
import type { Completion, CompletionOutcome, LeadStatus, RecoveredItem } from '@mailcadence/core'
import { MailcadenceError, requeueStopReason } from '@mailcadence/core'
import { type Db, type Row, rowId } from '../db.js'
import { cancelLeadPending, insertPendingItem, stopActiveLead } from './leads.js'
import { T } from './rows.js'

interface Sending {
  id: number
  campaign_id: number
  lead_id: number
  step: number
  mailbox_id: number | null
  window_key: string
  thread_refs: string
  thread_subject: string | null
  res_campaign_day_key: string | null
  res_mailbox_day_key: string | null
}

/** Why an item that would go back to `pending` must not: its lead or campaign stopped meanwhile. */
function stoppedReason(db: Db, item: { campaign_id: number; lead_id: number }): string | null {
  const row = db.get<{ lead: LeadStatus; campaign: string }>(
    `SELECT l.status AS lead, c.status AS campaign FROM ${T.leads} l, ${T.campaigns} c
     WHERE l.id = ? AND c.id = ?`,
    item.lead_id,
    item.campaign_id,
  )!
  return requeueStopReason(row.lead, row.campaign as Parameters<typeof requeueStopReason>[1])
}

function decrement(db: Db, table: string, column: string, id: number, dayKey: string): void {
  db.run(`UPDATE ${table} SET sent = sent - 1 WHERE ${column} = ? AND day_key = ? AND sent > 0`, id, dayKey)
}

/** Gives back the day counts of a reservation, but only the ones it actually counted. */
function refund(db: Db, item: Sending, r: NonNullable<Completion['refund']>): void {
  if (r.campaignDayKey !== undefined && r.campaignDayKey === item.res_campaign_day_key) {
    decrement(db, T.campaignDays, 'campaign_id', item.campaign_id, r.campaignDayKey)
  }
  if (
    r.mailboxId !== undefined &&
    r.mailboxDayKey !== undefined &&
    rowId(r.mailboxId) === (item.mailbox_id ?? undefined) &&
    r.mailboxDayKey === item.res_mailbox_day_key
  ) {
    decrement(db, T.mailboxDays, 'mailbox_id', Number(r.mailboxId), r.mailboxDayKey)
  }
  // The pacing slot, compare-and-set: a later reservation's (or external send's) slot is kept.
  if (r.nextSlotAt !== undefined) {
    db.run(
      `UPDATE ${T.campaigns} SET next_slot_at = NULL WHERE id = ? AND next_slot_at = ?`,
      item.campaign_id,
      r.nextSlotAt.getTime(),
    )
  }
}

/** One completion, as `Store.completeSends` specifies. */
export function completeOne(db: Db, c: Completion, now: Date): CompletionOutcome {
  const id = rowId(c.itemId)
  const item =
    id === undefined
      ? undefined
      : db.get<Sending>(
          `SELECT * FROM ${T.items} WHERE id = ? AND status = 'sending' AND lease_token = ?`,
          id,
          c.leaseToken,
        )
  if (item === undefined) return 'lease-lost'
  const nowMs = now.getTime()
  if (c.refund !== undefined) refund(db, item, c.refund)
  // Fixed once: a later completion never changes the variant an item's lead was given.
  if (c.variantId !== undefined && c.variantId !== null) {
    db.run(`UPDATE ${T.items} SET variant_id = ? WHERE id = ? AND variant_id IS NULL`, c.variantId, item.id)
  }
  const finish = (set: string, ...values: Array<string | number | null>) =>
    db.run(
      `UPDATE ${T.items} SET lease_token = NULL, lease_until = NULL, updated_at = ?, ${set} WHERE id = ?`,
      nowMs,
      ...values,
      item.id,
    )

  switch (c.kind) {
    case 'sent':
      completeSent(db, item, c, nowMs, finish)
      break
    case 'retry': {
      const stopped = stoppedReason(db, item)
      if (stopped !== null) {
        finish(
          `status = 'cancelled', attempts = ?, last_error = ?`,
          c.attempts,
          `${stopped} (was retrying after: ${c.error})`,
        )
        break
      }
      // Unassigned, it may leave from any mailbox.
      const mailbox = c.unassignMailbox === true ? ', mailbox_id = NULL' : ''
      finish(
        `status = 'pending', scheduled_at = ?, attempts = ?, last_error = ?${mailbox}`,
        c.retryAt.getTime(),
        c.attempts,
        c.error,
      )
      break
    }
    case 'failed':
      finish(`status = 'failed', attempts = ?, last_error = ?`, c.attempts, c.error)
      if (c.leadStatus !== undefined && stopActiveLead(db, item.lead_id, c.leadStatus, nowMs)) {
        cancelLeadPending(db, item.campaign_id, item.lead_id, `lead ${c.leadStatus}`, nowMs)
      }
      break
    case 'cancelled':
      finish(`status = 'cancelled', last_error = ?`, c.reason)
      break
  }
  return 'ok'
}

type Finish = (set: string, ...values: Array<string | number | null>) => unknown

/** `sent`: the item, its send-log row, and the next step or the lead's completion. */
function completeSent(
  db: Db,
  item: Sending,
  c: Extract<Completion, { kind: 'sent' }>,
  nowMs: number,
  finish: Finish,
): void {
  const sentAt = c.sentAt === undefined ? nowMs : c.sentAt.getTime()
  const mailboxId = c.mailboxId === undefined ? item.mailbox_id : Number(c.mailboxId)
  const logged = db.run(
    `INSERT INTO ${T.sendLog} (campaign_id, lead_id, step, mailbox_id, message_id, recipient, subject, sent_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    item.campaign_id,
    item.lead_id,
    item.step,
    mailboxId,
    c.messageId,
    c.to,
    c.subject,
    sentAt,
  )
  if (logged.changes === 0) {
    // Unreachable while items are unique per (campaign, lead, step); the transaction rolls back.
    throw new MailcadenceError(
      'store-conflict',
      `send log already has campaign ${item.campaign_id}, lead ${item.lead_id}, step ${item.step}`,
    )
  }
  finish(`status = 'sent', sent_at = ?, message_id = ?, mailbox_id = ?`, sentAt, c.messageId, mailboxId)
  const next = c.next
  if (next === undefined) {
    stopActiveLead(db, item.lead_id, 'completed', nowMs)
    return
  }
  const state = db.get<{ lead: string; campaign: string }>(
    `SELECT l.status AS lead, c.status AS campaign FROM ${T.leads} l, ${T.campaigns} c WHERE l.id = ? AND c.id = ?`,
    item.lead_id,
    item.campaign_id,
  )!
  if (state.lead !== 'active' || state.campaign === 'CANCELLED') return
  const references = (JSON.parse(item.thread_refs) as string[]).concat(c.messageId)
  insertPendingItem(
    db,
    item.campaign_id,
    item.lead_id,
    {
      step: next.step,
      scheduledAt: next.scheduledAt.getTime(),
      mailboxId: mailboxId === null ? null : String(mailboxId),
      windowKey: item.window_key,
      references,
      threadSubject: item.thread_subject ?? c.subject,
    },
    nowMs,
  )
}

/** Whether any `sending` item's lease has expired (one probe of the index of sending items). */
export function hasExpiredLeases(db: Db, now: Date): boolean {
  return (
    db.get(
      `SELECT 1 AS one FROM ${T.items} WHERE status = 'sending' AND lease_until <= ? LIMIT 1`,
      now.getTime(),
    ) !== undefined
  )
}

/**
 * Recovers `sending` items whose lease has expired (`lease_until <= now`), through the index of
 * sending items only. With `'retry'`, an item whose lead or campaign stopped meanwhile fails as
 * `interrupted` instead of going back to the queue.
 */
export function recoverExpiredLeases(db: Db, now: Date, policy: 'fail' | 'retry'): RecoveredItem[] {
  const nowMs = now.getTime()
  const expired = db.all<Row>(
    `SELECT id, campaign_id, lead_id, step FROM ${T.items}
     WHERE status = 'sending' AND lease_until <= ? ORDER BY id`,
    nowMs,
  )
  return expired.map((row) => {
    const item = { campaign_id: row.campaign_id as number, lead_id: row.lead_id as number }
    const status = policy === 'retry' && stoppedReason(db, item) === null ? 'pending' : 'failed'
    db.run(
      `UPDATE ${T.items} SET status = ?, lease_token = NULL, lease_until = NULL, last_error = 'interrupted',
         updated_at = ?, scheduled_at = CASE WHEN ? = 'pending' THEN ? ELSE scheduled_at END
       WHERE id = ?`,
      status,
      nowMs,
      status,
      nowMs,
      row.id as number,
    )
    return {
      itemId: String(row.id),
      campaignId: String(row.campaign_id),
      leadId: String(row.lead_id),
      step: row.step as number,
      status,
    }
  })
}
