/**
 * Reservation: one statement per request, all or nothing.
 *
 * The statement, in the order its parts take locks:
 *
 * 1. `camp` locks the campaign row (`FOR NO KEY UPDATE`) only if it is `IN_PROGRESS`, its pacing
 *    slot has come and its day count has room. A locking read sees the row's latest committed
 *    version, and the lock is held to the end of the statement, so these checks are exact and
 *    reservations of one campaign queue up behind each other (whatever its delay).
 * 2. `heads` takes, for each candidate mailbox with room, the oldest due pending item that must
 *    leave from it, and the oldest due unassigned item for the first candidate with room, each with
 *    `FOR UPDATE SKIP LOCKED` through the partial index on pending rows (an item stuck behind a full
 *    mailbox is never scanned); `pick` is the oldest of those heads.
 * 3. `counted` claims the chosen mailbox's day count: `INSERT … ON CONFLICT DO UPDATE … WHERE
 *    sent < limit`, a compare-and-set against the latest row, so concurrent reservations (of any
 *    campaign) can never pass the limit.
 * 4. Only if `counted` returned a row do `camp_upd` (pacing slot, day count, rotation cursor) and
 *    `item_upd` (the item becomes `sending`) write anything. The only part that can still fail after
 *    a lock was taken is the mailbox compare-and-set, and it comes before every other write.
 *
 * When nothing was reserved the same statement reports, from its snapshot, the facts the contract's
 * skip reasons are checked against. If those facts say the reservation should have succeeded (it
 * lost a race: a concurrent commit after our snapshot), the caller runs the statement again.
 */
import type { ReserveOutcome, ReserveRequest } from '@mailcadence/core'
import { MailcadenceError } from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import {
  dateOrNull,
  itemColumns,
  leadColumns,
  NULL_ITEM,
  NULL_LEAD,
  type Row,
  toItem,
  toLead,
} from './rows.js'
import type { Tables } from './schema.js'

/** Attempts per request before a reservation that keeps losing races gives up. */
const MAX_ATTEMPTS = 8

export function reserveSql(t: Tables): string {
  return `WITH
  cand AS (
    SELECT x.mailbox_id, x.day_key, x.lim, x.message_id, x.ord
    FROM unnest($8::bigint[], $9::text[], $10::int[], $11::text[])
      WITH ORDINALITY AS x (mailbox_id, day_key, lim, message_id, ord)
  ),
  room AS MATERIALIZED (
    SELECT c.* FROM cand c
    LEFT JOIN ${t.mailboxDays} d ON d.mailbox_id = c.mailbox_id AND d.day_key = c.day_key
    WHERE coalesce(d.sent, 0) < c.lim
  ),
  camp AS MATERIALIZED (
    SELECT c.id, c.last_mailbox_id FROM ${t.campaigns} c
    WHERE c.id = $1 AND c.status = 'IN_PROGRESS'
      AND (c.next_slot_at IS NULL OR c.next_slot_at <= $2)
      AND $4 > 0 AND (c.day_key IS NULL OR c.day_key < $3 OR (c.day_key = $3 AND c.day_sent < $4))
    FOR NO KEY UPDATE
  ),
  -- The candidate an unassigned item takes: the first with room in the order given or, with a
  -- rotation ($12), in rotation from the one after the campaign's latest lastMailboxId.
  first_room AS MATERIALIZED (
    SELECT r.* FROM room r LEFT JOIN camp c ON true
    ORDER BY CASE WHEN $12::bigint[] IS NULL THEN r.ord ELSE coalesce(
      (array_position($12::bigint[], r.mailbox_id) - coalesce(array_position($12::bigint[], c.last_mailbox_id), 0) - 1
        + cardinality($12::bigint[])) % cardinality($12::bigint[]),
      cardinality($12::bigint[]) + r.ord) END
    LIMIT 1
  ),
  heads AS MATERIALIZED (
    SELECT h.id, h.scheduled_at, r.mailbox_id, r.day_key, r.message_id, false AS unassigned
    FROM camp, room r, LATERAL (
      SELECT q.id, q.scheduled_at FROM ${t.items} q
      WHERE q.campaign_id = camp.id AND q.mailbox_id = r.mailbox_id
        AND q.status = 'pending' AND q.scheduled_at <= $2
      ORDER BY q.scheduled_at, q.id LIMIT 1
      FOR UPDATE SKIP LOCKED
    ) h
    UNION ALL
    SELECT h.id, h.scheduled_at, f.mailbox_id, f.day_key, f.message_id, true AS unassigned
    FROM camp, first_room f, LATERAL (
      SELECT q.id, q.scheduled_at FROM ${t.items} q
      WHERE q.campaign_id = camp.id AND q.mailbox_id IS NULL
        AND q.status = 'pending' AND q.scheduled_at <= $2
      ORDER BY q.scheduled_at, q.id LIMIT 1
      FOR UPDATE SKIP LOCKED
    ) h
  ),
  pick AS MATERIALIZED (SELECT * FROM heads ORDER BY scheduled_at, id LIMIT 1),
  counted AS (
    INSERT INTO ${t.mailboxDays} AS d (mailbox_id, day_key, sent)
    SELECT p.mailbox_id, p.day_key, 1 FROM pick p
    ON CONFLICT (mailbox_id, day_key) DO UPDATE SET sent = d.sent + 1
      WHERE d.sent < (SELECT c.lim FROM cand c JOIN pick p ON c.mailbox_id = p.mailbox_id LIMIT 1)
    RETURNING d.mailbox_id
  ),
  camp_upd AS (
    UPDATE ${t.campaigns} AS c
    SET next_slot_at = $5,
        day_sent = CASE WHEN c.day_key = $3 THEN c.day_sent + 1 ELSE 1 END,
        day_key = $3,
        last_mailbox_id = CASE WHEN p.unassigned THEN p.mailbox_id ELSE c.last_mailbox_id END
    FROM pick p
    WHERE c.id = $1 AND EXISTS (SELECT 1 FROM counted)
  ),
  item_upd AS (
    UPDATE ${t.items} AS q
    SET status = 'sending', lease_token = $6, lease_until = $7, mailbox_id = p.mailbox_id,
        message_id = p.message_id, res_campaign_day_key = $3, res_mailbox_day_key = p.day_key,
        updated_at = $2
    FROM pick p
    WHERE q.id = p.id AND EXISTS (SELECT 1 FROM counted)
    RETURNING ${itemColumns('q')}, q.lead_id AS lead_ref, p.day_key AS mailbox_day_key
  )
  SELECT i.*, ${leadColumns('l', 'l_')},
    (SELECT n.scheduled_at FROM ${t.items} n
     WHERE n.campaign_id = $1 AND n.status = 'pending' AND n.id <> i.id::bigint
     ORDER BY n.scheduled_at, n.id LIMIT 1) AS next_pending_at,
    NULL::text AS d_status, NULL::timestamptz AS d_next_slot_at, NULL::text AS d_day_key,
    NULL::int AS d_day_sent, NULL::timestamptz AS d_earliest, NULL::boolean AS d_eligible
  FROM item_upd i JOIN ${t.leads} l ON l.id = i.lead_ref
  UNION ALL
  SELECT ${NULL_RESERVED_ITEM}, ${NULL_LEAD}, NULL::timestamptz,
    c.status, c.next_slot_at, c.day_key, c.day_sent,
    (SELECT q.scheduled_at FROM ${t.items} q WHERE q.campaign_id = $1 AND q.status = 'pending'
     ORDER BY q.scheduled_at, q.id LIMIT 1),
    EXISTS (
      SELECT 1 FROM room r WHERE EXISTS (
        SELECT 1 FROM ${t.items} q WHERE q.campaign_id = $1 AND q.mailbox_id = r.mailbox_id
          AND q.status = 'pending' AND q.scheduled_at <= $2)
    ) OR (EXISTS (SELECT 1 FROM first_room) AND EXISTS (
        SELECT 1 FROM ${t.items} q WHERE q.campaign_id = $1 AND q.mailbox_id IS NULL
          AND q.status = 'pending' AND q.scheduled_at <= $2))
  FROM (SELECT 1) one LEFT JOIN ${t.campaigns} c ON c.id = $1
  WHERE NOT EXISTS (SELECT 1 FROM item_upd)`
}

/** The "nothing reserved" row's item columns: the item's, then `lead_ref` and `mailbox_day_key`. */
const NULL_RESERVED_ITEM = `${NULL_ITEM}, NULL::bigint, NULL::text`

export async function reserveSends(
  s: Session,
  t: Tables,
  requests: readonly ReserveRequest[],
  now: Date,
): Promise<ReserveOutcome[]> {
  const sql = reserveSql(t)
  const outcomes: ReserveOutcome[] = []
  // In order, one statement each: a statement holds its locks until it commits, so running the
  // requests of a batch in one transaction could deadlock against another worker's batch.
  for (const [i, request] of requests.entries()) {
    try {
      outcomes.push(await reserveOne(s, sql, request, now))
    } catch (error) {
      // Keep what was reserved before the failure (see the Store contract); the connection is
      // suspect, so the rest of the batch is reported as not run.
      if (i === 0) throw error
      for (let rest = i; rest < requests.length; rest++) {
        outcomes.push({ ok: false, reason: 'store-unavailable', error: error as Error })
      }
      break
    }
  }
  return outcomes
}

async function reserveOne(s: Session, sql: string, req: ReserveRequest, now: Date): Promise<ReserveOutcome> {
  if (!isId(req.campaignId)) return { ok: false, reason: 'not-running' }
  // A candidate whose id cannot be a mailbox has no room anywhere; leave it out.
  const candidates = req.mailboxes.filter((m) => isId(m.mailboxId))
  const values = [
    req.campaignId,
    now,
    req.campaignDayKey,
    req.maxEmailsPerDay,
    req.nextSlotAt,
    req.leaseToken,
    req.leaseUntil,
    candidates.map((m) => m.mailboxId),
    candidates.map((m) => m.dayKey),
    candidates.map((m) => m.dailyEmailLimit),
    candidates.map((m) => m.messageId),
    req.rotation === undefined ? null : req.rotation.filter(isId),
  ]
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const [row] = await s.query<Row>(sql, values, { prepared: true })
    if (!row) throw new MailcadenceError('store-conflict', 'reservation statement returned no row')
    if (row.id !== null) {
      return {
        ok: true,
        send: {
          item: toItem(row),
          lead: toLead(row, 'l_'),
          campaignDayKey: req.campaignDayKey,
          mailboxDayKey: String(row.mailbox_day_key),
          nextPendingAt: dateOrNull(row.next_pending_at),
        },
      }
    }
    const refused = skipReason(row, req, now)
    if (refused !== null) return refused
    // Lost a race (the snapshot says it would have worked): give the winner a moment, try again.
    await new Promise((resolve) => setTimeout(resolve, attempt))
  }
  throw new MailcadenceError(
    'store-unavailable',
    `reservation for campaign ${req.campaignId} kept conflicting with concurrent changes; try again`,
  )
}

/**
 * The contract's skip reasons, checked in its order against one snapshot, or null when that
 * snapshot allows the reservation (so the attempt lost a race and may be retried).
 */
export function skipReason(row: Row, req: ReserveRequest, now: Date): ReserveOutcome | null {
  if (row.d_status !== 'IN_PROGRESS') return { ok: false, reason: 'not-running' }
  const nextSlot = dateOrNull(row.d_next_slot_at)
  if (nextSlot !== null && nextSlot.getTime() > now.getTime())
    return { ok: false, reason: 'pacing', until: nextSlot }
  const dayKey = row.d_day_key === null ? null : String(row.d_day_key)
  // A day key before the stored one is a day already over (a worker whose clock lags): its count
  // is no longer kept, so it has no room.
  const full =
    req.maxEmailsPerDay <= 0 ||
    (dayKey !== null &&
      (dayKey > req.campaignDayKey ||
        (dayKey === req.campaignDayKey && Number(row.d_day_sent) >= req.maxEmailsPerDay)))
  if (full) return { ok: false, reason: 'campaign-limit' }
  const earliest = dateOrNull(row.d_earliest)
  if (earliest === null) return { ok: false, reason: 'queue-empty' }
  if (earliest.getTime() > now.getTime()) return { ok: false, reason: 'not-due', until: earliest }
  if (row.d_eligible !== true) return { ok: false, reason: 'mailbox-limit' }
  return null
}
