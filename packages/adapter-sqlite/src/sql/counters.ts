/**
 * Named counters (`CounterStore`): core chooses every key, limit and expiry; the store only counts.
 * `claimCounters` runs in the store's write transaction (`BEGIN IMMEDIATE`), so its check and its
 * increments see no other process's claim in between; they are one statement besides.
 */
import type { CounterClaim } from '@mailcadence/core'
import type { Db } from '../db.js'
import { T } from './rows.js'

/** Expired counters deleted by one sweep: bounded, so a sweep never holds the write lock long. */
export const SWEEP_BATCH = 100
/**
 * Claims (per store) between two sweeps. Up to 100 rows per 16 claims outpaces the few counters a
 * claim creates, and a sweep with nothing expired is one probe of the expiry index.
 */
export const SWEEP_EVERY = 16

/**
 * The claims' check and increments in one statement. The `INSERT … SELECT` yields a row per claim
 * only when no claim with a limit would pass it (`NOT EXISTS`), so it changes either every claimed
 * counter or none. An existing counter keeps the latest expiry it was claimed with.
 */
const CLAIM = `
  WITH claim AS (
    SELECT json_extract(value, '$.key') AS key, json_extract(value, '$.limit') AS lim,
           json_extract(value, '$.by') AS by, json_extract(value, '$.expiresAt') AS expires_at
    FROM json_each(?)
  )
  INSERT INTO ${T.counters} (key, count, expires_at)
  SELECT key, by, expires_at FROM claim
  WHERE NOT EXISTS (
    SELECT 1 FROM claim c LEFT JOIN ${T.counters} k ON k.key = c.key
    WHERE c.lim IS NOT NULL AND coalesce(k.count, 0) + c.by > c.lim
  )
  ON CONFLICT (key) DO UPDATE SET
    count = count + excluded.count,
    expires_at = max(expires_at, excluded.expires_at)`

/** Whether every claim passed its limit (and every counter went up) or none changed. */
export function claimCounters(db: Db, claims: readonly CounterClaim[]): boolean {
  const rows = claims.map((c) => ({
    key: c.key,
    limit: c.limit,
    by: c.by ?? 1,
    expiresAt: c.expiresAt.getTime(),
  }))
  // A key appears at most once per call, so a passing claim changes exactly one row per claim.
  return db.run(CLAIM, JSON.stringify(rows)).changes > 0
}

/** Deletes up to {@link SWEEP_BATCH} counters whose expiry is at or before `now`. */
export function sweepExpiredCounters(db: Db, now: Date): number {
  return db.run(
    `DELETE FROM ${T.counters}
     WHERE key IN (SELECT key FROM ${T.counters} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
    now.getTime(),
    SWEEP_BATCH,
  ).changes
}

/** Takes one off each of these counters that is above 0; a key never claimed stays absent (0). */
export function releaseCounters(db: Db, keys: readonly string[]): void {
  db.run(
    `UPDATE ${T.counters} SET count = count - 1
     WHERE key IN (SELECT value FROM json_each(?)) AND count > 0`,
    JSON.stringify(keys),
  )
}

/** The counts of these keys, 0 for one never claimed (or already swept). */
export function readCounters(db: Db, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const key of keys) out[key] = 0
  const rows = db.all<{ key: string; count: number }>(
    `SELECT key, count FROM ${T.counters} WHERE key IN (SELECT value FROM json_each(?))`,
    JSON.stringify(keys),
  )
  for (const row of rows) out[row.key] = Number(row.count)
  return out
}
