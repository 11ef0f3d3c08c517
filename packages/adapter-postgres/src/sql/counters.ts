/**
 * Named counters (`CounterStore`): the one table behind core's hourly, recipient-domain, warm-up
 * and guard limits. A claim is one statement that locks the counters it names in key order
 * (`FOR UPDATE`), checks every limit against the locked counts and increments all of them, or
 * none. Every writer here locks counters in key order, so claims and releases never wait for each
 * other in a cycle; the sweep of expired counters never waits at all (`SKIP LOCKED`).
 */
import type { CounterClaim } from '@mailcadence/core'
import type { Session } from '../db.js'
import type { Row } from './rows.js'
import type { Tables } from './schema.js'

/** Claims (per store) between two sweeps of expired counters. */
export const SWEEP_EVERY = 50
/** Most expired counters one sweep deletes: a bounded statement, whatever piled up. */
export const SWEEP_BATCH = 100
/**
 * Runs of the claim statement per call. The first run of a claim naming a counter that does not
 * exist yet only creates it (at 0); the second then finds every counter. Only a sweep deleting a
 * just-created counter in between (a host clock far ahead of this one's) needs a third.
 */
const CLAIM_ATTEMPTS = 3

/**
 * The claim. `locked` takes the row lock of every existing counter of the claim, in key order, and
 * reads its latest count (a locking read sees the newest committed version, not the snapshot's).
 * `state` is computed from it before anything is written (it is an InitPlan of both writes):
 * `complete` when every key has a row, `fits` when every limit holds on the locked counts.
 * - complete and fits: `claimed` adds each claim's `by` to the rows this statement holds.
 * - some row missing (and the rest fits): `created` inserts the missing ones at 0, key order,
 *   `ON CONFLICT DO NOTHING` (a concurrent creator wins, nothing waits on a row lock); nothing is
 *   counted and the caller runs the statement again, whose snapshot then holds every row, so the
 *   lock, the check and the increment all bear on rows that exist. A row committed by someone else
 *   after this statement's snapshot is never counted on a guess.
 * - not fits: nothing is written; the claim is refused.
 */
function claimSql(t: Tables): string {
  return `WITH c AS (
      SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::timestamptz[]) AS c (key, lim, by, expires_at)
    ),
    locked AS MATERIALIZED (
      SELECT k.key, k.count FROM ${t.counters} k WHERE k.key = ANY($1::text[]) ORDER BY k.key FOR UPDATE
    ),
    state AS MATERIALIZED (
      SELECT count(l.key) = count(*) AS complete,
        coalesce(bool_and(c.lim IS NULL OR coalesce(l.count, 0) + c.by <= c.lim), true) AS fits
      FROM c LEFT JOIN locked l ON l.key = c.key
    ),
    created AS (
      INSERT INTO ${t.counters} (key, count, expires_at)
      SELECT c.key, 0, c.expires_at FROM c
      WHERE (SELECT s.fits AND NOT s.complete FROM state s)
        AND NOT EXISTS (SELECT 1 FROM locked l WHERE l.key = c.key)
      ORDER BY c.key
      ON CONFLICT (key) DO NOTHING
    ),
    claimed AS (
      UPDATE ${t.counters} AS k SET count = k.count + c.by, expires_at = GREATEST(k.expires_at, c.expires_at)
      FROM c
      WHERE k.key = c.key AND (SELECT s.fits AND s.complete FROM state s)
    )
    SELECT s.complete, s.fits FROM state s`
}

/** Whether a claim can never pass, whatever the counts: nothing to ask the database. */
function hopeless(claims: readonly CounterClaim[]): boolean {
  return claims.some((c) => c.limit !== null && (c.by ?? 1) > c.limit)
}

export async function claimCounters(
  s: Session,
  t: Tables,
  claims: readonly CounterClaim[],
): Promise<boolean> {
  if (claims.length === 0) return true
  if (hopeless(claims)) return false
  const values = [
    claims.map((c) => c.key),
    claims.map((c) => c.limit),
    claims.map((c) => c.by ?? 1),
    claims.map((c) => c.expiresAt),
  ]
  const sql = claimSql(t)
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const [row] = await s.query<Row>(sql, values, { prepared: true })
    if (row?.fits !== true) return false
    if (row.complete === true) return true
  }
  // Counters created and swept away again each time: a lost race, which the contract makes a false.
  return false
}

/**
 * Deletes at most {@link SWEEP_BATCH} counters that expired by `now`, oldest first through the
 * expiry index, skipping any a claim holds: it never waits, so it never joins a deadlock.
 */
export async function sweepExpiredCounters(s: Session, t: Tables, now: Date): Promise<void> {
  await s.query(
    `DELETE FROM ${t.counters} k WHERE k.key IN (
       SELECT e.key FROM ${t.counters} e WHERE e.expires_at <= $1
       ORDER BY e.expires_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`,
    [now],
  )
}

/**
 * Takes one off each counter per time its key is named (never below 0). The rows are locked in key
 * order first, as claims lock them (the aggregate makes `locked` run whole before the update).
 */
export async function releaseCounters(s: Session, t: Tables, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return
  await s.query(
    `WITH r AS (SELECT r.key, count(*)::int AS n FROM unnest($1::text[]) AS r (key) GROUP BY r.key),
     locked AS MATERIALIZED (
       SELECT k.key FROM ${t.counters} k WHERE k.key = ANY($1::text[]) ORDER BY k.key FOR UPDATE
     )
     UPDATE ${t.counters} AS k SET count = GREATEST(k.count - r.n, 0)
     FROM r
     WHERE k.key = r.key AND k.count > 0 AND (SELECT count(*) FROM locked) > 0`,
    [[...keys]],
  )
}

export async function readCounters(
  s: Session,
  t: Tables,
  keys: readonly string[],
): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const key of keys) out[key] = 0
  if (keys.length === 0) return out
  const rows = await s.query<{ key: string; count: number }>(
    `SELECT k.key, k.count FROM ${t.counters} k WHERE k.key = ANY($1::text[])`,
    [[...keys]],
  )
  for (const row of rows) out[row.key] = Number(row.count)
  return out
}
