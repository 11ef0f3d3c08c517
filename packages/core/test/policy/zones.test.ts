/**
 * The per-key calendars on known dates: a 09:00–17:00 weekday campaign whose leads are in Tokyo,
 * Kolkata, Warsaw and New York, across the 2026 DST changes of the US (03-08) and the EU (03-29),
 * with holidays, and a host's holiday calendar that answers badly.
 */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError, type MailcadenceError } from '../../src/errors.js'
import type { Campaign } from '../../src/model/types.js'
import { CAMPAIGN_DEFAULTS } from '../../src/model/validate.js'
import {
  createKeyCalendars,
  type HolidayCalendar,
  spreadDailyCap,
  windowKeyOf,
} from '../../src/policy/zones.js'
import type { WindowKeyStat } from '../../src/store.js'

const at = (iso: string) => new Date(iso)
const T0 = at('2026-01-01T00:00:00Z')

function makeCampaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'c-1',
    name: 'zones',
    status: 'IN_PROGRESS',
    ...CAMPAIGN_DEFAULTS,
    mailboxIds: ['mb-1'],
    steps: [{ subject: 'Hi', text: 'Hello' }],
    variables: [],
    createdAt: T0,
    updatedAt: T0,
    settingsVersion: 1,
    nextSlotAt: null,
    lastMailboxId: null,
    externalId: null,
    ...overrides,
  }
}

const TOKYO = windowKeyOf({ timezone: 'Asia/Tokyo', country: 'JP' })
const KOLKATA = windowKeyOf({ timezone: 'Asia/Kolkata', country: 'IN' })
const WARSAW = windowKeyOf({ timezone: 'Europe/Warsaw', country: 'PL' })
const NEW_YORK = windowKeyOf({ timezone: 'America/New_York', country: 'US' })
/** Every key due since the start of 2026. */
const ALL_DUE: WindowKeyStat[] = [TOKYO, KOLKATA, WARSAW, NEW_YORK].map((windowKey) => ({
  windowKey,
  nextAt: T0,
}))
const leadMode = makeCampaign({ windowTimezone: 'lead', timezone: 'UTC', maxEmailsPerDay: 100 })

function refused(fn: () => unknown): MailcadenceError {
  try {
    fn()
  } catch (error) {
    expect(isMailcadenceError(error, 'invalid-input'), String(error)).toBe(true)
    expect((error as MailcadenceError).field).toBe('holidays')
    return error as MailcadenceError
  }
  throw new Error('expected an invalid-input error')
}

describe('window keys', () => {
  it('are empty for a lead without zone and country, zone|country otherwise', () => {
    expect(windowKeyOf({ timezone: null, country: null })).toBe('')
    expect(windowKeyOf({ timezone: 'Asia/Tokyo', country: null })).toBe('Asia/Tokyo|')
    expect(windowKeyOf({ timezone: null, country: 'PL' })).toBe('|PL')
    expect(TOKYO).toBe('Asia/Tokyo|JP')
  })
})

describe('openKeys in lead mode across the DST changes', () => {
  const calendars = createKeyCalendars()

  it('opens each zone at its own 09:00: New York an hour earlier in UTC after 2026-03-08', () => {
    // Friday 2026-03-06, New York still on EST (UTC−5): 09:00 there is 14:00Z.
    expect(calendars.openKeys(leadMode, ALL_DUE, at('2026-03-06T13:30:00Z'))).toEqual({
      open: [WARSAW],
      nextAt: at('2026-03-06T14:00:00Z'),
    })
    // Monday 2026-03-09, on EDT (UTC−4): 09:00 is 13:00Z; Warsaw (CET, 14:30) still open.
    expect(calendars.openKeys(leadMode, ALL_DUE, at('2026-03-09T13:30:00Z')).open).toEqual([WARSAW, NEW_YORK])
    expect(calendars.openKeys(leadMode, ALL_DUE, at('2026-03-09T12:30:00Z'))).toEqual({
      open: [WARSAW],
      nextAt: at('2026-03-09T13:00:00Z'),
    })
  })

  it('opens Warsaw an hour earlier in UTC after 2026-03-29; Tokyo and Kolkata do not move', () => {
    // Friday 2026-03-27 (CET, UTC+1): Warsaw opens 08:00Z.
    expect(calendars.openKeys(leadMode, ALL_DUE, at('2026-03-27T07:30:00Z'))).toEqual({
      open: [TOKYO, KOLKATA],
      nextAt: at('2026-03-27T08:00:00Z'),
    })
    // Monday 2026-03-30 (CEST, UTC+2): Warsaw opens 07:00Z; Tokyo 00:00–08:00Z, Kolkata 03:30–11:30Z.
    expect(calendars.openKeys(leadMode, ALL_DUE, at('2026-03-30T07:30:00Z')).open).toEqual([
      TOKYO,
      KOLKATA,
      WARSAW,
    ])
    expect(calendars.openKeys(leadMode, ALL_DUE, at('2026-03-30T03:29:00Z'))).toEqual({
      open: [TOKYO],
      nextAt: at('2026-03-30T03:30:00Z'),
    })
  })

  it('opens a key only once its earliest item is due', () => {
    const keys = [{ windowKey: WARSAW, nextAt: at('2026-03-30T10:15:00Z') }]
    expect(calendars.openKeys(leadMode, keys, at('2026-03-30T10:00:00Z'))).toEqual({
      open: [],
      nextAt: at('2026-03-30T10:15:00Z'),
    })
    // Due after the window closed: the next opening, Tuesday 09:00 Warsaw.
    const late = [{ windowKey: WARSAW, nextAt: at('2026-03-30T16:00:00Z') }]
    expect(calendars.openKeys(leadMode, late, at('2026-03-30T10:00:00Z')).nextAt).toEqual(
      at('2026-03-31T07:00:00Z'),
    )
  })

  it('reads a lead without a zone, and every lead in campaign mode, on the campaign zone', () => {
    const campaignMode = makeCampaign({ timezone: 'Asia/Tokyo' })
    const keys = [
      { windowKey: '', nextAt: T0 },
      { windowKey: '|PL', nextAt: T0 },
      { windowKey: NEW_YORK, nextAt: T0 },
    ]
    // 10:00 in Tokyo: all three in campaign mode; in lead mode New York (20:00 the day before) is closed.
    const now = at('2026-03-10T01:00:00Z')
    expect(calendars.openKeys(campaignMode, keys, now).open).toEqual(['', '|PL', NEW_YORK])
    expect(calendars.openKeys({ ...campaignMode, windowTimezone: 'lead' }, keys, now).open).toEqual([
      '',
      '|PL',
    ])
  })

  it('skips the campaign skip dates in every zone, on each lead’s own local date', () => {
    const campaign = { ...leadMode, skipDates: ['2026-03-30'] }
    // Monday 2026-03-30 07:30Z: Tokyo, Kolkata and Warsaw are all on their 30th: none opens.
    const { open, nextAt } = calendars.openKeys(campaign, ALL_DUE, at('2026-03-30T07:30:00Z'))
    expect(open).toEqual([])
    // New York's 30th is skipped too; Tokyo's Tuesday 09:00 is 2026-03-31T00:00Z.
    expect(nextAt).toEqual(at('2026-03-31T00:00:00Z'))
  })
})

describe('holidays', () => {
  const holidays: HolidayCalendar = (country, year) => (country === 'PL' ? [`${year}-11-11`] : [])

  it('closes the window of a country’s leads on its holidays, also in campaign mode', () => {
    const calendars = createKeyCalendars(holidays)
    const campaign = makeCampaign({ timezone: 'Europe/Warsaw' })
    expect(calendars.isKeyed(campaign)).toBe(true)
    expect(createKeyCalendars().isKeyed(campaign)).toBe(false)
    expect(createKeyCalendars().isKeyed(leadMode)).toBe(true)
    const keys = [
      { windowKey: '|PL', nextAt: T0 },
      { windowKey: '|DE', nextAt: T0 },
      { windowKey: '', nextAt: T0 },
    ]
    // Wednesday 2026-11-11, 10:00 in Warsaw: Polish leads wait until Thursday 09:00 (08:00Z).
    expect(calendars.openKeys(campaign, keys, at('2026-11-11T09:00:00Z'))).toEqual({
      open: ['|DE', ''],
      nextAt: at('2026-11-12T08:00:00Z'),
    })
    expect(calendars.keyState(campaign, '|PL', at('2026-11-11T09:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2026-11-12T08:00:00Z'),
      skipDate: '2026-11-11',
      timezone: 'Europe/Warsaw',
    })
  })

  it('asks once per country and year, and covers the years around the instant', () => {
    const asked: string[] = []
    const calendars = createKeyCalendars((country, year) => {
      asked.push(`${country} ${year}`)
      return country === 'PL' ? [`${year + 1}-01-01`] : []
    })
    const campaign = makeCampaign({ allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN' })
    // New Year's Day 2027 comes from the 2026 answer, whichever year is asked about.
    expect(calendars.specFor(campaign, '|PL', at('2026-12-31T12:00:00Z')).skipDates).toContain('2027-01-01')
    for (let i = 0; i < 5; i++)
      calendars.openKeys(campaign, [{ windowKey: '|PL', nextAt: T0 }], at('2026-12-31T12:00:00Z'))
    expect(
      calendars.openKeys(campaign, [{ windowKey: '|PL', nextAt: T0 }], at('2026-12-31T23:00:00Z')).nextAt,
    ).toEqual(at('2027-01-02T09:00:00Z'))
    expect(asked.sort()).toEqual(['PL 2025', 'PL 2026', 'PL 2027'])
  })

  it('refuses an answer that is not an array of YYYY-MM-DD dates, naming holidays', () => {
    const campaign = makeCampaign()
    const ask = (calendar: (country: string, year: number) => unknown) =>
      createKeyCalendars(calendar as HolidayCalendar).specFor(campaign, '|PL', at('2026-05-01T10:00:00Z'))
    expect(refused(() => ask(() => '2026-05-01')).message).toContain('must return an array')
    expect(refused(() => ask(() => null)).message).toContain('got null')
    expect(refused(() => ask(() => ['2026-02-30'])).message).toContain('"2026-02-30"')
    expect(refused(() => ask(() => ['2026-5-1'])).message).toContain('not a YYYY-MM-DD date')
    expect(refused(() => ask(() => [new Date()])).message).toContain('the Date')
    const secret = 'password=hunter2'
    const thrown = refused(() =>
      ask(() => {
        throw new Error(secret)
      }),
    )
    expect(thrown.message).toContain('threw for PL')
    expect(thrown.message).not.toContain('hunter2')
    const revoked = Proxy.revocable([], {})
    revoked.revoke()
    expect(refused(() => ask(() => revoked.proxy)).message).toContain('threw for PL')
    const getter = Object.defineProperty([], 0, {
      get() {
        throw new Error('boom')
      },
      enumerable: true,
    })
    expect(refused(() => ask(() => getter)).message).toContain('threw for PL')
  })

  it('does not ask about a lead without a country', () => {
    let asked = 0
    const calendars = createKeyCalendars(() => {
      asked++
      return []
    })
    calendars.specFor(makeCampaign(), windowKeyOf({ timezone: 'Asia/Tokyo', country: null }), T0)
    calendars.specFor(makeCampaign(), '', T0)
    expect(asked).toBe(0)
  })
})

describe('the daily cap spread over zones', () => {
  const calendars = createKeyCalendars()

  it('gives each group of zones its share as it opens: Tokyo, Kolkata, Warsaw, New York on a UTC day', () => {
    // Tuesday 2026-03-10 in UTC: Tokyo opens 00:00Z, Kolkata 03:30Z, Warsaw 08:00Z, New York 13:00Z (EDT).
    const cap = (iso: string) => calendars.dailyCap(leadMode, ALL_DUE, at(iso))
    expect(cap('2026-03-10T00:00:00Z')).toBe(25)
    expect(cap('2026-03-10T03:29:59Z')).toBe(25)
    expect(cap('2026-03-10T03:30:00Z')).toBe(50)
    expect(cap('2026-03-10T08:00:00Z')).toBe(75)
    expect(cap('2026-03-10T12:59:59Z')).toBe(75)
    expect(cap('2026-03-10T13:00:00Z')).toBe(100)
    expect(cap('2026-03-10T23:59:59Z')).toBe(100)
    // Monday 2026-03-30, after the EU change: Warsaw's share from 07:00Z.
    expect(calendars.dailyCap(leadMode, ALL_DUE, at('2026-03-30T06:59:00Z'))).toBe(50)
    expect(calendars.dailyCap(leadMode, ALL_DUE, at('2026-03-30T07:00:00Z'))).toBe(75)
  })

  it('counts zones opening at the same instant as one group, and zones not opening that day not at all', () => {
    const keys = [
      ...ALL_DUE,
      { windowKey: windowKeyOf({ timezone: 'Asia/Tokyo', country: null }), nextAt: T0 },
      // Due only on Wednesday: not part of Tuesday.
      {
        windowKey: windowKeyOf({ timezone: 'Europe/London', country: null }),
        nextAt: at('2026-03-11T00:00:00Z'),
      },
    ]
    expect(calendars.dailyCap(leadMode, keys, at('2026-03-10T00:00:00Z'))).toBe(25)
    // On Saturday nobody opens: one group or none, the whole cap.
    expect(calendars.dailyCap(leadMode, keys, at('2026-03-14T12:00:00Z'))).toBe(100)
  })

  it('is the campaign’s own cap in campaign mode', () => {
    expect(
      calendars.dailyCap({ ...leadMode, windowTimezone: 'campaign' }, ALL_DUE, at('2026-03-10T00:00:00Z')),
    ).toBe(100)
  })

  it('rounds each share up', () => {
    expect(spreadDailyCap(10, [1, 2, 3], 1)).toBe(4)
    expect(spreadDailyCap(10, [1, 2, 3], 2)).toBe(7)
    expect(spreadDailyCap(10, [1, 2, 3], 3)).toBe(10)
    expect(spreadDailyCap(10, [1, 1], 0)).toBe(10)
    expect(spreadDailyCap(0, [1, 2], 2)).toBe(0)
  })
})

describe('campaignDayKey', () => {
  const calendars = createKeyCalendars()

  it('is the calendar day of the campaign zone in lead mode, even outside any window', () => {
    const campaign = { ...leadMode, timezone: 'Asia/Tokyo', skipDates: ['2026-03-10'] }
    expect(calendars.campaignDayKey(campaign, at('2026-03-09T20:00:00Z'))).toBe('2026-03-10')
  })

  it('is the window day in campaign mode, null on a skip date', () => {
    const campaign = makeCampaign({ timezone: 'Asia/Tokyo', skipDates: ['2026-03-10'] })
    expect(calendars.campaignDayKey(campaign, at('2026-03-09T01:00:00Z'))).toBe('2026-03-09')
    expect(calendars.campaignDayKey(campaign, at('2026-03-10T01:00:00Z'))).toBeNull()
  })
})
