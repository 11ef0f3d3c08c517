/**
 * Set-based completion of sends that went out (`kind: 'sent'`, no refund): one statement for the
 * whole batch instead of one per completion. The same effects as the per-completion statement in
 * `complete.ts`, each guarded by its own lease token, with locks in the order every writer uses:
 *
 * - `camp` locks the batch's campaigns (id order) and `lead` their leads (id order), reading their
 *   latest statuses, before any write;
 * - `done` is the compare-and-set on each item (`status = 'sending' AND lease_token = token`), re-checked
 *   on the latest row version; an item it does not match is `lease-lost`, and nothing else is
 *   written for it, since every other part reads `done`;
 * - `logged` writes the send-log rows (unique on campaign, lead, step), `enqueued` the next steps of
 *   leads still active in campaigns not cancelled (never twice: `ON CONFLICT DO NOTHING` on the
 *   queue's unique step), `finished` completes the leads whose sequence is over.
 *
 * Used only when the completions' items are distinct, so no two of them touch the same item.
 */
import type { Completion, CompletionOutcome } from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import type { Tables } from './schema.js'

type Sent = Extract<Completion, { kind: 'sent' }>

export function completeSentBatchSql(t: Tables): string {
  return `WITH
  inp AS MATERIALIZED (
    SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::timestamptz[],
      $9::text[])
      AS x (item_id, token, message_id, subject, recipient, next_step, next_at, variant_id)
  ),
  it AS MATERIALIZED (
    SELECT q.id, q.campaign_id, q.lead_id FROM ${t.items} q JOIN inp x ON x.item_id = q.id
    WHERE q.status = 'sending' AND q.lease_token = x.token
  ),
  camp AS MATERIALIZED (
    SELECT c.id, c.status FROM ${t.campaigns} c WHERE c.id IN (SELECT it.campaign_id FROM it)
    ORDER BY c.id FOR NO KEY UPDATE
  ),
  lead AS MATERIALIZED (
    SELECT l.id, l.status FROM ${t.leads} l
    WHERE l.id IN (SELECT it.lead_id FROM it) AND (SELECT count(*) FROM camp) >= 0
    ORDER BY l.id FOR NO KEY UPDATE
  ),
  done AS (
    UPDATE ${t.items} AS q
    SET status = 'sent', sent_at = $1, message_id = x.message_id, lease_token = NULL, lease_until = NULL,
        updated_at = $1, variant_id = coalesce(q.variant_id, x.variant_id)
    FROM inp x
    WHERE q.id = x.item_id AND q.status = 'sending' AND q.lease_token = x.token
      AND (SELECT count(*) FROM lead) >= 0
    RETURNING q.id, q.campaign_id, q.lead_id, q.step, q.mailbox_id, q.thread_refs, q.thread_subject, q.window_key,
      x.message_id AS sent_message_id, x.subject, x.recipient, x.next_step, x.next_at
  ),
  logged AS (
    INSERT INTO ${t.sendLog} (campaign_id, lead_id, step, mailbox_id, message_id, recipient, subject, sent_at)
    SELECT d.campaign_id, d.lead_id, d.step, d.mailbox_id, d.sent_message_id, d.recipient, d.subject, $1
    FROM done d
  ),
  enqueued AS (
    INSERT INTO ${t.items}
      (campaign_id, lead_id, step, status, scheduled_at, mailbox_id, thread_refs, thread_subject, window_key,
       created_at, updated_at)
    SELECT d.campaign_id, d.lead_id, d.next_step, 'pending', d.next_at, d.mailbox_id,
      d.thread_refs || d.sent_message_id, coalesce(d.thread_subject, d.subject), d.window_key, $1, $1
    FROM done d
    JOIN lead l ON l.id = d.lead_id
    JOIN camp c ON c.id = d.campaign_id
    WHERE d.next_step IS NOT NULL AND l.status = 'active' AND c.status <> 'CANCELLED'
    ON CONFLICT (campaign_id, lead_id, step) DO NOTHING
  ),
  finished AS (
    UPDATE ${t.leads} AS l SET status = 'completed', updated_at = $1
    FROM done d
    WHERE d.next_step IS NULL AND l.id = d.lead_id AND l.status = 'active'
  )
  SELECT d.id::text AS id FROM done d`
}

/** Whether a batch can go through {@link completeSentBatch}. */
export function fitsSentBatch(completions: readonly Completion[]): completions is readonly Sent[] {
  if (completions.length < 2) return false
  const ids = new Set<string>()
  for (const c of completions) {
    if (c.kind !== 'sent' || c.refund !== undefined || !isId(c.itemId) || ids.has(c.itemId)) return false
    // Sends recorded as made earlier elsewhere (`sentAt`, `mailboxId`) take the one-by-one path.
    if (c.sentAt !== undefined || c.mailboxId !== undefined) return false
    ids.add(c.itemId)
  }
  return true
}

export async function completeSentBatch(
  s: Session,
  t: Tables,
  completions: readonly Sent[],
  now: Date,
): Promise<CompletionOutcome[]> {
  const rows = await s.query<{ id: string }>(
    completeSentBatchSql(t),
    [
      now,
      completions.map((c) => c.itemId),
      completions.map((c) => c.leaseToken),
      completions.map((c) => c.messageId),
      completions.map((c) => c.subject),
      completions.map((c) => c.to),
      completions.map((c) => c.next?.step ?? null),
      completions.map((c) => c.next?.scheduledAt ?? null),
      completions.map((c) => c.variantId ?? null),
    ],
    { prepared: true },
  )
  const done = new Set(rows.map((r) => r.id))
  return completions.map((c) => (done.has(c.itemId) ? 'ok' : 'lease-lost'))
}
