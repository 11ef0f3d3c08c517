/**
 * Set-based reservation: a whole batch of requests, of one campaign or many, in one statement and
 * one commit, instead of one statement (and one commit) per request. It is an optimisation of the
 * per-request statement in `reserve.ts`, taken only when its result is provably the one that
 * handling the requests one after the other would give; otherwise the requests it could not decide
 * go through the per-request statement.
 *
 * The statement, in the order it takes locks (the same order as every other writer: campaigns, in
 * id order, before mailbox counts):
 *
 * 1. `camp` locks every campaign of the batch that is `IN_PROGRESS` (`FOR NO KEY UPDATE`, id order),
 *    reading their latest committed pacing slot and day count.
 * 2. `locked_boxes` locks the day-count rows of every candidate mailbox (mailbox id, day key order)
 *    and `fast` checks, on those latest versions, that each one exists and has room for every
 *    request of the batch that offers it. Only then can no request's outcome depend on the order of
 *    the requests across campaigns or on which mailbox an earlier one took; if not, nothing is
 *    written and the caller handles the batch request by request.
 * 3. `allow` is, per campaign, how many of its requests succeed as far as the campaign is concerned:
 *    requests run in order, so they stop at the first one that meets a pacing slot still to come
 *    (the stored one, or the `nextSlotAt` of the request before) or a full day count.
 * 4. `heads` takes, per campaign, up to that many oldest due pending items of each candidate mailbox
 *    and as many unassigned ones, `FOR UPDATE SKIP LOCKED`; the campaign's oldest `allow` of them
 *    are its picks, the first going to its first request and so on: exactly what the requests
 *    would take one by one, since every candidate has room for all of them. An unassigned pick takes
 *    its request's first candidate or, with a rotation, the next candidate in turn after the
 *    campaign's (locked) `lastMailboxId`: the u-th unassigned pick the u-th (every candidate has
 *    room for all the picks).
 * 5. The writes: mailbox counts (rows already locked and checked), campaigns (slot of the last
 *    request served, day count, rotation cursor) and items (`sending`, lease).
 *
 * The result has one row per reserved request and one row of facts per campaign, which say why the
 * campaign's remaining requests were refused, read from the same locked rows and snapshot.
 */
import type { ReserveOutcome, ReserveRequest } from '@mailcadence/core'
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
  per_campaign AS MATERIALIZED (
    SELECT g.campaign_id, g.requests, g.first_future, coalesce(pb.ids, '{}') AS box_ids,
      string_to_array(($15::text[])[g.first_pos + 1], ',')::bigint[] AS rot
    FROM (
      SELECT r.campaign_id, count(*)::int AS requests, min(r.pos) AS first_pos,
        min(r.seq) FILTER (WHERE r.next_slot_at > $1) AS first_future
      FROM req r GROUP BY r.campaign_id
    ) g
    LEFT JOIN (
      SELECT x.pos, array_agg(x.mailbox_id ORDER BY x.ord) AS ids FROM cand x GROUP BY x.pos
    ) pb ON pb.pos = g.first_pos
  ),
  first_cand AS MATERIALIZED (
    SELECT DISTINCT ON (x.pos) x.pos, x.mailbox_id FROM cand x ORDER BY x.pos, x.ord
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
    SELECT (SELECT count(*) FROM boxes) = (
      SELECT count(*) FROM locked_boxes l JOIN boxes b ON b.mailbox_id = l.mailbox_id AND b.day_key = l.day_key
      WHERE l.sent + b.uses <= b.lim
    ) AS ok,
    (SELECT count(*) FROM boxes) > (SELECT count(*) FROM locked_boxes) AS missing
  ),
  allow AS MATERIALIZED (
    SELECT c.id AS campaign_id, c.last_mailbox_id, f.day_key, f.max_per_day,
      cardinality(pc.box_ids) AS boxes,
      -- With a rotation, the candidates in the order unassigned items take them, starting after
      -- the campaign's latest lastMailboxId: the u-th unassigned pick takes the u-th (every
      -- candidate has room for all the picks).
      CASE WHEN pc.rot IS NOT NULL THEN (
        SELECT array_agg(u.b ORDER BY coalesce(
          (array_position(pc.rot, u.b) - coalesce(array_position(pc.rot, c.last_mailbox_id), 0) - 1
            + cardinality(pc.rot)) % cardinality(pc.rot),
          cardinality(pc.rot) + u.ord))
        FROM unnest(pc.box_ids) WITH ORDINALITY AS u (b, ord)
      ) END AS rot_sorted,
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
    SELECT a.campaign_id, b.mailbox_id, a.n
    FROM allow a JOIN per_campaign pc ON pc.campaign_id = a.campaign_id, unnest(pc.box_ids) AS b (mailbox_id)
    WHERE a.n > 0
  ),
  heads AS MATERIALIZED (
    SELECT a.campaign_id, h.id, h.scheduled_at, h.mailbox_id
    FROM allow a, LATERAL (
      SELECT q.id, q.scheduled_at, q.mailbox_id FROM ${t.items} q
      WHERE q.campaign_id = a.campaign_id AND q.mailbox_id IS NULL
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
      (cardinality(pc.box_ids) > 0 AND EXISTS (
        SELECT 1 FROM ${t.items} q
        WHERE q.campaign_id = r.campaign_id AND q.status = 'pending' AND q.scheduled_at <= $1
          AND (q.mailbox_id IS NULL OR q.mailbox_id = ANY(pc.box_ids))
          AND q.id <> ALL(coalesce(pk.ids, '{}'::bigint[]))
      )) AS eligible
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
    NULL::timestamptz AS f_earliest, NULL::boolean AS f_eligible
  FROM item_upd i JOIN ${t.leads} l ON l.id = i.lead_ref
  UNION ALL
  SELECT 'facts', (SELECT ok FROM fast), (SELECT missing FROM fast), ${NULL_ITEM}, NULL::bigint, NULL::int, NULL::int, NULL::text, ${NULL_LEAD},
    f.campaign_id, f.status, f.snap_next_slot_at, f.snap_day_key, f.snap_day_sent, f.locked,
    f.next_slot_at, f.day_key, f.day_sent, f.picked, f.earliest, f.eligible
  FROM facts f`
}

/** The batch fits the set-based statement: within a campaign, one day key, one cap, one candidate set. */
function fitsOneStatement(requests: readonly ReserveRequest[]): boolean {
  if (requests.length < 2) return false
  const shape = new Map<string, string>()
  for (const r of requests) {
    if (!isId(r.campaignId)) return false
    const boxes = r.mailboxes
      .map((m) => `${m.mailboxId}|${m.dayKey}|${m.dailyEmailLimit}`)
      .sort()
      .join(',')
    if (r.mailboxes.some((m) => !isId(m.mailboxId))) return false
    if (new Set(r.mailboxes.map((m) => m.mailboxId)).size !== r.mailboxes.length) return false
    const rotation = r.rotation === undefined ? '-' : r.rotation.join(',')
    const key = `${r.campaignDayKey}|${r.maxEmailsPerDay}|${boxes}|${rotation}`
    const seen = shape.get(r.campaignId)
    if (seen === undefined) shape.set(r.campaignId, key)
    else if (seen !== key) return false
  }
  return true
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
  if (!fitsOneStatement(requests)) return null
  const cand: { pos: number[]; id: string[]; day: string[]; lim: number[]; msg: string[]; ord: number[] } = {
    pos: [],
    id: [],
    day: [],
    lim: [],
    msg: [],
    ord: [],
  }
  requests.forEach((r, pos) => {
    r.mailboxes.forEach((m, ord) => {
      cand.pos.push(pos)
      cand.id.push(m.mailboxId)
      cand.day.push(m.dayKey)
      cand.lim.push(m.dailyEmailLimit)
      cand.msg.push(m.messageId)
      cand.ord.push(ord)
    })
  })
  const values = [
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
    cand.msg,
    cand.ord,
    requests.map((r) => (r.rotation === undefined ? null : r.rotation.filter(isId).join(','))),
  ]
  let rows = await s.query<Row>(reserveBatchSql(t), values, { prepared: true })
  if (rows[0]?.fast_ok !== true && rows[0]?.missing === true) {
    // A mailbox's first reservation of its day: its count row does not exist yet, and the statement
    // only counts on rows it has locked. A row at 0 means what no row means; add them and try again.
    await s.query(
      `INSERT INTO ${t.mailboxDays} (mailbox_id, day_key, sent)
       SELECT DISTINCT x.mailbox_id, x.day_key, 0 FROM unnest($1::bigint[], $2::text[]) AS x (mailbox_id, day_key)
       ORDER BY 1, 2
       ON CONFLICT (mailbox_id, day_key) DO NOTHING`,
      [cand.id, cand.day],
    )
    rows = await s.query<Row>(reserveBatchSql(t), values, { prepared: true })
  }
  if (rows.length === 0 || rows[0]!.fast_ok !== true) return null

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

  // Per campaign, walk its requests in order: the first `picked` succeeded; decide the rest from the
  // state they met, as the per-request statement's skip reasons would.
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

/** Why the campaign's request after its `picked` successful ones was refused, or null if undecided. */
function refusal(
  f: Row,
  requests: readonly ReserveRequest[],
  positions: number[],
  picked: number,
  now: Date,
): ReserveOutcome | null {
  const req = requests[positions[picked]!]!
  if (f.f_locked !== true) {
    // Not locked: not IN_PROGRESS in its latest version. The snapshot must agree, else a race.
    return f.f_status === 'IN_PROGRESS' ? null : { ok: false, reason: 'not-running' }
  }
  // The state this request met: the locked row, moved on by the requests served before it.
  const slot = picked > 0 ? requests[positions[picked - 1]!]!.nextSlotAt : dateOrNull(f.f_next_slot_at)
  if (slot !== null && slot.getTime() > now.getTime()) return { ok: false, reason: 'pacing', until: slot }
  // After `picked` successes the campaign counts on this request's day key (all share it).
  const storedKey = f.f_day_key === null ? null : String(f.f_day_key)
  const storedSent = Number(f.f_day_sent)
  const dayKey = picked > 0 ? req.campaignDayKey : storedKey
  const daySent = picked > 0 ? (storedKey === req.campaignDayKey ? storedSent : 0) + picked : storedSent
  const full =
    req.maxEmailsPerDay <= 0 ||
    (dayKey !== null &&
      (dayKey > req.campaignDayKey || (dayKey === req.campaignDayKey && daySent >= req.maxEmailsPerDay)))
  if (full) return { ok: false, reason: 'campaign-limit' }
  const earliest = dateOrNull(f.f_earliest)
  if (earliest === null) return { ok: false, reason: 'queue-empty' }
  if (earliest.getTime() > now.getTime()) return { ok: false, reason: 'not-due', until: earliest }
  if (f.f_eligible !== true) return { ok: false, reason: 'mailbox-limit' }
  return null
}
