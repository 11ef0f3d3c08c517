/**
 * Completion: one statement per completion, guarded by the reservation's lease token.
 *
 * Locks are taken in the order every other writer uses (campaign → lead → item → mailbox count),
 * so completions, reservations, stops and recovery cannot deadlock each other:
 *
 * - `it` reads the item if it is still `sending` under this token (from the snapshot);
 * - `camp` and `lead` lock its campaign and lead rows and read their latest statuses, so a stop that
 *   committed first is seen, and a stop that comes later waits and then cancels what we enqueued;
 * - `done` is the compare-and-set on the item (`status = 'sending' AND lease_token = $2`, re-checked
 *   on the latest row version): if recovery or another worker decided first it matches nothing,
 *   every other part depends on it, and the outcome is `lease-lost`;
 * - refunds give back the day counts only if the reservation counted on those day keys, and the
 *   pacing slot only while the campaign still has the one the reservation set.
 *
 * Each completion commits on its own: no transaction spans the calls, and a batch's completions
 * never hold one another's locks.
 */
import type { Completion, CompletionOutcome } from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import { completeSentBatch, fitsSentBatch } from './complete-batch.js'
import { REQUEUE_ENDED_SQL } from './rows.js'
import type { Tables } from './schema.js'

/** The shared head of the statements: $1 item id, $2 lease token, $3 now. */
function prelude(t: Tables): string {
  return `it AS MATERIALIZED (
    SELECT q.campaign_id, q.lead_id, q.mailbox_id, q.res_campaign_day_key, q.res_mailbox_day_key
    FROM ${t.items} q WHERE q.id = $1 AND q.status = 'sending' AND q.lease_token = $2
  ),
  camp AS MATERIALIZED (
    SELECT c.id, c.status FROM ${t.campaigns} c JOIN it ON c.id = it.campaign_id FOR NO KEY UPDATE OF c
  ),
  lead AS MATERIALIZED (
    SELECT l.id, l.status FROM ${t.leads} l JOIN it ON l.id = it.lead_id JOIN camp ON camp.id = it.campaign_id
    FOR NO KEY UPDATE OF l
  )`
}

/**
 * Refund parts, with their four parameters numbered from `n`: campaign key, mailbox id, mailbox
 * key, pacing slot. The campaign's count and its slot are one UPDATE (a row updated twice in one
 * statement keeps only one of the changes); the slot is given back only while it is still the one
 * the reservation set.
 */
function refunds(t: Tables, n: number): string {
  const [campaignKey, mailboxId, mailboxKey, slot] = [
    `$${n}::text`,
    `$${n + 1}::bigint`,
    `$${n + 2}::text`,
    `$${n + 3}::timestamptz`,
  ]
  const countBack = `${campaignKey} IS NOT NULL AND c.day_key = ${campaignKey}
      AND it.res_campaign_day_key = ${campaignKey} AND c.day_sent > 0`
  const slotBack = `${slot} IS NOT NULL AND c.next_slot_at = ${slot}`
  return `camp_refund AS (
    UPDATE ${t.campaigns} AS c
    SET day_sent = CASE WHEN ${countBack} THEN c.day_sent - 1 ELSE c.day_sent END,
        next_slot_at = CASE WHEN ${slotBack} THEN NULL ELSE c.next_slot_at END
    FROM it
    WHERE EXISTS (SELECT 1 FROM done) AND c.id = it.campaign_id AND ((${countBack}) OR (${slotBack}))
  ),
  box_refund AS (
    UPDATE ${t.mailboxDays} AS m SET sent = m.sent - 1
    FROM it
    WHERE EXISTS (SELECT 1 FROM done) AND ${mailboxId} IS NOT NULL
      AND m.mailbox_id = ${mailboxId} AND m.day_key = ${mailboxKey}
      AND it.mailbox_id = ${mailboxId} AND it.res_mailbox_day_key = ${mailboxKey} AND m.sent > 0
  )`
}

/**
 * $4 message id, $5 subject, $6 recipient, $7 next step, $8 next scheduledAt; refunds $9–$12; $13
 * sentAt and $14 mailbox when the email left earlier elsewhere (else now, and the reserved one);
 * $15 the variant (every kind carries it last, kept only while the item has none).
 */
function sentSql(t: Tables): string {
  return `WITH ${prelude(t)},
  done AS (
    UPDATE ${t.items} AS q
    SET status = 'sent', sent_at = coalesce($13::timestamptz, $3), message_id = $4,
        mailbox_id = coalesce($14::bigint, q.mailbox_id), lease_token = NULL, lease_until = NULL, updated_at = $3,
        variant_id = coalesce(q.variant_id, $15::text)
    FROM lead
    WHERE q.id = $1 AND q.status = 'sending' AND q.lease_token = $2
    RETURNING q.id, q.campaign_id, q.lead_id, q.step, q.mailbox_id, q.thread_refs, q.thread_subject, q.window_key
  ),
  logged AS (
    INSERT INTO ${t.sendLog} (campaign_id, lead_id, step, mailbox_id, message_id, recipient, subject, sent_at)
    SELECT d.campaign_id, d.lead_id, d.step, d.mailbox_id, $4, $6, $5, coalesce($13::timestamptz, $3) FROM done d
  ),
  enqueued AS (
    INSERT INTO ${t.items}
      (campaign_id, lead_id, step, status, scheduled_at, mailbox_id, thread_refs, thread_subject, window_key,
       created_at, updated_at)
    SELECT d.campaign_id, d.lead_id, $7::int, 'pending', $8::timestamptz, d.mailbox_id,
      d.thread_refs || $4::text, coalesce(d.thread_subject, $5), d.window_key, $3, $3
    FROM done d, lead l, camp c
    WHERE $7::int IS NOT NULL AND l.status = 'active' AND c.status <> 'CANCELLED'
    ON CONFLICT (campaign_id, lead_id, step) DO NOTHING
  ),
  finished AS (
    UPDATE ${t.leads} AS l SET status = 'completed', updated_at = $3
    FROM done d
    WHERE $7::int IS NULL AND l.id = d.lead_id AND l.status = 'active'
  ),
  ${refunds(t, 9)}
  SELECT count(*)::int AS done FROM done`
}

/** $4 retryAt, $5 attempts, $6 error, $7 unassign; refunds from $8 (four); $12 variant. */
function retrySql(t: Tables): string {
  return `WITH ${prelude(t)},
  stop AS (
    SELECT CASE
      WHEN l.status <> 'active' THEN 'lead ' || l.status
      WHEN c.status IN (${REQUEUE_ENDED_SQL}) THEN 'campaign ' || lower(c.status)
    END AS reason
    FROM lead l, camp c
  ),
  done AS (
    UPDATE ${t.items} AS q
    SET status = CASE WHEN x.reason IS NULL THEN 'pending' ELSE 'cancelled' END,
        scheduled_at = CASE WHEN x.reason IS NULL THEN $4::timestamptz ELSE q.scheduled_at END,
        attempts = $5,
        last_error = CASE WHEN x.reason IS NULL THEN $6::text
                          ELSE x.reason || ' (was retrying after: ' || $6::text || ')' END,
        mailbox_id = CASE WHEN x.reason IS NULL AND $7::boolean THEN NULL ELSE q.mailbox_id END,
        lease_token = NULL, lease_until = NULL, updated_at = $3, variant_id = coalesce(q.variant_id, $12::text)
    FROM stop x
    WHERE q.id = $1 AND q.status = 'sending' AND q.lease_token = $2
    RETURNING q.id
  ),
  ${refunds(t, 8)}
  SELECT count(*)::int AS done FROM done`
}

/** $4 error, $5 attempts, $6 lead status or null; refunds from $7; $11 variant. */
function failedSql(t: Tables): string {
  return `WITH ${prelude(t)},
  done AS (
    UPDATE ${t.items} AS q
    SET status = 'failed', attempts = $5, last_error = $4, lease_token = NULL, lease_until = NULL, updated_at = $3,
        variant_id = coalesce(q.variant_id, $11::text)
    FROM lead
    WHERE q.id = $1 AND q.status = 'sending' AND q.lease_token = $2
    RETURNING q.id, q.campaign_id, q.lead_id
  ),
  stopped AS (
    UPDATE ${t.leads} AS l SET status = $6::text, updated_at = $3
    FROM done d
    WHERE $6::text IS NOT NULL AND l.id = d.lead_id AND l.status = 'active'
    RETURNING l.id
  ),
  cancelled AS (
    UPDATE ${t.items} AS q SET status = 'cancelled', last_error = 'lead ' || $6::text, updated_at = $3
    FROM stopped s, done d
    WHERE q.campaign_id = d.campaign_id AND q.lead_id = s.id AND q.status = 'pending'
  ),
  ${refunds(t, 7)}
  SELECT count(*)::int AS done FROM done`
}

/**
 * $4 reason; refunds from $5; $9 variant. Not sent on purpose: the item is cancelled, its attempts kept; the
 * lead is left as it is (its lock keeps the statement's lock order) and no next step is enqueued.
 */
function cancelledSql(t: Tables): string {
  return `WITH ${prelude(t)},
  done AS (
    UPDATE ${t.items} AS q
    SET status = 'cancelled', last_error = $4, lease_token = NULL, lease_until = NULL, updated_at = $3,
        variant_id = coalesce(q.variant_id, $9::text)
    FROM lead
    WHERE q.id = $1 AND q.status = 'sending' AND q.lease_token = $2
    RETURNING q.id
  ),
  ${refunds(t, 5)}
  SELECT count(*)::int AS done FROM done`
}

export interface CompletionStatements {
  sent: string
  retry: string
  failed: string
  cancelled: string
}

export function completionSql(t: Tables): CompletionStatements {
  return { sent: sentSql(t), retry: retrySql(t), failed: failedSql(t), cancelled: cancelledSql(t) }
}

function refundValues(c: Completion): unknown[] {
  const r = c.refund
  return r === undefined
    ? [null, null, null, null]
    : [
        r.campaignDayKey ?? null,
        r.mailboxId !== undefined && isId(r.mailboxId) ? r.mailboxId : null,
        r.mailboxDayKey ?? null,
        r.nextSlotAt ?? null,
      ]
}

async function completeOne(
  s: Session,
  sql: CompletionStatements,
  c: Completion,
  now: Date,
): Promise<CompletionOutcome> {
  if (!isId(c.itemId)) return 'lease-lost'
  const head = [c.itemId, c.leaseToken, now]
  let rows: Array<{ done: number }>
  switch (c.kind) {
    case 'sent':
      rows = await s.query(sql.sent, [
        ...head,
        c.messageId,
        c.subject,
        c.to,
        c.next?.step ?? null,
        c.next?.scheduledAt ?? null,
        ...refundValues(c),
        c.sentAt ?? null,
        c.mailboxId !== undefined && isId(c.mailboxId) ? c.mailboxId : null,
        c.variantId ?? null,
      ])
      break
    case 'retry':
      rows = await s.query(sql.retry, [
        ...head,
        c.retryAt,
        c.attempts,
        c.error,
        c.unassignMailbox === true,
        ...refundValues(c),
        c.variantId ?? null,
      ])
      break
    case 'failed':
      rows = await s.query(sql.failed, [
        ...head,
        c.error,
        c.attempts,
        c.leadStatus ?? null,
        ...refundValues(c),
        c.variantId ?? null,
      ])
      break
    case 'cancelled':
      rows = await s.query(sql.cancelled, [...head, c.reason, ...refundValues(c), c.variantId ?? null])
      break
  }
  return rows[0]?.done === 1 ? 'ok' : 'lease-lost'
}

/**
 * The statement that takes, at the start of a completion batch's transaction, every lock its
 * completions will need, in the order every writer takes them: campaigns (id order), then leads
 * (id order), then the mailbox day counts its refunds give back to ((mailbox id, day key) order).
 * Each completion's own statement then finds its rows already held. Without it, refunds locked
 * their counts in the batch's order (by campaign, then item), while a set-based reservation holds
 * the counts it claims in mailbox order and waits for the next: a batch refunding mailbox 2 then 1
 * and a reservation claiming 1 then 2 deadlocked (`deadlock detected … in relation
 * "mailbox_day_counts"`, test/deadlock.test.ts).
 */
export function lockCompletionRowsSql(t: Tables): string {
  return `WITH camp AS MATERIALIZED (
    SELECT c.id FROM ${t.campaigns} c WHERE c.id = ANY($1::bigint[]) ORDER BY c.id FOR NO KEY UPDATE
  ),
  lead AS MATERIALIZED (
    SELECT l.id FROM ${t.leads} l WHERE l.id = ANY($2::bigint[]) AND (SELECT count(*) FROM camp) >= 0
    ORDER BY l.id FOR NO KEY UPDATE
  ),
  box AS MATERIALIZED (
    SELECT d.mailbox_id FROM ${t.mailboxDays} d
    WHERE (d.mailbox_id, d.day_key) IN (SELECT * FROM unnest($3::bigint[], $4::text[]))
      AND (SELECT count(*) FROM lead) >= 0
    ORDER BY d.mailbox_id, d.day_key FOR NO KEY UPDATE
  )
  SELECT count(*)::int AS locked FROM box`
}

/**
 * Completes a batch in one transaction: one commit for the batch rather than one per email, which
 * is what bounds throughput (a commit waits for the disk). The transaction first takes every lock
 * the batch needs, in the order every writer uses ({@link lockCompletionRowsSql}); the completions
 * then run in campaign and item order.
 */
export async function completeSends(
  s: Session,
  t: Tables,
  completions: readonly Completion[],
  now: Date,
): Promise<CompletionOutcome[]> {
  // Sends that went out, each on its own item: one set-based statement (complete-batch.ts).
  if (fitsSentBatch(completions)) return completeSentBatch(s, t, completions, now)
  const sql = completionSql(t)
  const ids = completions.map((c) => c.itemId).filter(isId)
  const rows = await s.query<{ id: string; campaign_id: string; lead_id: string }>(
    `SELECT id::text, campaign_id::text, lead_id::text FROM ${t.items} WHERE id = ANY($1::bigint[])`,
    [ids],
  )
  const campaignOf = new Map(rows.map((row) => [row.id, BigInt(row.campaign_id)]))
  const order = completions
    .map((c, position) => ({
      c,
      position,
      campaign: campaignOf.get(c.itemId) ?? 0n,
      item: isId(c.itemId) ? BigInt(c.itemId) : 0n,
    }))
    .sort((a, b) =>
      a.campaign === b.campaign ? (a.item < b.item ? -1 : 1) : a.campaign < b.campaign ? -1 : 1,
    )
  const outcomes = new Array<CompletionOutcome>(completions.length)
  const campaignIds = [...new Set(order.map((o) => o.campaign))].filter((id) => id > 0n).map(String)
  const leadIds = [...new Set(rows.map((row) => row.lead_id))]
  const boxes = completions.flatMap((c) =>
    c.refund !== undefined && isId(c.refund.mailboxId) ? [c.refund] : [],
  )
  await s.transaction(async (tx) => {
    await tx.query(lockCompletionRowsSql(t), [
      campaignIds,
      leadIds,
      boxes.map((r) => r.mailboxId),
      boxes.map((r) => r.mailboxDayKey),
    ])
    for (const { c, position } of order) outcomes[position] = await completeOne(tx, sql, c, now)
  })
  return outcomes
}
