/**
 * Instants computed from settings (`now` + a delay): every one of them is a `Date` that every
 * supported store can hold.
 *
 * A delay long enough to go past year 9999 (`delayDays: 1e9`, `delayBetweenEmails: 1e13`, a huge
 * `lease` or `retry.maxDelayMs`) is clamped to {@link LATEST_INSTANT} instead of being refused.
 * Throwing would be worse at every place such an instant is made: a follow-up's due time or a
 * retry time is computed after the email left (or failed), when refusing leaves the item
 * `sending` for recovery (and `leaseRecovery: 'retry'` would send it again); and an instant past
 * 9999 means "not within any lifetime" just as 9999-12-31 does, which is what the setting asked
 * for. Validation at the door refuses such values anyway; this is the engine not relying on it.
 */

import { LATEST_PAUSE_MS } from '../model/limits.js'

/**
 * The latest instant every supported database stores (MariaDB/MySQL `DATETIME` ends in year
 * 9999; PostgreSQL and SQLite go further): `INPUT_LIMITS.latestPauseUntil`, also what "paused
 * until resumed" stores.
 */
export const LATEST_INSTANT_MS = LATEST_PAUSE_MS

/** {@link LATEST_INSTANT_MS} as a `Date` (a fresh one: `Date`s are mutable). */
export function latestInstant(): Date {
  return new Date(LATEST_INSTANT_MS)
}

/**
 * `from` + `ms`, never later than {@link LATEST_INSTANT_MS}: always a valid `Date` a store can
 * hold (a `from` already later than it is clamped too).
 *
 * @throws RangeError for an invalid `from`, or an `ms` that is NaN or negative (every delay the
 *   engine adds is >= 0: either is a bug, not a setting).
 */
export function addMs(from: Date, ms: number): Date {
  const fromMs = from.getTime()
  if (Number.isNaN(fromMs)) throw new RangeError('addMs: `from` is an invalid date')
  if (Number.isNaN(ms) || ms < 0) throw new RangeError(`addMs: delay must be a number of ms >= 0, got ${ms}`)
  return new Date(Math.min(fromMs + ms, LATEST_INSTANT_MS))
}
