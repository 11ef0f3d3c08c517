import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  dayKey,
  isInWindow,
  nextLocalMidnight,
  nextWindowDayOpen,
  nextWindowOpen,
  parseAllowedDays,
  type WindowSpec,
  windowCloseAt,
  windowDayKey,
  windowLengthMinutes,
} from '../../src/policy/calendar.js'

const DAY_MS = 86_400_000
const MIN_MS = Date.UTC(2026, 0, 1)
const MAX_MS = Date.UTC(2028, 0, 1) - 1
/** Raise with POLICY_RUNS=20000 for a soak run. */
const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 400)
const MINUTE_MS = 60_000

/**
 * Zones with their 2026–2027 offset transitions (UTC), so that a share of the instants lands within
 * a few days of one: uniform instants over two years would rarely meet a DST edge case.
 */
const ZONES: ReadonlyArray<{ zone: string; transitions: readonly string[] }> = [
  { zone: 'UTC', transitions: [] },
  { zone: 'Asia/Kathmandu', transitions: [] },
  {
    zone: 'Europe/Warsaw',
    transitions: [
      '2026-03-29T01:00:00Z',
      '2026-10-25T01:00:00Z',
      '2027-03-28T01:00:00Z',
      '2027-10-31T01:00:00Z',
    ],
  },
  {
    zone: 'America/New_York',
    transitions: [
      '2026-03-08T07:00:00Z',
      '2026-11-01T06:00:00Z',
      '2027-03-14T07:00:00Z',
      '2027-11-07T06:00:00Z',
    ],
  },
  {
    zone: 'Australia/Lord_Howe',
    transitions: [
      '2026-04-04T15:00:00Z',
      '2026-10-03T15:30:00Z',
      '2027-04-03T15:00:00Z',
      '2027-10-02T15:30:00Z',
    ],
  },
  { zone: 'America/Santiago', transitions: ['2026-04-05T03:00:00Z', '2026-09-06T04:00:00Z'] },
  { zone: 'Asia/Beirut', transitions: ['2026-03-28T22:00:00Z', '2026-10-24T21:00:00Z'] },
]

/** Minutes of the day, biased towards the hours where DST transitions happen and round minutes. */
const hourArb = fc.oneof(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 1, 2, 3, 22, 23))
const minuteArb = fc.oneof(fc.integer({ min: 0, max: 59 }), fc.constantFrom(0, 15, 30, 45))

const allowedDaysArb = fc
  .uniqueArray(fc.constantFrom('MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'), {
    minLength: 1,
    maxLength: 7,
  })
  .map((days) => days.join(','))

/** A random zone, window (start ≠ end, possibly overnight or ending at 24:00) and instant. */
const plainCaseArb = fc.constantFrom(...ZONES).chain(({ zone, transitions }) => {
  const uniform = fc.integer({ min: MIN_MS, max: MAX_MS })
  const nearTransition =
    transitions.length === 0
      ? uniform
      : fc
          .tuple(fc.constantFrom(...transitions), fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS }))
          .map(([iso, delta]) => Date.parse(iso) + delta)
  const roundTo = fc.constantFrom(1, 1000, 60_000, 15 * 60_000)
  const instant = fc
    .tuple(fc.oneof(uniform, nearTransition), roundTo)
    .map(([ms, step]) => new Date(Math.floor(ms / step) * step))
  const spec = fc
    .record({
      startHour: hourArb,
      startMinute: minuteArb,
      endHour: fc.oneof(hourArb, fc.constant(24)),
      endMinute: minuteArb,
      allowedDays: allowedDaysArb,
    })
    .map((s): WindowSpec => ({ ...s, timezone: zone, endMinute: s.endHour === 24 ? 0 : s.endMinute }))
    .filter((s) => s.startHour * 60 + s.startMinute !== s.endHour * 60 + s.endMinute)
  return fc.record({ spec, instant })
})

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10)

/**
 * Skip dates around an instant: none, a few scattered days from three days before to twelve after
 * (the instant's own day and the one before matter for overnight windows), a blackout of up to
 * three weeks, or every allowed day of up to ten weeks in a row (each skipped date then costs a
 * week for a window of one weekday: the searches' bounds must allow for that).
 */
function skipDatesAround(spec: WindowSpec, instant: Date): fc.Arbitrary<string[]> {
  const today = Math.floor(instant.getTime() / DAY_MS)
  const scattered = fc
    .uniqueArray(fc.integer({ min: -3, max: 12 }), { minLength: 1, maxLength: 6 })
    .map((offsets) => offsets.map((d) => isoDay(today + d)))
  const blackout = fc
    .tuple(fc.integer({ min: -2, max: 3 }), fc.integer({ min: 1, max: 21 }))
    .map(([first, length]) => Array.from({ length }, (_, i) => isoDay(today + first + i)))
  const allowed = parseAllowedDays(spec.allowedDays)
  const weeks = fc.integer({ min: 1, max: 10 }).map((count) => {
    const dates: string[] = []
    // Day numbers: 1970-01-01 (day 0) was a Thursday, weekday 3 when Monday is 0.
    for (let day = today - 1; day < today - 1 + 7 * count; day++)
      if (allowed.has((day + 3) % 7)) dates.push(isoDay(day))
    return dates
  })
  return fc.oneof(fc.constant<string[]>([]), scattered, blackout, weeks)
}

/** {@link plainCaseArb} with skip dates near the instant in three cases out of four. */
const caseArb = plainCaseArb.chain(({ spec, instant }) =>
  skipDatesAround(spec, instant).map((skipDates) => ({
    spec: skipDates.length === 0 ? spec : { ...spec, skipDates },
    instant,
  })),
)

const plus = (date: Date, ms: number) => new Date(date.getTime() + ms)

/** ~count instants spread strictly between a and b (exclusive), plus a few right after a. */
function between(a: Date, b: Date, count = 20): Date[] {
  const span = b.getTime() - a.getTime()
  const points: Date[] = []
  for (let i = 1; i <= count; i++) points.push(plus(a, Math.floor((span * i) / (count + 1))))
  for (const step of [1, 1000, 60_000]) if (step < span) points.push(plus(a, step))
  return points.filter((p) => p.getTime() > a.getTime() && p.getTime() < b.getTime())
}

function weekdayOfKey(key: string): number {
  return (new Date(`${key}T00:00:00Z`).getUTCDay() + 6) % 7
}

const alwaysOpen = (spec: WindowSpec) =>
  (spec.skipDates ?? []).length === 0 &&
  spec.startHour === 0 &&
  spec.startMinute === 0 &&
  spec.endHour === 24 &&
  parseAllowedDays(spec.allowedDays).size === 7

describe('calendar properties', () => {
  it('nextWindowOpen returns an instant at or after t that is inside the window', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const opens = nextWindowOpen(spec, instant)
        expect(opens.getTime()).toBeGreaterThanOrEqual(instant.getTime())
        expect(isInWindow(spec, opens)).toBe(true)
        if (isInWindow(spec, instant)) expect(opens).toEqual(instant)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('nothing between t and nextWindowOpen(t) is inside: it is the earliest', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const opens = nextWindowOpen(spec, instant)
        if (opens.getTime() === instant.getTime()) return
        expect(isInWindow(spec, instant)).toBe(false)
        expect(isInWindow(spec, plus(opens, -1))).toBe(false)
        for (const point of between(instant, opens)) expect(isInWindow(spec, point)).toBe(false)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('an instant inside belongs to an allowed day: its own local date or the one before', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const key = windowDayKey(spec, instant)
        expect(key !== null).toBe(isInWindow(spec, instant))
        if (key === null) return
        expect(parseAllowedDays(spec.allowedDays).has(weekdayOfKey(key))).toBe(true)
        const today = dayKey(instant, spec.timezone)
        const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10)
        expect([today, yesterday]).toContain(key)
        // A window that does not cross midnight always belongs to the local date.
        if (spec.startHour * 60 + spec.startMinute < spec.endHour * 60 + spec.endMinute)
          expect(key).toBe(today)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('an instant is inside exactly when the window without skip dates holds it on a day not skipped', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const day = windowDayKey({ ...spec, skipDates: undefined }, instant)
        const skipped = day !== null && (spec.skipDates ?? []).includes(day)
        expect(isInWindow(spec, instant)).toBe(day !== null && !skipped)
        expect(windowDayKey(spec, instant)).toBe(skipped ? null : day)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('windowCloseAt is the first instant outside after an instant inside', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const inside = nextWindowOpen(spec, instant)
        const closes = windowCloseAt(spec, inside)
        expect(closes.getTime()).toBeGreaterThan(inside.getTime())
        if (alwaysOpen(spec)) return
        // Open all day every day, with every skip date behind: it never closes.
        if (closes.getTime() === 8.64e15) {
          expect(windowLengthMinutes(spec)).toBe(24 * 60)
          expect(parseAllowedDays(spec.allowedDays).size).toBe(7)
          const today = dayKey(inside, spec.timezone)
          for (const date of spec.skipDates ?? []) expect(date < today).toBe(true)
          return
        }
        expect(isInWindow(spec, plus(closes, -1))).toBe(true)
        expect(isInWindow(spec, closes)).toBe(false)
        for (const point of between(inside, closes, 10)) expect(isInWindow(spec, point)).toBe(true)
        if (!isInWindow(spec, instant)) expect(windowCloseAt(spec, instant)).toEqual(instant)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('nextWindowDayOpen is the first instant inside a later window day', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const next = nextWindowDayOpen(spec, instant)
        expect(next.getTime()).toBeGreaterThan(instant.getTime())
        const key = windowDayKey(spec, next)
        expect(key).not.toBeNull()
        const current = windowDayKey(spec, instant)
        if (current === null) {
          expect(next).toEqual(nextWindowOpen(spec, instant))
          return
        }
        expect(key! > current).toBe(true)
        for (const point of between(instant, next, 10)) {
          const pointKey = windowDayKey(spec, point)
          // A fall-back may bring back the current day's window, or even an earlier one's.
          expect(pointKey === null || pointKey <= current).toBe(true)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('nextLocalMidnight is the first instant of a later local date', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const zone = spec.timezone
        const midnight = nextLocalMidnight(instant, zone)
        const today = dayKey(instant, zone)
        expect(midnight.getTime()).toBeGreaterThan(instant.getTime())
        expect(midnight.getTime() - instant.getTime()).toBeLessThanOrEqual(DAY_MS + 3_600_000)
        expect(dayKey(midnight, zone) > today).toBe(true)
        expect(dayKey(plus(midnight, -1), zone)).toBe(today)
        for (const point of between(instant, midnight, 10)) expect(dayKey(point, zone)).toBe(today)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  // Every window edge and every offset transition of these zones falls on a whole UTC minute, so
  // scanning minute by minute is an exact oracle for the earliest instant inside or outside.
  it('agrees with a minute-by-minute scan', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, instant }) => {
        const firstMinute = Math.ceil(instant.getTime() / MINUTE_MS) * MINUTE_MS
        let opens = instant.getTime()
        if (!isInWindow(spec, instant)) {
          opens = firstMinute
          while (!isInWindow(spec, new Date(opens))) opens += MINUTE_MS
        }
        expect(nextWindowOpen(spec, instant).getTime()).toBe(opens)
        if (alwaysOpen(spec)) return
        // Open all day every day with every skip date behind: it never closes (checked above).
        if (windowCloseAt(spec, new Date(opens)).getTime() === 8.64e15) return
        let closes = Math.floor(opens / MINUTE_MS) * MINUTE_MS + MINUTE_MS
        while (isInWindow(spec, new Date(closes))) closes += MINUTE_MS
        expect(windowCloseAt(spec, new Date(opens)).getTime()).toBe(closes)
      }),
      { numRuns: Math.ceil(NUM_RUNS / 4) },
    )
  })
})
