/**
 * What holds a keyed campaign back (`keyedDueAt`, the tick's gate) and when its window keys reopen,
 * from its keys alone: the same answers `explain()` gives, checked on examples of each hold.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Campaign } from '../src/model/types.js'
import { CAMPAIGN_DEFAULTS } from '../src/model/validate.js'
import { isInWindow } from '../src/policy/calendar.js'
import { createKeyCalendars } from '../src/policy/zones.js'
import { keyedDeferralUntil, keyedDueAt } from '../src/scheduler/due.js'
import type { WindowKeyStat } from '../src/store.js'

const at = (iso: string) => new Date(iso)
const TOKYO = 'Asia/Tokyo|JP'
const NEW_YORK = 'America/New_York|US'
const WARSAW = 'Europe/Warsaw|PL'

function leadHours(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'c-1',
    name: 'Zones',
    status: 'IN_PROGRESS',
    ...CAMPAIGN_DEFAULTS,
    windowTimezone: 'lead',
    startHour: 9,
    endHour: 17,
    allowedDays: 'MON,TUE,WED,THU,FRI',
    mailboxIds: ['mb-1'],
    steps: [{ subject: 'Hi', text: 'Hello' }],
    variables: [],
    createdAt: at('2026-01-01T00:00:00Z'),
    updatedAt: at('2026-01-01T00:00:00Z'),
    settingsVersion: 1,
    nextSlotAt: null,
    lastMailboxId: null,
    externalId: null,
    ...overrides,
  }
}
const due = (windowKey: string, nextAt = '2026-03-01T00:00:00Z'): WindowKeyStat => ({
  windowKey,
  nextAt: at(nextAt),
})

describe('keyedDueAt', () => {
  const calendars = createKeyCalendars((country) => (country === 'PL' ? ['2026-03-10'] : []))

  it('lists the keys open now, and only those', () => {
    // Tuesday 10 March 02:00 UTC: 11:00 in Tokyo, 22:00 (Monday) in New York.
    const r = keyedDueAt(calendars, leadHours(), [due(TOKYO), due(NEW_YORK)], at('2026-03-10T02:00:00Z'))
    expect(r).toEqual({ at: at('2026-03-10T02:00:00Z'), heldBy: null, open: [TOKYO] })
  })

  it('is held by lead-window until the first due key opens', () => {
    // 12:00 UTC: 21:00 in Tokyo, 08:00 in New York (EDT since 8 March).
    const r = keyedDueAt(calendars, leadHours(), [due(TOKYO), due(NEW_YORK)], at('2026-03-10T12:00:00Z'))
    expect(r).toEqual({ at: at('2026-03-10T13:00:00Z'), heldBy: 'lead-window', open: [] })
  })

  it('is held by skip-date when a holiday is all that closes the due keys', () => {
    // 10:00 in Warsaw on a Polish holiday.
    const r = keyedDueAt(calendars, leadHours(), [due(WARSAW)], at('2026-03-10T09:00:00Z'))
    expect(r).toEqual({ at: at('2026-03-11T08:00:00Z'), heldBy: 'skip-date', open: [] })
  })

  it('is not-due when no key has an email due, whatever their windows', () => {
    const r = keyedDueAt(
      calendars,
      leadHours(),
      [due(TOKYO, '2026-03-12T00:00:00Z')],
      at('2026-03-10T02:00:00Z'),
    )
    expect(r.heldBy).toBe('not-due')
    expect(r.at).toEqual(at('2026-03-12T00:00:00Z'))
  })

  it('is held by pacing until the slot, or the first key open after it', () => {
    const campaign = leadHours({ nextSlotAt: at('2026-03-10T07:30:00Z') })
    // Tokyo closes at 08:00 UTC: the slot falls inside it.
    expect(keyedDueAt(calendars, campaign, [due(TOKYO)], at('2026-03-10T02:00:00Z'))).toEqual({
      at: at('2026-03-10T07:30:00Z'),
      heldBy: 'pacing',
      open: [],
    })
    const late = leadHours({ nextSlotAt: at('2026-03-10T08:30:00Z') })
    expect(keyedDueAt(calendars, late, [due(TOKYO)], at('2026-03-10T02:00:00Z')).at).toEqual(
      at('2026-03-11T00:00:00Z'),
    )
  })

  it("in the campaign's own zone, its window gates first: outside-window, or skip-date on its skip dates", () => {
    const own = leadHours({ windowTimezone: 'campaign', skipDates: ['2026-03-11'] })
    expect(keyedDueAt(calendars, own, [due(TOKYO)], at('2026-03-10T20:00:00Z')).heldBy).toBe('outside-window')
    expect(keyedDueAt(calendars, own, [due(TOKYO)], at('2026-03-11T10:00:00Z'))).toEqual({
      at: at('2026-03-12T09:00:00Z'),
      heldBy: 'skip-date',
      open: [],
    })
  })

  it('sends only inside an open key’s window, and a hold always ends later (property)', () => {
    const keys = [TOKYO, NEW_YORK, WARSAW, 'Asia/Kolkata|IN']
    const start = Date.parse('2026-03-01T00:00:00Z')
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 * 24 * 60 }),
        fc.subarray(keys, { minLength: 1 }),
        fc.integer({ min: 0, max: 5 * 24 * 60 }),
        (minute, chosen, dueIn) => {
          const now = new Date(start + minute * 60_000)
          const stats = chosen.map((k) => ({
            windowKey: k,
            nextAt: new Date(now.getTime() + dueIn * 60_000 - 86_400_000),
          }))
          const r = keyedDueAt(calendars, leadHours(), stats, now)
          for (const key of r.open)
            expect(isInWindow(calendars.specFor(leadHours(), key, now), now)).toBe(true)
          if (r.heldBy) expect(r.at.getTime()).toBeGreaterThan(now.getTime())
          else expect(r.open.length).toBeGreaterThan(0)
        },
      ),
    )
  })
})

describe('keyedDeferralUntil', () => {
  const calendars = createKeyCalendars()
  it('is the first opening of any key from the clock alone, null when one is open', () => {
    // Saturday: Tokyo's Monday opens first.
    const sat = at('2026-03-07T12:00:00Z')
    const keys = [due(NEW_YORK, '2026-03-20T00:00:00Z'), due(TOKYO, '2026-03-20T00:00:00Z')]
    expect(keyedDeferralUntil(calendars, leadHours(), keys, sat)).toEqual(at('2026-03-09T00:00:00Z'))
    expect(keyedDeferralUntil(calendars, leadHours(), keys, at('2026-03-09T01:00:00Z'))).toBeNull()
  })
})
