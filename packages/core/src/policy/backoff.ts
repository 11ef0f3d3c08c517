/**
 * Retry back-off for temporary send failures (SMTP 4xx, a dropped connection): capped exponential
 * delays with jitter, so that many failed sends do not all come back at the same instant.
 */
import { invalidInput } from '../errors.js'
import { addMs } from './instant.js'

/** How temporary failures are retried. */
export interface RetryPolicy {
  /** Attempts in all, the first send included; after the last one the item fails. */
  maxAttempts: number
  /** Delay ceiling of the first retry, in ms; it doubles with every further retry. */
  baseDelayMs: number
  /** Largest delay ceiling, in ms. */
  maxDelayMs: number
}

/** 5 attempts, retries after about 1, 2, 4, 8 minutes (at most an hour). */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 60_000,
  maxDelayMs: 3_600_000,
})

function checkPolicy(policy: RetryPolicy): void {
  if (!Number.isFinite(policy.baseDelayMs) || policy.baseDelayMs < 0) {
    throw invalidInput('retry.baseDelayMs', `must be a number of ms >= 0, got ${String(policy.baseDelayMs)}`)
  }
  if (!Number.isFinite(policy.maxDelayMs) || policy.maxDelayMs < 0) {
    throw invalidInput('retry.maxDelayMs', `must be a number of ms >= 0, got ${String(policy.maxDelayMs)}`)
  }
}

/**
 * The ceiling of the delay before retry number `attempt` (1 = first retry):
 * min(maxDelayMs, baseDelayMs × 2^(attempt − 1)). Non-decreasing in `attempt`.
 *
 * @throws `invalid-input` for a negative or non-finite delay in the policy; RangeError for an
 *   attempt that is not an integer >= 1.
 */
export function retryDelayCap(attempt: number, policy: RetryPolicy): number {
  checkPolicy(policy)
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${String(attempt)}`)
  }
  // Double step by step rather than computing 2^(attempt−1): no overflow to Infinity (or to NaN
  // with a zero base) for a large attempt number, and at most ~50 steps before the cap is reached.
  let cap = policy.baseDelayMs
  for (let i = 1; i < attempt && cap > 0 && cap < policy.maxDelayMs; i++) cap *= 2
  return Math.min(cap, policy.maxDelayMs)
}

/**
 * Delay in whole ms before retry number `attempt` (1 = first retry): capped exponential, cap =
 * min(maxDelayMs, baseDelayMs × 2^(attempt − 1)), with "equal jitter": half fixed, half random,
 * so the result is in [cap/2, cap) (exactly cap only when cap is 1 ms and halving cannot go lower).
 * The fixed half keeps a retry from coming back at once; the random half spreads a burst out.
 *
 * @throws like {@link retryDelayCap}; RangeError when `random()` returns something outside [0, 1].
 */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const cap = retryDelayCap(attempt, policy)
  const r = random()
  if (!(r >= 0 && r <= 1)) throw new RangeError(`random() must return a number in [0, 1), got ${String(r)}`)
  const half = Math.ceil(cap / 2)
  return Math.min(cap, half + Math.floor(r * (cap - half)))
}

/**
 * When retry number `attempt` is due: `now` + {@link retryDelay}, clamped to the latest instant
 * every store holds (a `maxDelayMs` of centuries still gives a storable date).
 *
 * @throws like {@link retryDelay}.
 */
export function retryAt(now: Date, attempt: number, policy: RetryPolicy, random: () => number): Date {
  return addMs(now, retryDelay(attempt, policy, random))
}
