import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../../src/errors.js'
import { DEFAULT_RETRY, type RetryPolicy, retryDelay, retryDelayCap } from '../../src/policy/backoff.js'

const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 400)
const unitInterval = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe('DEFAULT_RETRY', () => {
  it('is 5 attempts from one minute up to one hour', () => {
    expect(DEFAULT_RETRY).toEqual({ maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 3_600_000 })
  })
})

describe('retryDelay', () => {
  it('doubles the ceiling per retry up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100, 5000].map((n) => retryDelayCap(n, DEFAULT_RETRY))).toEqual([
      60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000,
    ])
  })

  it('keeps half of the ceiling fixed and randomises the other half', () => {
    expect(retryDelay(1, DEFAULT_RETRY, () => 0)).toBe(30_000)
    expect(retryDelay(1, DEFAULT_RETRY, () => 0.5)).toBe(45_000)
    expect(retryDelay(1, DEFAULT_RETRY, () => 0.999_999)).toBe(59_999)
    expect(retryDelay(2, DEFAULT_RETRY, () => 0)).toBe(60_000)
    expect(retryDelay(10, DEFAULT_RETRY, () => 0)).toBe(1_800_000)
  })

  it('copes with a zero base and odd ceilings', () => {
    const zero: RetryPolicy = { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 1000 }
    expect(retryDelay(1_000_000, zero, () => 0.7)).toBe(0)
    const odd: RetryPolicy = { maxAttempts: 3, baseDelayMs: 3, maxDelayMs: 1000 }
    expect(retryDelay(1, odd, () => 0)).toBe(2)
    expect(retryDelay(1, odd, () => 0.99)).toBe(2)
  })

  it('refuses a bad attempt number or policy', () => {
    expect(() => retryDelay(0, DEFAULT_RETRY, () => 0)).toThrow(RangeError)
    expect(() => retryDelay(1.5, DEFAULT_RETRY, () => 0)).toThrow(RangeError)
    expect(() => retryDelay(1, DEFAULT_RETRY, () => 2)).toThrow(RangeError)
    try {
      retryDelay(1, { ...DEFAULT_RETRY, baseDelayMs: -1 }, () => 0)
      expect.unreachable()
    } catch (error) {
      expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
      expect((error as { field?: string }).field).toBe('retry.baseDelayMs')
    }
  })

  const policyArb = fc
    .record({
      maxAttempts: fc.integer({ min: 1, max: 20 }),
      baseDelayMs: fc.integer({ min: 0, max: 10_000_000 }),
      maxDelayMs: fc.integer({ min: 0, max: 100_000_000 }),
    })
    .map((p): RetryPolicy => p)

  it('stays within [cap/2, cap] with a cap that follows the formula and never decreases', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), policyArb, unitInterval, (attempt, policy, r) => {
        const cap = retryDelayCap(attempt, policy)
        expect(cap).toBe(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)))
        const delay = retryDelay(attempt, policy, () => r)
        expect(Number.isInteger(delay)).toBe(true)
        expect(delay).toBeGreaterThanOrEqual(cap / 2)
        expect(delay).toBeLessThanOrEqual(cap)
        if (cap >= 2) expect(delay).toBeLessThan(cap)
        expect(retryDelayCap(attempt + 1, policy)).toBeGreaterThanOrEqual(cap)
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
