/**
 * Properties of the per-key calendars (policy/zones.ts), over random campaigns, leads of four
 * zones and instants biased towards the 2026 DST changes of the US (03-08) and the EU (03-29):
 * which keys may leave now, when the next one may, and the daily cap spread over the zones.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Campaign, EmailProvider } from '../../src/model/types.js'
import { CAMPAIGN_DEFAULTS } from '../../src/model/validate.js'
import {
  dayKey,
  isInWindow,
  nextLocalMidnight,
  nextWindowOpen,
  windowDayKey,
} from '../../src/policy/calendar.js'
import {
  createKeyCalendars,
  type HolidayCalendar,
  parseWindowKey,
  windowKeyOf,
} from '../../src/policy/zones.js'
import type { WindowKeyStat } from '../../src/store.js'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
/** Raise with POLICY_RUNS=20000 for a soak run. */
const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 300)

const ZONES = ['Asia/Tokyo', 'Europe/Warsaw', 'America/New_York', 'Asia/Kolkata'] as const
const COUNTRIES = ['JP', 'PL', 'US', 'IN'] as const
/** The 2026 spring-forward instants of the US and the EU. */
const TRANSITIONS = [Date.parse('2026-03-08T07:00:00Z'), Date.parse('2026-03-29T01:00:00Z')]

/** Holidays of each test country, a few around the transitions and the New Year, every year. */
const HOLIDAY_DAYS: Record<string, readonly string[]> = {
  JP: ['01-01', '03-20', '03-30'],
  PL: ['01-01', '03-09', '03-30', '03-31'],
  US: ['01-01', '03-09', '03-10'],
  IN: ['01-26', '03-04', '03-27'],
}
const testHolidays: HolidayCalendar = (country, year) =>
  (HOLIDAY_DAYS[country] ?? []).map((monthDay) => `${year}-${monthDay}`)

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

const nowArb = fc
  .oneof(
    fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
    fc
      .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -4 * DAY_MS, max: 4 * DAY_MS }))
      .map(([t, delta]) => t + delta),
  )
  .map((ms) => new Date(Math.floor(ms / 60_000) * 60_000))

const hourArb = fc.oneof(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 2, 8, 9, 17, 22))

/** A campaign with a random window (possibly overnight or all day), mode, zone, skip dates and cap. */
function campaignArb(now: Date): fc.Arbitrary<Campaign> {
  const today = Math.floor(now.getTime() / DAY_MS)
  return fc
    .record({
      windowTimezone: fc.constantFrom('campaign' as const, 'lead' as const),
      timezone: fc.constantFrom('UTC', ...ZONES),
      startHour: hourArb,
      startMinute: fc.constantFrom(0, 30),
      endHour: fc.oneof(hourArb, fc.constant(24)),
      endMinute: fc.constantFrom(0, 30),
      allowedDays: fc
        .uniqueArray(fc.constantFrom('MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'), {
          minLength: 1,
          maxLength: 7,
        })
        .map((days) => days.join(',')),
      skipDates: fc
        .uniqueArray(fc.integer({ min: -2, max: 6 }), { maxLength: 3 })
        .map((offsets) => offsets.map((d) => isoDay((today + d) * DAY_MS)).sort()),
      maxEmailsPerDay: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 1000 })),
    })
    .map((s) => ({ ...s, endMinute: s.endHour === 24 ? 0 : s.endMinute }))
    .filter((s) => s.startHour * 60 + s.startMinute !== s.endHour * 60 + s.endMinute)
    .map((s) => ({ ...makeCampaign(), ...s }))
}

function makeCampaign(): Campaign {
  const t0 = new Date('2026-01-01T00:00:00Z')
  return {
    id: 'c-1',
    name: 'zones',
    status: 'IN_PROGRESS',
    ...CAMPAIGN_DEFAULTS,
    mailboxIds: ['mb-1'],
    steps: [{ subject: 'Hi', text: 'Hello' }],
    variables: [],
    createdAt: t0,
    updatedAt: t0,
    settingsVersion: 1,
    nextSlotAt: null,
    lastMailboxId: null,
    externalId: null,
  }
}

/** Distinct keys of leads in the test zones and countries (either may be unknown), each with its earliest item. */
function keysArb(now: Date): fc.Arbitrary<WindowKeyStat[]> {
  const key = fc
    .record({
      timezone: fc.constantFrom(null, ...ZONES),
      country: fc.constantFrom(null, ...COUNTRIES),
    })
    .map(windowKeyOf)
  const nextAt = fc
    .oneof(fc.integer({ min: -2 * DAY_MS, max: 0 }), fc.integer({ min: -2 * DAY_MS, max: 2 * DAY_MS }))
    .map((delta) => new Date(now.getTime() + Math.floor(delta / 60_000) * 60_000))
  return fc
    .uniqueArray(key, { minLength: 1, maxLength: 6 })
    .chain((keys) =>
      fc
        .tuple(...keys.map(() => nextAt))
        .map((ats) => keys.map((windowKey, i) => ({ windowKey, nextAt: ats[i]! }))),
    )
}

const caseArb = nowArb.chain((now) =>
  fc.record({
    now: fc.constant(now),
    campaign: campaignArb(now),
    keys: keysArb(now),
    withHolidays: fc.boolean(),
  }),
)

/** Whether a key's items may leave at `t`, from first principles: due, and its window open on a day not skipped. */
function eligibleAt(campaign: Campaign, stat: WindowKeyStat, t: Date, withHolidays: boolean): boolean {
  if (stat.nextAt.getTime() > t.getTime()) return false
  const { timezone, country } = parseWindowKey(stat.windowKey)
  const zone = campaign.windowTimezone === 'lead' && timezone !== null ? timezone : campaign.timezone
  const window = { ...campaign, timezone: zone, skipDates: [] }
  const day = windowDayKey(window, t)
  if (day === null) return false
  if (campaign.skipDates.includes(day)) return false
  if (withHolidays && country !== null && testHolidays(country, Number(day.slice(0, 4))).includes(day))
    return false
  return true
}

/** The first instant of the local day holding `t`. */
function dayStart(t: Date, zone: string): Date {
  return nextLocalMidnight(new Date(nextLocalMidnight(t, zone).getTime() - 36 * HOUR_MS), zone)
}

describe('per-key calendars', () => {
  it('a key is open exactly when it is due and its window is open on a day that is not skipped', () => {
    fc.assert(
      fc.property(caseArb, ({ now, campaign, keys, withHolidays }) => {
        const calendars = createKeyCalendars(withHolidays ? testHolidays : undefined)
        const { open } = calendars.openKeys(campaign, keys, now)
        for (const stat of keys)
          expect(open.includes(stat.windowKey), stat.windowKey).toBe(
            eligibleAt(campaign, stat, now, withHolidays),
          )
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('nextAt is the first instant after now at which a key not open now may leave', () => {
    fc.assert(
      fc.property(caseArb, ({ now, campaign, keys, withHolidays }) => {
        const calendars = createKeyCalendars(withHolidays ? testHolidays : undefined)
        const { open, nextAt } = calendars.openKeys(campaign, keys, now)
        const waiting = keys.filter((k) => !open.includes(k.windowKey))
        if (nextAt === null) {
          expect(waiting).toEqual([])
          return
        }
        expect(nextAt.getTime()).toBeGreaterThan(now.getTime())
        expect(waiting.some((k) => eligibleAt(campaign, k, nextAt, withHolidays))).toBe(true)
        const justBefore = new Date(nextAt.getTime() - 1)
        if (justBefore.getTime() > now.getTime())
          expect(waiting.some((k) => eligibleAt(campaign, k, justBefore, withHolidays))).toBe(false)
        // Sampled, not every minute: no waiting key may leave before nextAt.
        const span = nextAt.getTime() - now.getTime()
        for (let i = 1; i < 24; i++) {
          const t = new Date(now.getTime() + Math.floor((span * i) / 24))
          for (const k of waiting) expect(eligibleAt(campaign, k, t, withHolidays)).toBe(false)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('specFor reads the lead zone only in lead mode and returns one array per key and settings', () => {
    fc.assert(
      fc.property(caseArb, ({ now, campaign, keys, withHolidays }) => {
        const calendars = createKeyCalendars(withHolidays ? testHolidays : undefined)
        for (const { windowKey } of keys) {
          const spec = calendars.specFor(campaign, windowKey, now)
          const { timezone, country } = parseWindowKey(windowKey)
          expect(spec.timezone).toBe(
            campaign.windowTimezone === 'lead' && timezone !== null ? timezone : campaign.timezone,
          )
          for (const date of campaign.skipDates) expect(spec.skipDates).toContain(date)
          if (withHolidays && country !== null)
            for (const date of testHolidays(country, now.getUTCFullYear()))
              expect(spec.skipDates).toContain(date)
          // Stable by identity: the calendar caches compiled skip dates per array.
          expect(calendars.specFor({ ...campaign }, windowKey, now)).toBe(spec)
          expect(calendars.specFor(campaign, windowKey, now).skipDates).toBe(spec.skipDates)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('the daily cap grows over the day by groups of zones, to the whole cap once the last group opens', () => {
    fc.assert(
      fc.property(caseArb, ({ now, campaign, keys, withHolidays }) => {
        const calendars = createKeyCalendars(withHolidays ? testHolidays : undefined)
        const max = campaign.maxEmailsPerDay
        const start = dayStart(now, campaign.timezone)
        const end = nextLocalMidnight(now, campaign.timezone)
        expect(dayKey(start, campaign.timezone)).toBe(dayKey(now, campaign.timezone))
        expect(
          dayKey(new Date(start.getTime() - 1), campaign.timezone) < dayKey(now, campaign.timezone),
        ).toBe(true)
        // The groups: the first instant in the day each key is due and open (at the day's start if it is then).
        const openings = new Set<number>()
        for (const stat of keys) {
          const from = new Date(Math.max(stat.nextAt.getTime(), start.getTime()))
          if (from.getTime() >= end.getTime()) continue
          const opens = nextWindowOpen(calendars.specFor(campaign, stat.windowKey, from), from)
          if (opens.getTime() < end.getTime()) openings.add(opens.getTime())
        }
        const groups = [...openings].sort((a, b) => a - b)
        const span = end.getTime() - start.getTime()
        const instants = [start.getTime(), end.getTime() - 1, ...groups, ...groups.map((g) => g - 1)]
        for (let i = 1; i < 12; i++) instants.push(start.getTime() + Math.floor((span * i) / 12))
        const sorted = [...new Set(instants)]
          .filter((t) => t >= start.getTime() && t < end.getTime())
          .sort((a, b) => a - b)
        let previous = 0
        for (const t of sorted) {
          const cap = calendars.dailyCap(campaign, keys, new Date(t))
          expect(cap).toBeGreaterThanOrEqual(previous)
          expect(cap).toBeLessThanOrEqual(max)
          previous = cap
          if (campaign.windowTimezone !== 'lead' || groups.length < 2) {
            expect(cap).toBe(max)
            continue
          }
          const opened = groups.filter((g) => g <= t).length
          expect(cap).toBe(Math.ceil((max * opened) / groups.length))
          const last = groups[groups.length - 1]!
          if (t >= last) expect(cap).toBe(max)
          // Before the last group opens, some of the cap is kept for it (when there is a send per group to keep).
          else if (max >= groups.length) expect(cap).toBeLessThan(max)
        }
      }),
      { numRuns: Math.ceil(NUM_RUNS / 2) },
    )
  })

  it('keyState says whether a key is open, when it opens, and the skip date that keeps it shut', () => {
    fc.assert(
      fc.property(caseArb, ({ now, campaign, keys, withHolidays }) => {
        const calendars = createKeyCalendars(withHolidays ? testHolidays : undefined)
        for (const { windowKey } of keys) {
          const spec = calendars.specFor(campaign, windowKey, now)
          const state = calendars.keyState(campaign, windowKey, now)
          const due = { windowKey, nextAt: new Date(0) }
          expect(state.open).toBe(eligibleAt(campaign, due, now, withHolidays))
          expect(state.timezone).toBe(spec.timezone)
          expect(state.opensAt).toEqual(state.open ? now : nextWindowOpen(spec, now))
          const plainDay = windowDayKey({ ...spec, skipDates: undefined }, now)
          // Shut by a skip date exactly when the hours are right but the day is skipped.
          expect(state.skipDate).toBe(state.open ? null : plainDay)
          if (state.skipDate !== null) expect(spec.skipDates).toContain(state.skipDate)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('the campaign day is its calendar day in lead mode, its window day in campaign mode', () => {
    fc.assert(
      fc.property(caseArb, ({ now, campaign }) => {
        const calendars = createKeyCalendars()
        const day = calendars.campaignDayKey(campaign, now)
        if (campaign.windowTimezone === 'lead') expect(day).toBe(dayKey(now, campaign.timezone))
        else {
          expect(day).toBe(windowDayKey(campaign, now))
          if (day !== null) expect(campaign.skipDates).not.toContain(day)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('a window key names its zone, country and matched provider, and reads back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(null, ...ZONES, 'UTC', 'America/Argentina/Buenos_Aires'),
        fc.constantFrom(null, ...COUNTRIES),
        fc.constantFrom(undefined, null, 'google', 'microsoft', 'yahoo', 'other') as fc.Arbitrary<
          EmailProvider | null | undefined
        >,
        (timezone, country, provider) => {
          const key = windowKeyOf({ timezone, country }, provider)
          const matched = provider === 'google' || provider === 'microsoft' || provider === 'yahoo'
          expect(key === '').toBe(timezone === null && country === null && !matched)
          expect(key.length).toBeLessThanOrEqual(80)
          expect(parseWindowKey(key)).toEqual({ timezone, country, provider: matched ? provider : 'other' })
          // A lead of provider other or unknown keeps the key it had before provider matching.
          if (!matched) expect(key).toBe(windowKeyOf({ timezone, country }))
          // The calendars read the zone and country alone: a provider never moves a window.
          const calendars = createKeyCalendars(testHolidays)
          const campaign = { ...makeCampaign(), windowTimezone: 'lead' as const }
          const at = new Date('2026-03-08T12:00:00Z')
          expect(calendars.specFor(campaign, key, at)).toEqual(
            calendars.specFor(campaign, windowKeyOf({ timezone, country }), at),
          )
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('isInWindow agrees with eligibleAt for a key due long ago', () => {
  it('(a check of the test oracle itself)', () => {
    fc.assert(
      fc.property(caseArb, ({ now, campaign, keys }) => {
        const calendars = createKeyCalendars()
        for (const { windowKey } of keys) {
          const spec = calendars.specFor(campaign, windowKey, now)
          const stat = { windowKey, nextAt: new Date(0) }
          expect(isInWindow(spec, now)).toBe(eligibleAt(campaign, stat, now, false))
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
