/**
 * A re-import moving a lead already in the campaign forward (`Store.importLeads` with `advance`).
 *
 * One transaction per lead. It takes the intake/suppression lock of the address's bucket
 * exclusively (as an import does, so no suppression of it runs meanwhile), then locks the lead
 * row (as `stopLead` and completions do) and the lead's items: a reservation either took an item
 * before (it is `sending`: stale) or finds it changed after; a completion or a stop either
 * committed before (seen below: stale) or waits and then sees what this wrote. Every check is
 * read after the locks, in statements of their own, so each sees what committed before them.
 */
import type { ImportedLead } from '@mailcadence/core'
import type { Session } from '../db.js'
import { BUCKETS } from './leads.js'
import { lockKey, type Tables } from './schema.js'

/** Why a pending item the other system's progress replaced was cancelled. */
const ADVANCED = 'advanced by import'

/** Applies one advance; returns whether it did (false: the lead changed since core read it, or is absent). */
export async function advanceLead(
  s: Session,
  t: Tables,
  campaignId: string,
  lead: ImportedLead & { advance: { lastSentStep: number | null } },
  now: Date,
): Promise<boolean> {
  return s.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1::int, hashtext($2) & ${BUCKETS - 1})`, [
      lockKey(t.schema, 'suppress'),
      lead.emailKey,
    ])
    const [row] = await tx.query<{ id: string; status: string; window_key: string }>(
      `SELECT id::text, status, window_key FROM ${t.leads} WHERE campaign_id = $1 AND email_key = $2 FOR NO KEY UPDATE`,
      [campaignId, lead.emailKey],
    )
    if (row?.status !== 'active') return false
    const items = await tx.query<{ id: string; step: number; status: string }>(
      `SELECT id::text, step, status FROM ${t.items} WHERE lead_id = $1 ORDER BY id FOR UPDATE`,
      [row.id],
    )
    const lastSent = items.reduce((max, i) => (i.status === 'sent' && i.step > max ? i.step : max), -1)
    if (items.some((i) => i.status === 'sending') || lastSent !== (lead.advance.lastSentStep ?? -1))
      return false

    for (const sent of lead.history) {
      const item = items.find((i) => i.step === sent.step)
      if (item) {
        await tx.query(
          `UPDATE ${t.items} SET status = 'sent', sent_at = $2, mailbox_id = $3, message_id = $4, last_error = NULL,
             updated_at = $5
           WHERE id = $1`,
          [item.id, sent.sentAt, sent.mailboxId, sent.messageId, now],
        )
      } else {
        await tx.query(
          `INSERT INTO ${t.items} (campaign_id, lead_id, step, status, scheduled_at, attempts, mailbox_id, thread_refs,
             message_id, sent_at, window_key, created_at, updated_at)
           VALUES ($1, $2, $3, 'sent', $4, 0, $5, '{}', $6, $4, $8, $7, $7)`,
          [campaignId, row.id, sent.step, sent.sentAt, sent.mailboxId, sent.messageId, now, row.window_key],
        )
      }
      await tx.query(
        `INSERT INTO ${t.sendLog} (campaign_id, lead_id, step, mailbox_id, message_id, recipient, subject, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          campaignId,
          row.id,
          sent.step,
          sent.mailboxId,
          sent.messageId,
          lead.email,
          sent.subject,
          sent.sentAt,
        ],
      )
    }
    const next = lead.next
    await tx.query(
      `UPDATE ${t.items} SET status = 'cancelled', last_error = $3, updated_at = $4
       WHERE lead_id = $1 AND status = 'pending' AND step IS DISTINCT FROM $2::int`,
      [row.id, next?.step ?? null, ADVANCED, now],
    )
    if (next !== null) {
      await tx.query(
        `INSERT INTO ${t.items} (campaign_id, lead_id, step, status, scheduled_at, attempts, mailbox_id, thread_refs,
           thread_subject, window_key, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', $4, 0, $5, $6, $7, $9, $8, $8)
         ON CONFLICT (campaign_id, lead_id, step) DO NOTHING`,
        [
          campaignId,
          row.id,
          next.step,
          next.scheduledAt,
          next.mailboxId,
          next.references,
          next.threadSubject,
          now,
          row.window_key,
        ],
      )
    }
    if (lead.status !== 'active') {
      await tx.query(`UPDATE ${t.leads} SET status = $2, updated_at = $3 WHERE id = $1`, [
        row.id,
        lead.status,
        now,
      ])
    }
    return true
  })
}
