import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dayKey, isInWindow, type WindowSpec } from '../../src/policy/calendar.js'
import { domainOf, FREE_MAIL_DOMAINS, isFreeMailDomain } from '../../src/policy/free-mail.js'
import { MAX_AWAY_DAYS, outOfOfficeResumeAt, startOfLocalDate } from '../../src/policy/out-of-office.js'

const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 300)

/** Zones with DST in both hemispheres, midnight gaps (Santiago, Havana), and the extreme offsets. */
const ZONES = [
  'UTC',
  'Europe/Warsaw',
  'America/New_York',
  'America/Santiago',
  'America/Havana',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'Asia/Tokyo',
] as const

const DAY = 86_400_000
const date = fc
  .integer({ min: Date.UTC(2024, 0, 1) / DAY, max: Date.UTC(2030, 11, 31) / DAY })
  .map((d) => new Date(d * DAY).toISOString().slice(0, 10))
/** A `now` a month before `d`: the return date is well within the year's cap. */
const monthBefore = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) - 30 * DAY)
const nextDate = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + DAY).toISOString().slice(0, 10)

const window = fc.record({
  timezone: fc.constantFrom(...ZONES),
  startHour: fc.integer({ min: 0, max: 20 }),
  startMinute: fc.constantFrom(0, 15, 30, 45),
  length: fc.integer({ min: 1, max: 12 }),
  allowedDays: fc.constantFrom('MON,TUE,WED,THU,FRI', 'MON,TUE,WED,THU,FRI,SAT,SUN', 'SAT,SUN', 'WED'),
})
const specOf = (w: {
  timezone: string
  startHour: number
  startMinute: number
  length: number
  allowedDays: string
}): WindowSpec => ({
  timezone: w.timezone,
  startHour: w.startHour,
  startMinute: w.startMinute,
  endHour: Math.min(24, w.startHour + w.length),
  endMinute: w.startHour + w.length >= 24 ? 0 : w.startMinute,
  allowedDays: w.allowedDays,
})

describe('startOfLocalDate', () => {
  it('is the first instant of that local date in the zone', () => {
    fc.assert(
      fc.property(date, fc.constantFrom(...ZONES), (d, zone) => {
        const start = startOfLocalDate(d, zone)
        expect(dayKey(start, zone)).toBe(d)
        expect(dayKey(new Date(start.getTime() - 1), zone) < d).toBe(true)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('starts after the gap where DST skips midnight', () => {
    // Chile springs forward at 00:00 on Sunday 6 September 2026: the day starts at 01:00 (−03).
    expect(startOfLocalDate('2026-09-06', 'America/Santiago')).toEqual(new Date('2026-09-06T04:00:00Z'))
    expect(startOfLocalDate('2026-09-07', 'America/Santiago')).toEqual(new Date('2026-09-07T03:00:00Z'))
    // +14 and −11: the same local date is 25 hours apart.
    expect(startOfLocalDate('2026-07-01', 'Pacific/Kiritimati')).toEqual(new Date('2026-06-30T10:00:00Z'))
    expect(startOfLocalDate('2026-07-01', 'Pacific/Pago_Pago')).toEqual(new Date('2026-07-01T11:00:00Z'))
  })
})

describe('outOfOfficeResumeAt', () => {
  it('is the first window opening after the return date, in the window’s zone', () => {
    fc.assert(
      fc.property(date, window, (returnDate, w) => {
        const spec = specOf(w)
        const at = outOfOfficeResumeAt(returnDate, spec, monthBefore(returnDate))
        // Inside the window, on a later local day than the return date…
        expect(isInWindow(spec, at)).toBe(true)
        expect(dayKey(at, spec.timezone) > returnDate).toBe(true)
        // …and the first such instant: a minute before, the window was closed or it was still the
        // return date (or earlier).
        const before = new Date(at.getTime() - 60_000)
        expect(!isInWindow(spec, before) || dayKey(before, spec.timezone) <= returnDate).toBe(true)
        // Never more than a week and a day past the day after (one allowed day a week at least).
        const dayAfter = startOfLocalDate(nextDate(returnDate), spec.timezone)
        expect(at.getTime() - dayAfter.getTime()).toBeLessThan(8 * DAY)
        expect(at.getTime()).toBeGreaterThanOrEqual(dayAfter.getTime())
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('reads the morning in the zone given, across DST changes', () => {
    const weekdays = {
      startHour: 9,
      startMinute: 0,
      endHour: 17,
      endMinute: 0,
      allowedDays: 'MON,TUE,WED,THU,FRI',
    }
    // Back Friday 27 March 2026: the EU springs forward on Sunday 29; Monday 30 at 09:00 CEST.
    expect(
      outOfOfficeResumeAt(
        '2026-03-27',
        { timezone: 'Europe/Warsaw', ...weekdays },
        monthBefore('2026-03-27'),
      ),
    ).toEqual(new Date('2026-03-30T07:00:00Z'))
    // The same return date, in New York (already on EDT since 8 March): Monday 09:00 EDT.
    expect(
      outOfOfficeResumeAt(
        '2026-03-27',
        { timezone: 'America/New_York', ...weekdays },
        monthBefore('2026-03-27'),
      ),
    ).toEqual(new Date('2026-03-30T13:00:00Z'))
    // Back Saturday 24 October: the EU falls back on Sunday 25; Monday 26 at 09:00 CET.
    expect(
      outOfOfficeResumeAt(
        '2026-10-24',
        { timezone: 'Europe/Warsaw', ...weekdays },
        monthBefore('2026-10-24'),
      ),
    ).toEqual(new Date('2026-10-26T08:00:00Z'))
    // Back Tuesday: Wednesday morning.
    expect(
      outOfOfficeResumeAt('2026-01-13', { timezone: 'Asia/Tokyo', ...weekdays }, monthBefore('2026-01-13')),
    ).toEqual(new Date('2026-01-14T00:00:00Z'))
  })

  it('starts at the day’s start when the window never opens', () => {
    const closed = {
      timezone: 'UTC',
      startHour: 9,
      startMinute: 0,
      endHour: 9,
      endMinute: 0,
      allowedDays: 'MON',
    }
    expect(outOfOfficeResumeAt('2026-01-13', closed, monthBefore('2026-01-13'))).toEqual(
      new Date('2026-01-14T00:00:00Z'),
    )
  })
})

describe('outOfOfficeResumeAt far in the future', () => {
  /** Any date up to 9999-12-31, and a `now` from 2000 to 2100. */
  const farDate = fc
    .integer({ min: Date.UTC(2000, 0, 1) / DAY, max: Date.UTC(9999, 11, 31) / DAY })
    .map((d) => new Date(d * DAY).toISOString().slice(0, 10))
  const nowArb = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }).map((t) => new Date(t))

  it('treats a return date past a year from now as that day, and never throws', () => {
    fc.assert(
      fc.property(fc.oneof(farDate, fc.constant('9999-12-31')), nowArb, window, (returnDate, now, w) => {
        const spec = specOf(w)
        const at = outOfOfficeResumeAt(returnDate, spec, now)
        const latest = dayKey(new Date(now.getTime() + MAX_AWAY_DAYS * DAY), spec.timezone)
        const back = [returnDate, latest].sort()[0]!
        // The same instant as for the capped date, which is at most a year and a week away.
        expect(at).toEqual(outOfOfficeResumeAt(back, spec, now))
        expect(dayKey(at, spec.timezone) > back).toBe(true)
        expect(at.getTime() - now.getTime()).toBeLessThan((MAX_AWAY_DAYS + 10) * DAY)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('reads 9999-12-31 as a year from now', () => {
    const spec = {
      timezone: 'UTC',
      startHour: 9,
      startMinute: 0,
      endHour: 17,
      endMinute: 0,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    }
    // 2026-01-05 + 365 days = 2027-01-05: the morning after is 2027-01-06 09:00.
    expect(outOfOfficeResumeAt('9999-12-31', spec, new Date('2026-01-05T08:00:00Z'))).toEqual(
      new Date('2027-01-06T09:00:00Z'),
    )
  })
})

describe('free-mail domains', () => {
  it('knows the large providers, by domain, whatever the case', () => {
    for (const domain of ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'wp.pl', 'GMX.DE'])
      expect(isFreeMailDomain(domain)).toBe(true)
    for (const domain of ['acme.com', 'mail.acme.com', 'gmail.com.evil.test', ''])
      expect(isFreeMailDomain(domain)).toBe(false)
    for (const domain of FREE_MAIL_DOMAINS) expect(domain).toBe(domain.toLowerCase())
  })

  it('reads the domain after the last @', () => {
    expect(domainOf('Jan@Example.COM')).toBe('example.com')
    expect(domainOf('"a@b"@c.test')).toBe('c.test')
    expect(domainOf('nobody')).toBe('')
  })
})
