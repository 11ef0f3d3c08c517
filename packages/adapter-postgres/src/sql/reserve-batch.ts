/**
 * Reservation: a whole batch of requests, of one campaign or many, in one statement and one commit.
 * A single request is a batch of one: the rules of a reservation (which campaign may send, which
 * item leaves from which mailbox, why a refusal) are written here once. The statement decides a
 * batch only when its result is provably the one that handling the requests one after the other
 * would give; otherwise the requests it could not decide go again as batches of one, which it
 * always decides unless it lost a race with a concurrent commit (then it runs again).
 *
 * The statement, in the order it takes locks (the same order as every other writer: campaigns, in
 * id order, before mailbox counts):
 *
 * 1. `camp` locks every campaign of the batch that is `IN_PROGRESS` (`FOR NO KEY UPDATE`, id order),
 *    reading their latest committed pacing slot and day count.
 * 2. `locked_boxes` locks the day-count rows of every candidate mailbox (mailbox id, day key order)
 *    and `fast` checks, on those latest versions, that each one exists and is either full or has
 *    room for every request of the batch that offers it. Only then can no request's outcome depend
 *    on the order of the requests across campaigns or on which mailbox an earlier one took (a batch
 *    of one always passes); if not, nothing is written and the caller goes request by request. A
 *    full candidate is left out (`room`): it has room for none of them.
 * 3. `allow` is, per campaign, how many of its requests succeed as far as the campaign is concerned:
 *    requests run in order, so they stop at the first one that meets a pacing slot still to come
 *    (the stored one, or the `nextSlotAt` of the request before) or a full day count.
 * 4. `heads` takes, per campaign, up to that many oldest due pending items of each candidate mailbox
 *    with room and as many unassigned ones, of the listed window keys when the requests list some
 *    (`ReserveRequest.windowKeys`: the others are passed over), `FOR UPDATE SKIP LOCKED`; the
 *    campaign's oldest `allow` of them are its picks, the first going to its first request and so
 *    on: exactly what the requests would take one by one, since every candidate left has room for
 *    all of them. An unassigned pick takes its request's first candidate with room or, with a
 *    rotation, the next member with room in turn after the campaign's (locked) `lastMailboxId`:
 *    the u-th unassigned pick the u-th (the first candidate outside the rotation when no member
 *    has room), as the store kit's `rotationTurn` orders them.
 * 5. The writes: mailbox counts (rows already locked and checked), campaigns (slot of the last
 *    request served, day count, rotation cursor) and items (`sending`, lease).
 *
 * The result has one row per reserved request and one row of facts per campaign, read from the
 * same locked rows and snapshot; the store kit's `refusalFor` turns them into the refusal of the
 * campaign's remaining requests.
 */
import type { ReserveOutcome, ReserveRequest } from '@mailcadence/core'
import { MailcadenceError } from '@mailcadence/core'
import { type ReservationFacts, refusalFor } from '@mailcadence/core/store-kit'
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

/** Attempts of a batch of one that keeps losing races before it gives up. */
const MAX_ATTEMPTS = 8

export function reserveBatchSql(t: Tables): string {
  return `WITH
  req AS MATERIALIZED (
    SELECT r.pos, r.campaign_id, r.day_key, r.max_per_day, r.next_slot_at, r.lease_token, r.lease_until,
      (row_number() OVER (PARTITION BY r.campaign_id ORDER BY r.pos) - 1)::int AS seq
    FROM unnest($2::int[], $3::bigint[], $4::text[], $5::int[], $6::timestamptz[], $7::text[], $8::timestamptz[])
      AS r (pos, campaign_id, day_key, max_per_day, next_slot_at, lease_token, lease_until)
  ),
  cand AS MATERIALIZED (
    SELECT x.pos, x.mailbox_id, x.day_key, x.lim, x.message_id, x.ord
    FROM unnest($9::int[], $10::bigint[], $11::text[], $12::int[], $13::text[], $14::int[])
      AS x (pos, mailbox_id, day_key, lim, message_id, ord)
  ),
  boxes AS MATERIALIZED (
    SELECT x.mailbox_id, x.day_key, min(x.lim) AS lim, count(*)::int AS uses
    FROM cand x GROUP BY x.mailbox_id, x.day_key
  ),
  camp AS MATERIALIZED (
    SELECT c.id, c.next_slot_at, c.day_key, c.day_sent, c.last_mailbox_id FROM ${t.campaigns} c
    WHERE c.id IN (SELECT r.campaign_id FROM req r) AND c.status = 'IN_PROGRESS'
    ORDER BY c.id
    FOR NO KEY UPDATE
  ),
  locked_boxes AS MATERIALIZED (
    SELECT d.mailbox_id, d.day_key, d.sent FROM ${t.mailboxDays} d
    WHERE (d.mailbox_id, d.day_key) IN (SELECT b.mailbox_id, b.day_key FROM boxes b)
      AND (SELECT count(*) FROM camp) >= 0
    ORDER BY d.mailbox_id, d.day_key
    FOR NO KEY UPDATE
  ),
  fast AS MATERIALIZED (
    SELECT (SELECT count(*) FROM boxes) = (SELECT count(*) FROM locked_boxes) AND NOT EXISTS (
      SELECT 1 FROM locked_boxes l JOIN boxes b ON b.mailbox_id = l.mailbox_id AND b.day_key = l.day_key
      WHERE l.sent < b.lim AND l.sent + b.uses > b.lim
    ) AS ok,
    (SELECT count(*) FROM boxes) > (SELECT count(*) FROM locked_boxes) AS missing
  ),
  -- The candidates with room (for every request that offers them, given fast.ok); a full one has
  -- no room for any request of the batch, whatever their order, so it is simply left out.
  -- (An anti-join: the planner then expects most candidates to have room, as they do; a join
  -- made it expect one and pick nested loops over the candidates further on.)
  full_boxes AS MATERIALIZED (
    SELECT l.mailbox_id, l.day_key FROM locked_boxes l
    JOIN boxes b ON b.mailbox_id = l.mailbox_id AND b.day_key = l.day_key
    WHERE l.sent >= b.lim
  ),
  room AS MATERIALIZED (
    SELECT x.* FROM cand x
    WHERE NOT EXISTS (SELECT 1 FROM full_boxes f WHERE f.mailbox_id = x.mailbox_id AND f.day_key = x.day_key)
  ),
  per_campaign AS MATERIALIZED (
    SELECT g.campaign_id, g.requests, g.first_future, coalesce(pb.ids, '{}') AS box_ids,
      string_to_array(($15::text[])[g.first_pos + 1], ',')::bigint[] AS rot,
      CASE WHEN ($16::text[])[g.first_pos + 1] IS NOT NULL THEN
        ARRAY(SELECT DISTINCT jsonb_array_elements_text((($16::text[])[g.first_pos + 1])::jsonb)) END AS keys
    FROM (
      SELECT r.campaign_id, count(*)::int AS requests, min(r.pos) AS first_pos,
        min(r.seq) FILTER (WHERE r.next_slot_at > $1) AS first_future
      FROM req r GROUP BY r.campaign_id
    ) g
    LEFT JOIN (
      SELECT x.pos, array_agg(x.mailbox_id ORDER BY x.ord) AS ids FROM room x GROUP BY x.pos
    ) pb ON pb.pos = g.first_pos
  ),
  first_cand AS MATERIALIZED (
    SELECT DISTINCT ON (x.pos) x.pos, x.mailbox_id FROM room x ORDER BY x.pos, x.ord
  ),
  allow AS MATERIALIZED (
    SELECT c.id AS campaign_id, c.last_mailbox_id, f.day_key, f.max_per_day, pc.keys,
      cardinality(pc.box_ids) AS boxes,
      -- With a rotation, the candidates unassigned items take in turn: the rotation's members with
      -- room, from the one after the campaign's latest lastMailboxId (wrapping), the u-th unassigned
      -- pick the u-th (each has room for all the picks, and a full member is skipped every time);
      -- only when none has room, the first candidate outside the rotation, every time.
      CASE WHEN pc.rot IS NOT NULL THEN coalesce((
        SELECT array_agg(u.b ORDER BY
          (array_position(pc.rot, u.b) - coalesce(array_position(pc.rot, c.last_mailbox_id), 0) - 1
            + cardinality(pc.rot)) % cardinality(pc.rot))
        FROM unnest(pc.box_ids) AS u (b) WHERE array_position(pc.rot, u.b) IS NOT NULL
      ), pc.box_ids[1:1]) END AS rot_sorted,
      CASE
        WHEN c.next_slot_at IS NOT NULL AND c.next_slot_at > $1 THEN 0
        ELSE least(
          pc.requests,
          greatest(0, CASE
            WHEN c.day_key IS NULL OR c.day_key < f.day_key THEN f.max_per_day
            WHEN c.day_key = f.day_key THEN f.max_per_day - c.day_sent
            ELSE 0 END),
          coalesce(pc.first_future + 1, 2147483647)
        )
      END::int AS n
    FROM camp c
    JOIN req f ON f.campaign_id = c.id AND f.seq = 0
    JOIN per_campaign pc ON pc.campaign_id = c.id
    WHERE (SELECT ok FROM fast)
  ),
  camp_boxes AS MATERIALIZED (
    SELECT a.campaign_id, b.mailbox_id, a.n, a.keys
    FROM allow a JOIN per_campaign pc ON pc.campaign_id = a.campaign_id, unnest(pc.box_ids) AS b (mailbox_id)
    WHERE a.n > 0
  ),
  -- Without window keys, each queue's oldest due items; with them, each listed key's own, through
  -- queue_items_pending_by_key, so the items of the keys not listed (a zone asleep, however many of
  -- its items are due) are never scanned.
  heads AS MATERIALIZED (
    SELECT a.campaign_id, h.id, h.scheduled_at, h.mailbox_id
    FROM allow a, LATERAL (
      SELECT q.id, q.scheduled_at, q.mailbox_id FROM ${t.items} q
      WHERE q.campaign_id = a.campaign_id AND q.mailbox_id IS NULL
        AND q.status = 'pending' AND q.scheduled_at <= $1
      ORDER BY q.scheduled_at, q.id LIMIT a.n
      FOR UPDATE SKIP LOCKED
    ) h
    WHERE a.n > 0 AND a.boxes > 0 AND a.keys IS NULL
    UNION ALL
    SELECT a.campaign_id, h.id, h.scheduled_at, h.mailbox_id
    FROM allow a, unnest(a.keys) AS k (window_key), LATERAL (
      SELECT q.id, q.scheduled_at, q.mailbox_id FROM ${t.items} q
      WHERE q.campaign_id = a.campaign_id AND q.window_key = k.window_key AND q.mailbox_id IS NULL
        AND q.status = 'pending' AND q.scheduled_at <= $1
      ORDER BY q.scheduled_at, q.id LIMIT a.n
      FOR UPDATE SKIP LOCKED
    ) h
    WHERE a.n > 0 AND a.boxes > 0
    UNION ALL
    SELECT b.campaign_id, h.id, h.scheduled_at, h.mailbox_id
    FROM camp_boxes b, LATERAL (
      SELECT q.id, q.scheduled_at, q.mailbox_id FROM ${t.items} q
      WHERE q.campaign_id = b.campaign_id AND q.mailbox_id = b.mailbox_id
        AND q.status = 'pending' AND q.scheduled_at <= $1
      ORDER BY q.scheduled_at, q.id LIMIT b.n
      FOR UPDATE SKIP LOCKED
    ) h
    WHERE b.keys IS NULL
    UNION ALL
    SELECT b.campaign_id, h.id, h.scheduled_at, h.mailbox_id
    FROM camp_boxes b, unnest(b.keys) AS k (window_key), LATERAL (
      SELECT q.id, q.scheduled_at, q.mailbox_id FROM ${t.items} q
      WHERE q.campaign_id = b.campaign_id AND q.window_key = k.window_key AND q.mailbox_id = b.mailbox_id
        AND q.status = 'pending' AND q.scheduled_at <= $1
      ORDER BY q.scheduled_at, q.id LIMIT b.n
      FOR UPDATE SKIP LOCKED
    ) h
  ),
  ranked AS MATERIALIZED (
    SELECT h.*, (row_number() OVER (PARTITION BY h.campaign_id ORDER BY h.scheduled_at, h.id) - 1)::int AS rk,
      (row_number() OVER (PARTITION BY h.campaign_id, h.mailbox_id IS NULL ORDER BY h.scheduled_at, h.id)
        - 1)::int AS urk
    FROM heads h
  ),
  picks AS MATERIALIZED (
    SELECT k.id, k.campaign_id, k.rk, k.mailbox_id IS NULL AS unassigned, r.pos, r.lease_token, r.lease_until,
      r.day_key AS campaign_day_key, r.next_slot_at, x.mailbox_id AS box, x.day_key AS box_day_key, x.message_id
    FROM ranked k
    JOIN allow a ON a.campaign_id = k.campaign_id AND k.rk < a.n
    JOIN req r ON r.campaign_id = k.campaign_id AND r.seq = k.rk
    JOIN first_cand fc ON fc.pos = r.pos
    JOIN cand x ON x.pos = r.pos AND x.mailbox_id = coalesce(
      k.mailbox_id,
      CASE WHEN a.rot_sorted IS NULL THEN fc.mailbox_id
           ELSE a.rot_sorted[(k.urk % cardinality(a.rot_sorted)) + 1] END)
  ),
  picked AS MATERIALIZED (
    SELECT p.campaign_id, count(*)::int AS n, array_agg(p.id) AS ids FROM picks p GROUP BY p.campaign_id
  ),
  counted AS (
    UPDATE ${t.mailboxDays} AS d SET sent = d.sent + p.n
    FROM (SELECT box, box_day_key, count(*)::int AS n FROM picks GROUP BY box, box_day_key) p
    WHERE d.mailbox_id = p.box AND d.day_key = p.box_day_key
  ),
  camp_upd AS (
    UPDATE ${t.campaigns} AS c
    SET next_slot_at = s.next_slot_at,
        day_sent = CASE WHEN c.day_key = s.day_key THEN c.day_sent + s.n ELSE s.n END,
        day_key = s.day_key,
        last_mailbox_id = coalesce(s.last_box, c.last_mailbox_id)
    FROM (
      SELECT p.campaign_id, count(*)::int AS n,
        (array_agg(p.next_slot_at ORDER BY p.rk DESC))[1] AS next_slot_at,
        (array_agg(p.campaign_day_key ORDER BY p.rk DESC))[1] AS day_key,
        (array_agg(p.box ORDER BY p.rk DESC) FILTER (WHERE p.unassigned))[1] AS last_box
      FROM picks p GROUP BY p.campaign_id
    ) s
    WHERE c.id = s.campaign_id
  ),
  item_upd AS (
    UPDATE ${t.items} AS q
    SET status = 'sending', lease_token = p.lease_token, lease_until = p.lease_until, mailbox_id = p.box,
        message_id = p.message_id, res_campaign_day_key = p.campaign_day_key, res_mailbox_day_key = p.box_day_key,
        updated_at = $1
    FROM picks p
    WHERE q.id = p.id
    RETURNING ${itemColumns('q')}, q.lead_id AS lead_ref, p.pos, p.rk, p.box_day_key
  ),
  facts AS MATERIALIZED (
    SELECT r.campaign_id, s.status, s.next_slot_at AS snap_next_slot_at, s.day_key AS snap_day_key,
      s.day_sent AS snap_day_sent, c.id IS NOT NULL AS locked, c.next_slot_at, c.day_key, c.day_sent,
      coalesce(pk.n, 0) AS picked,
      (SELECT q.scheduled_at FROM ${t.items} q
       WHERE q.campaign_id = r.campaign_id AND q.status = 'pending'
         AND q.id <> ALL(coalesce(pk.ids, '{}'::bigint[]))
       ORDER BY q.scheduled_at, q.id LIMIT 1) AS earliest,
      -- The earliest of the listed keys': one probe of queue_items_pending_by_key per key.
      CASE WHEN pc.keys IS NOT NULL THEN (
        SELECT min(e.scheduled_at) FROM unnest(pc.keys) AS k (window_key), LATERAL (
          SELECT q.scheduled_at FROM ${t.items} q
          WHERE q.campaign_id = r.campaign_id AND q.window_key = k.window_key AND q.status = 'pending'
            AND q.id <> ALL(coalesce(pk.ids, '{}'::bigint[]))
          ORDER BY q.scheduled_at, q.id LIMIT 1
        ) e
      ) END AS earliest_listed,
      (cardinality(pc.box_ids) > 0 AND CASE WHEN pc.keys IS NULL THEN EXISTS (
        SELECT 1 FROM ${t.items} q
        WHERE q.campaign_id = r.campaign_id AND q.status = 'pending' AND q.scheduled_at <= $1
          AND (q.mailbox_id IS NULL OR q.mailbox_id = ANY(pc.box_ids))
          AND q.id <> ALL(coalesce(pk.ids, '{}'::bigint[]))
      ) ELSE EXISTS (
        SELECT 1 FROM unnest(pc.keys) AS k (window_key), LATERAL (
          SELECT 1 FROM ${t.items} q
          WHERE q.campaign_id = r.campaign_id AND q.window_key = k.window_key AND q.status = 'pending'
            AND q.scheduled_at <= $1 AND (q.mailbox_id IS NULL OR q.mailbox_id = ANY(pc.box_ids))
            AND q.id <> ALL(coalesce(pk.ids, '{}'::bigint[]))
          -- The index's order, so that the planner walks the key's entries rather than the table.
          ORDER BY q.scheduled_at, q.id LIMIT 1
        ) e
      ) END) AS eligible
    FROM req r
    JOIN per_campaign pc ON pc.campaign_id = r.campaign_id
    LEFT JOIN picked pk ON pk.campaign_id = r.campaign_id
    LEFT JOIN ${t.campaigns} s ON s.id = r.campaign_id
    LEFT JOIN camp c ON c.id = r.campaign_id
    WHERE r.seq = 0
  )
  SELECT 'item' AS kind, (SELECT ok FROM fast) AS fast_ok, (SELECT missing FROM fast) AS missing, i.*, ${leadColumns('l', 'l_')},
    NULL::bigint AS f_campaign_id, NULL::text AS f_status, NULL::timestamptz AS f_snap_next_slot_at,
    NULL::text AS f_snap_day_key, NULL::int AS f_snap_day_sent, NULL::boolean AS f_locked,
    NULL::timestamptz AS f_next_slot_at, NULL::text AS f_day_key, NULL::int AS f_day_sent, NULL::int AS f_picked,
    NULL::timestamptz AS f_earliest, NULL::timestamptz AS f_earliest_listed, NULL::boolean AS f_eligible
  FROM item_upd i JOIN ${t.leads} l ON l.id = i.lead_ref
  UNION ALL
  SELECT 'facts', (SELECT ok FROM fast), (SELECT missing FROM fast), ${NULL_ITEM}, NULL::bigint, NULL::int, NULL::int, NULL::text, ${NULL_LEAD},
    f.campaign_id, f.status, f.snap_next_slot_at, f.snap_day_key, f.snap_day_sent, f.locked,
    f.next_slot_at, f.day_key, f.day_sent, f.picked, f.earliest, f.earliest_listed, f.eligible
  FROM facts f`
}

/** The batch fits the set-based statement: within a campaign, one day key, one cap, one candidate set. */
function fitsOneStatement(requests: readonly ReserveRequest[]): boolean {
  const shape = new Map<string, string>()
  for (const r of requests) {
    if (!isId(r.campaignId)) return false
    if (r.mailboxes.some((m) => !isId(m.mailboxId))) return false
    if (new Set(r.mailboxes.map((m) => m.mailboxId)).size !== r.mailboxes.length) return false
    const boxes = r.mailboxes
      .map((m) => `${m.mailboxId}|${m.dayKey}|${m.dailyEmailLimit}`)
      .sort()
      .join(',')
    const rotation = r.rotation === undefined ? '-' : r.rotation.join(',')
    const keys = r.windowKeys === undefined ? '-' : JSON.stringify(r.windowKeys)
    const key = `${r.campaignDayKey}|${r.maxEmailsPerDay}|${boxes}|${rotation}|${keys}`
    const seen = shape.get(r.campaignId)
    if (seen === undefined) shape.set(r.campaignId, key)
    else if (seen !== key) return false
  }
  return true
}

export function reserveBatchValues(requests: readonly ReserveRequest[], now: Date): unknown[] {
  const cand = { pos: [] as number[], id: [] as string[], day: [] as string[], lim: [] as number[] }
  const more = { msg: [] as string[], ord: [] as number[] }
  requests.forEach((r, pos) => {
    r.mailboxes.forEach((m, ord) => {
      cand.pos.push(pos)
      cand.id.push(m.mailboxId)
      cand.day.push(m.dayKey)
      cand.lim.push(m.dailyEmailLimit)
      more.msg.push(m.messageId)
      more.ord.push(ord)
    })
  })
  return [
    now,
    requests.map((_, pos) => pos),
    requests.map((r) => r.campaignId),
    requests.map((r) => r.campaignDayKey),
    requests.map((r) => r.maxEmailsPerDay),
    requests.map((r) => r.nextSlotAt),
    requests.map((r) => r.leaseToken),
    requests.map((r) => r.leaseUntil),
    cand.pos,
    cand.id,
    cand.day,
    cand.lim,
    more.msg,
    more.ord,
    requests.map((r) => (r.rotation === undefined ? null : r.rotation.filter(isId).join(','))),
    requests.map((r) => (r.windowKeys === undefined ? null : JSON.stringify(r.windowKeys))),
  ]
}

/**
 * Reserves a batch set-based when it can. Returns an outcome per request; a `null` outcome means
 * the statement could not decide that request (handle it, and the ones after it of its campaign,
 * request by request), and `null` overall means it decided none.
 */
export async function reserveBatch(
  s: Session,
  t: Tables,
  requests: readonly ReserveRequest[],
  now: Date,
): Promise<Array<ReserveOutcome | null> | null> {
  if (requests.length === 0 || !fitsOneStatement(requests)) return null
  const values = reserveBatchValues(requests, now)
  let rows = await s.query<Row>(reserveBatchSql(t), values, { prepared: true })
  if (rows[0]?.fast_ok !== true && rows[0]?.missing === true) {
    // A mailbox's first reservation of its day: its count row does not exist yet, and the statement
    // only counts on rows it has locked. A row at 0 means what no row means; add them and try again.
    await s.query(
      `INSERT INTO ${t.mailboxDays} (mailbox_id, day_key, sent)
       SELECT DISTINCT x.mailbox_id, x.day_key, 0 FROM unnest($1::bigint[], $2::text[]) AS x (mailbox_id, day_key)
       ORDER BY 1, 2
       ON CONFLICT (mailbox_id, day_key) DO NOTHING`,
      [values[9], values[10]],
    )
    rows = await s.query<Row>(reserveBatchSql(t), values, { prepared: true })
  }
  if (rows.length === 0 || rows[0]!.fast_ok !== true) return null
  return decide(rows, requests, now)
}

/** The outcome of each request from the statement's rows (null: undecided, a race). */
function decide(rows: Row[], requests: readonly ReserveRequest[], now: Date): Array<ReserveOutcome | null> {
  const outcomes = new Array<ReserveOutcome | null>(requests.length).fill(null)
  const facts = new Map<string, Row>()
  const picks = new Map<string, Array<{ rk: number; scheduledAt: Date }>>()
  for (const row of rows) {
    if (row.kind === 'facts') {
      facts.set(String(row.f_campaign_id), row)
      continue
    }
    const item = toItem(row)
    const list = picks.get(item.campaignId) ?? []
    list.push({ rk: Number(row.rk), scheduledAt: item.scheduledAt })
    picks.set(item.campaignId, list)
    outcomes[Number(row.pos)] = {
      ok: true,
      send: {
        item,
        lead: toLead(row, 'l_'),
        campaignDayKey: requests[Number(row.pos)]!.campaignDayKey,
        mailboxDayKey: String(row.box_day_key),
        nextPendingAt: null, // set below, once every pick of the campaign is known
      },
    }
  }

  // Per campaign, walk its requests in order: the first `picked` succeeded; the rest met the state
  // the facts describe, moved on by the requests served before them.
  const byCampaign = new Map<string, number[]>()
  requests.forEach((r, pos) => {
    const list = byCampaign.get(r.campaignId) ?? []
    list.push(pos)
    byCampaign.set(r.campaignId, list)
  })
  for (const [campaignId, positions] of byCampaign) {
    const f = facts.get(campaignId)
    if (f === undefined) continue // undecided: request by request
    const earliest = dateOrNull(f.f_earliest)
    const taken = (picks.get(campaignId) ?? []).sort((a, b) => a.rk - b.rk)
    // nextPendingAt after request j: the oldest of the later picks and what was left pending.
    taken.forEach((_, j) => {
      const later = taken[j + 1]?.scheduledAt ?? null
      const out = outcomes[positions[j]!]
      if (out?.ok) {
        out.send.nextPendingAt =
          later === null ? earliest : earliest === null || later < earliest ? later : earliest
      }
    })
    const first = positions[taken.length]
    if (first === undefined) continue
    const refused = refusal(f, requests, positions, taken.length, now)
    if (refused === null) continue // a race: the rest go request by request
    for (const pos of positions.slice(taken.length)) outcomes[pos] = refused
  }
  return outcomes
}

/**
 * Why the campaign's request after its `picked` successful ones was refused (the store kit's
 * order), or null when the facts say it should have succeeded: it lost a race with a commit the
 * statement's snapshot did not see.
 */
function refusal(
  f: Row,
  requests: readonly ReserveRequest[],
  positions: number[],
  picked: number,
  now: Date,
): ReserveOutcome | null {
  const req = requests[positions[picked]!]!
  // Not locked: not IN_PROGRESS in its latest version. The snapshot must agree, else a race.
  if (f.f_locked !== true && f.f_status === 'IN_PROGRESS') return null
  const previous = picked > 0 ? requests[positions[picked - 1]!]! : null
  const refused = refusalFor(req, factsOf(f, req, previous, picked), now)
  return refused.reason === 'mailbox-limit' && f.f_eligible === true ? null : refused
}

/** The store kit's facts: the locked campaign row as the request met it, after `picked` successes. */
function factsOf(
  f: Row,
  req: ReserveRequest,
  previous: ReserveRequest | null,
  picked: number,
): ReservationFacts {
  const storedKey = f.f_day_key === null ? null : String(f.f_day_key)
  const storedSent = Number(f.f_day_sent)
  // After successes the campaign counts on the request's day key (all of the campaign's share it).
  // A stored day after the request's is a day already over for it (a worker whose clock lags): its
  // count is no longer kept, so it has no room.
  const campaignCount =
    picked > 0
      ? (storedKey === req.campaignDayKey ? storedSent : 0) + picked
      : storedKey === null || storedKey < req.campaignDayKey
        ? 0
        : storedKey === req.campaignDayKey
          ? storedSent
          : Number.POSITIVE_INFINITY
  const earliest = dateOrNull(f.f_earliest)
  return {
    status: f.f_locked === true ? 'IN_PROGRESS' : ((f.f_status as ReservationFacts['status']) ?? null),
    nextSlotAt: previous !== null ? previous.nextSlotAt : dateOrNull(f.f_next_slot_at),
    campaignCount,
    earliestPendingAt: earliest,
    earliestListedAt: req.windowKeys === undefined ? earliest : dateOrNull(f.f_earliest_listed),
  }
}

/**
 * Requests one by one, in order, each a batch of one (run again while it loses races). Used for
 * what a batch statement could not decide.
 */
export async function reserveInOrder(
  s: Session,
  t: Tables,
  requests: readonly ReserveRequest[],
  now: Date,
): Promise<ReserveOutcome[]> {
  const outcomes: ReserveOutcome[] = []
  for (const [i, request] of requests.entries()) {
    try {
      outcomes.push(await reserveOne(s, t, request, now))
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

async function reserveOne(s: Session, t: Tables, req: ReserveRequest, now: Date): Promise<ReserveOutcome> {
  if (!isId(req.campaignId)) return { ok: false, reason: 'not-running' }
  // A candidate whose id cannot be a mailbox has no room anywhere, and a repeated one adds nothing
  // to its first occurrence: leave them out, so that the request fits the statement.
  const seen = new Set<string>()
  const mailboxes = req.mailboxes.filter(
    (m) => isId(m.mailboxId) && !seen.has(m.mailboxId) && seen.add(m.mailboxId),
  )
  const one = [{ ...req, mailboxes }]
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const outcome = (await reserveBatch(s, t, one, now))?.[0]
    if (outcome) return outcome
    // Lost a race (the snapshot says it would have worked): give the winner a moment, try again.
    await new Promise((resolve) => setTimeout(resolve, attempt))
  }
  throw new MailcadenceError(
    'store-unavailable',
    `reservation for campaign ${req.campaignId} kept conflicting with concurrent changes; try again`,
  )
}
