import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../../src/errors.js'
import { gapRange, nextSlot } from '../../src/policy/pacing.js'

const NOW = new Date('2026-01-05T10:00:00Z')
const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 400)
const unitInterval = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe('nextSlot', () => {
  it('spreads the gap ±jitter around delayBetweenEmails', () => {
    expect(nextSlot(NOW, 90, 0.2, () => 0).getTime() - NOW.getTime()).toBe(72_000)
    expect(nextSlot(NOW, 90, 0.2, () => 0.5).getTime() - NOW.getTime()).toBe(90_000)
    expect(nextSlot(NOW, 90, 0.2, () => 0.75).getTime() - NOW.getTime()).toBe(99_000)
    expect(nextSlot(NOW, 90, 0.2, () => 0.999_999).getTime() - NOW.getTime()).toBe(108_000)
    expect(nextSlot(NOW, 90, 0, () => 0.3).getTime() - NOW.getTime()).toBe(90_000)
  })

  it('is now itself for a zero delay, never before', () => {
    expect(nextSlot(NOW, 0, 0.2, () => 0.1)).toEqual(NOW)
    expect(nextSlot(NOW, 10, 1, () => 0)).toEqual(NOW)
  })

  it('rounds up to a whole millisecond so the minimum gap holds', () => {
    // 0.0015 s × (1 − 0) = 1.5 ms → 2 ms, never 1
    expect(nextSlot(NOW, 0.0015, 0, () => 0.5).getTime() - NOW.getTime()).toBe(2)
    expect(gapRange(0.0015, 0)).toEqual({ minMs: 2, maxMs: 2 })
  })

  it('refuses a bad delay or jitter, naming the field', () => {
    const fieldOf = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
        return (error as { field?: string }).field
      }
      return undefined
    }
    expect(fieldOf(() => nextSlot(NOW, -1, 0.2, () => 0.5))).toBe('delayBetweenEmails')
    expect(fieldOf(() => nextSlot(NOW, Number.NaN, 0.2, () => 0.5))).toBe('delayBetweenEmails')
    expect(fieldOf(() => nextSlot(NOW, 90, 1.5, () => 0.5))).toBe('jitter')
    expect(fieldOf(() => gapRange(90, -0.1))).toBe('jitter')
  })

  it('refuses a random source that leaves [0, 1]', () => {
    expect(() => nextSlot(NOW, 90, 0.2, () => 1.5)).toThrow(RangeError)
    expect(() => nextSlot(NOW, 90, 0.2, () => Number.NaN)).toThrow(RangeError)
  })
})

describe('gapRange', () => {
  it('gives the bounds in ms', () => {
    expect(gapRange(90, 0.2)).toEqual({ minMs: 72_000, maxMs: 108_000 })
    expect(gapRange(60, 0)).toEqual({ minMs: 60_000, maxMs: 60_000 })
    expect(gapRange(0, 0.5)).toEqual({ minMs: 0, maxMs: 0 })
  })

  it('contains every gap nextSlot produces, which is never below delay × (1 − jitter)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }),
        fc.oneof(fc.integer({ min: 0, max: 86_400 }), fc.double({ min: 0, max: 86_400, noNaN: true })),
        fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.1, 0.2, 0.5, 1)),
        unitInterval,
        (nowMs, delay, jitter, r) => {
          const now = new Date(nowMs)
          const gap = nextSlot(now, delay, jitter, () => r).getTime() - nowMs
          const { minMs, maxMs } = gapRange(delay, jitter)
          expect(gap).toBeGreaterThanOrEqual(minMs)
          expect(gap).toBeLessThanOrEqual(maxMs)
          expect(gap).toBeGreaterThanOrEqual(delay * (1 - jitter) * 1000)
          expect(Number.isInteger(gap)).toBe(true)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it('makes the gap grow with r', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 86_400 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        unitInterval,
        unitInterval,
        (delay, jitter, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a]
          expect(nextSlot(NOW, delay, jitter, () => low).getTime()).toBeLessThanOrEqual(
            nextSlot(NOW, delay, jitter, () => high).getTime(),
          )
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})
