import { describe, expect, it } from 'vitest'
import { retryAt } from '../../src/policy/backoff.js'
import { addMs, LATEST_INSTANT_MS, latestInstant } from '../../src/policy/instant.js'
import { nextSlot } from '../../src/policy/pacing.js'

const NOW = new Date('2026-01-05T10:00:00Z')
const LATEST = new Date('9999-12-31T00:00:00Z')

describe('addMs', () => {
  it('adds, and clamps to 9999-12-31 what no store could hold', () => {
    expect(LATEST_INSTANT_MS).toBe(LATEST.getTime())
    expect(latestInstant()).toEqual(LATEST)
    expect(addMs(NOW, 1500)).toEqual(new Date('2026-01-05T10:00:01.500Z'))
    expect(addMs(NOW, 0)).toEqual(NOW)
    for (const ms of [1e9 * 86_400_000, 1e16, Number.MAX_VALUE, Number.POSITIVE_INFINITY]) {
      expect(addMs(NOW, ms)).toEqual(LATEST)
    }
    expect(addMs(new Date(8.64e15), 1)).toEqual(LATEST)
  })

  it('refuses what is a bug rather than a setting: an invalid date, a NaN or negative delay', () => {
    expect(() => addMs(new Date(Number.NaN), 1)).toThrow(RangeError)
    expect(() => addMs(NOW, Number.NaN)).toThrow(RangeError)
    expect(() => addMs(NOW, -1)).toThrow(RangeError)
  })
})

describe('dates made from settings too large for any store', () => {
  it('nextSlot: a delay of 1e13 s paces until 9999-12-31, never an invalid date', () => {
    const slot = nextSlot(NOW, 1e13, 0.2, () => 0.5)
    expect(slot).toEqual(LATEST)
    expect(nextSlot(NOW, Number.MAX_VALUE / 1e6, 0, () => 0)).toEqual(LATEST)
  })

  it('retryAt: a maxDelayMs of centuries retries at 9999-12-31 at the latest', () => {
    const policy = { maxAttempts: 5, baseDelayMs: 1e300, maxDelayMs: 1e300 }
    expect(retryAt(NOW, 3, policy, () => 0.5)).toEqual(LATEST)
    expect(retryAt(NOW, 1, { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, () => 0)).toEqual(
      new Date(NOW.getTime() + 30_000),
    )
  })
})
