import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../../src/errors.js'
import { classifySendError } from '../../src/policy/classify.js'
import {
  checkGuards,
  DEFAULT_GUARDS,
  describeTrip,
  type Figures,
  figuresSince,
  guardKeys,
  rateBreach,
  reportKey,
  sendVerdict,
  tripCounts,
  tripOfCounts,
  utcDay,
  windowDays,
} from '../../src/policy/guards.js'

const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 400)
const DAY = 86_400_000
const MONDAY = Date.parse('2026-01-05T08:00:00.000Z')

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (isMailcadenceError(error, 'invalid-input')) return error.field
    throw error
  }
  return undefined
}

describe('checkGuards', () => {
  it('defaults on; false turns every guard off; members override, null turns one off', () => {
    expect(checkGuards(undefined)).toEqual(DEFAULT_GUARDS)
    expect(checkGuards(true)).toEqual(DEFAULT_GUARDS)
    expect(checkGuards(false)).toBeNull()
    expect(checkGuards({ windowDays: 28, minSends: 20 })).toEqual({
      ...DEFAULT_GUARDS,
      windowDays: 28,
      minSends: 20,
    })
    expect(checkGuards({ maxBounceRate: null, maxConsecutiveFailures: null })).toMatchObject({
      maxBounceRate: null,
      maxComplaintRate: 0.001,
      maxConsecutiveFailures: null,
    })
  })

  it('refuses bad values, naming the member', () => {
    expect(fieldOf(() => checkGuards('on'))).toBe('guards')
    expect(fieldOf(() => checkGuards({ maxBounceRate: 1.5 }))).toBe('guards.maxBounceRate')
    expect(fieldOf(() => checkGuards({ maxBounceRate: '5%' }))).toBe('guards.maxBounceRate')
    expect(fieldOf(() => checkGuards({ maxComplaintRate: -0.1 }))).toBe('guards.maxComplaintRate')
    expect(fieldOf(() => checkGuards({ windowDays: 0 }))).toBe('guards.windowDays')
    expect(fieldOf(() => checkGuards({ windowDays: 2.5 }))).toBe('guards.windowDays')
    expect(fieldOf(() => checkGuards({ minSends: 0 }))).toBe('guards.minSends')
    expect(fieldOf(() => checkGuards({ maxConsecutiveFailures: 0 }))).toBe('guards.maxConsecutiveFailures')
    expect(fieldOf(() => checkGuards({ maxBounceRates: 0.1 }))).toBe('guards.maxBounceRates')
  })
})

describe('sendVerdict', () => {
  const smtp = (responseCode: number, response: string, code = 'EENVELOPE') =>
    classifySendError(Object.assign(new Error(response), { code, responseCode, response }))

  it('counts delivered, hard bounced and refused sends as handed; only permanent or unreachable ones break a run', () => {
    expect(sendVerdict(null)).toEqual({ handed: true, bounced: false, run: 'success' })
    expect(sendVerdict(smtp(550, '550 5.1.1 user unknown'))).toEqual({
      handed: true,
      bounced: true,
      run: 'fail',
    })
    expect(sendVerdict(smtp(554, '554 5.6.0 content rejected'))).toEqual({
      handed: true,
      bounced: false,
      run: 'fail',
    })
    const unreachable = [
      smtp(535, '535 5.7.8 bad credentials', 'EAUTH'),
      classifySendError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:587' }),
      classifySendError({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND smtp.nowhere.test' }),
      classifySendError({ code: 'ETIMEDOUT', message: 'Connection timeout' }),
      smtp(550, '550 5.7.26 unauthenticated sender'),
    ]
    for (const failure of unreachable)
      expect(sendVerdict(failure)).toEqual({ handed: false, bounced: false, run: 'fail' })
    const temporary = [
      smtp(451, '451 4.7.1 Greylisted, try again later'),
      smtp(450, '450 4.2.0 mailbox busy'),
      smtp(421, '421 4.7.0 Try again later, closing connection.'),
      smtp(452, '452 4.2.2 mailbox full'),
      classifySendError({ code: 'ECONNRESET', message: 'socket hang up' }),
      classifySendError(new Error('a bug in a custom transport')),
    ]
    for (const failure of temporary)
      expect(sendVerdict(failure)).toEqual({ handed: false, bounced: false, run: 'neutral' })
  })
})

describe('keys', () => {
  it('are distinct per figure, entity, day and resume, and at most 200 characters', () => {
    const hash = (t: string) => `h${t.length}`
    const m = guardKeys('mailbox', 'mb-1', hash)
    const c = guardKeys('campaign', 'mb-1', hash)
    const day = utcDay(MONDAY)
    const all = [
      m.day('handed', day),
      m.day('bounces', day),
      m.day('complaints', day),
      m.day('handed', day + 1),
      c.day('handed', day),
      m.epoch,
      c.epoch,
      m.resumedAt(1),
      m.resumedAt(2),
      m.baseline('handed', 1),
      m.trip('guard', 1),
      m.trip('count', 1),
      m.trip('handed', 1),
      m.trip('limit', 1),
      m.trip('days', 1),
      reportKey('bounces', 'x'),
      reportKey('complaints', 'x'),
    ]
    expect(new Set(all).size).toBe(all.length)
    expect(m.day('handed', day)).toBe('guard:h:m:mb-1:20260105')
    const long = guardKeys('campaign', 'x'.repeat(200), () => 'y'.repeat(43))
    expect(long.day('complaints', day).length).toBeLessThanOrEqual(200)
    expect(long.trip('handed', 1_000_000).length).toBeLessThanOrEqual(200)
  })

  it('the window is today and the days before it', () => {
    expect(windowDays(MONDAY, 3)).toEqual([utcDay(MONDAY) - 2, utcDay(MONDAY) - 1, utcDay(MONDAY)])
  })
})

describe('rateBreach', () => {
  const settings = { ...DEFAULT_GUARDS }
  const figures = (handed: number, bounces: number, complaints = 0): Figures => ({
    handed,
    bounces,
    complaints,
  })

  it('needs minSends and a rate strictly above the limit', () => {
    expect(rateBreach(figures(49, 20), settings)).toBeNull()
    expect(rateBreach(figures(50, 3), settings)).toEqual({
      guard: 'bounce-rate',
      figures: { count: 3, handed: 50, rate: 0.06, limit: 0.05, windowDays: 7 },
    })
    expect(rateBreach(figures(60, 3), settings)).toBeNull()
    expect(rateBreach(figures(1000, 0, 1), settings)).toBeNull()
    expect(rateBreach(figures(999, 0, 1), settings)?.guard).toBe('complaint-rate')
    expect(
      rateBreach(figures(500, 100, 100), { ...settings, maxBounceRate: null, maxComplaintRate: null }),
    ).toBeNull()
  })

  it('trips exactly when count > limit × handed with handed ≥ minSends (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 5000 }),
        fc.nat({ max: 5000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (handed, bounces, minSends, limit) => {
          const breach = rateBreach(figures(handed, Math.min(bounces, handed)), {
            ...settings,
            minSends,
            maxBounceRate: limit,
            maxComplaintRate: null,
          })
          const count = Math.min(bounces, handed)
          const expected = handed >= minSends && handed > 0 && count / handed > limit
          expect(breach !== null).toBe(expected)
          if (breach) expect(breach.figures).toMatchObject({ count, handed, limit })
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('figuresSince', () => {
  const day = utcDay(MONDAY)
  const days = windowDays(MONDAY, 7)
  const perDay = new Map<number, Figures>([
    [day - 8, { handed: 100, bounces: 50, complaints: 5 }],
    [day - 3, { handed: 40, bounces: 4, complaints: 1 }],
    [day, { handed: 30, bounces: 2, complaints: 0 }],
  ])

  it('sums the window; after a resume, only what came after it', () => {
    expect(figuresSince(perDay, days, null)).toEqual({ handed: 70, bounces: 6, complaints: 1 })
    const resume = { atMs: MONDAY, baseline: { handed: 25, bounces: 2, complaints: 0 } }
    expect(figuresSince(perDay, days, resume)).toEqual({ handed: 5, bounces: 0, complaints: 0 })
    // A resume whose day left the window no longer matters.
    const old = { atMs: MONDAY - 10 * DAY, baseline: { handed: 1000, bounces: 1000, complaints: 1000 } }
    expect(figuresSince(perDay, days, old)).toEqual({ handed: 70, bounces: 6, complaints: 1 })
  })

  it('never counts more after a resume than without one, nor below zero (property)', () => {
    const figure = fc.record({ handed: fc.nat(1000), bounces: fc.nat(1000), complaints: fc.nat(1000) })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: day - 10, max: day }), figure), { maxLength: 12 }),
        fc.integer({ min: -10 * DAY, max: 0 }),
        figure,
        (entries, offset, baseline) => {
          const map = new Map(entries)
          const all = figuresSince(map, days, null)
          const since = figuresSince(map, days, { atMs: MONDAY + offset, baseline })
          for (const kind of ['handed', 'bounces', 'complaints'] as const) {
            expect(since[kind]).toBeGreaterThanOrEqual(0)
            expect(since[kind]).toBeLessThanOrEqual(all[kind])
          }
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('trips', () => {
  it('read back as stored, and read as words', () => {
    const figures = { count: 3, handed: 50, rate: 0.06, limit: 0.05, windowDays: 7 }
    expect(tripOfCounts(tripCounts('bounce-rate', figures))).toEqual({ guard: 'bounce-rate', figures })
    expect(tripOfCounts({ guard: 0, count: 0, handed: 0, limit: 0, days: 0 })).toBeNull()
    expect(describeTrip('bounce-rate', figures)).toBe('hard bounces 3 of 50 (6.0%) over 7 days, limit 5%')
    expect(
      describeTrip('complaint-rate', { count: 1, handed: 80, rate: 1 / 80, limit: 0.001, windowDays: 1 }),
    ).toBe('complaints 1 of 80 (1.3%) over 1 day, limit 0.1%')
    expect(describeTrip('consecutive-failures', { count: 5, limit: 5 })).toBe(
      '5 consecutive failed sends, limit 5',
    )
  })
})
