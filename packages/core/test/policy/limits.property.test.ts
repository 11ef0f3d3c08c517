/**
 * Properties of the limits that protect mailboxes, without a store: the warm-up ramp
 * (policy/ramp.ts), the local clock hour an hourly cap counts (policy/calendar.ts) and the counter
 * keys every limit claims (policy/limit-keys.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hourKey, nextLocalHour } from '../../src/policy/calendar.js'
import { domainCounterKey, hourlyCounterKey } from '../../src/policy/limit-keys.js'
import { dailyLimitOf, rampLevelAfterDay } from '../../src/policy/ramp.js'

const ramp = fc.record({
  start: fc.integer({ min: 1, max: 200 }),
  step: fc.integer({ min: 0, max: 50 }),
  minUtilization: fc.double({ min: 0.01, max: 1, noNaN: true }),
})

describe('warm-up ramp', () => {
  it('never jumps: a day raises the next day’s limit by at most one step, and only a well-used day does', () => {
    fc.assert(
      fc.property(
        ramp,
        fc.integer({ min: 0, max: 500 }),
        // What the mailbox could send each day (0: a weekend, a pause, a quiet day), over 60 days.
        fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 60 }),
        (rampUp, dailyEmailLimit, capacity) => {
          let mailbox = { dailyEmailLimit, rampUp, rampLevel: 0 }
          for (const available of capacity) {
            const limit = dailyLimitOf(mailbox)
            expect(limit).toBeLessThanOrEqual(dailyEmailLimit)
            const sent = Math.min(available, limit)
            const level = rampLevelAfterDay(mailbox, sent)
            const next = dailyLimitOf({ ...mailbox, rampLevel: level })
            expect(next - limit).toBeLessThanOrEqual(rampUp.step)
            expect(level === mailbox.rampLevel + 1).toBe(
              limit > 0 && sent >= rampUp.minUtilization * limit - 1e-9,
            )
            if (sent === 0) expect(next).toBe(limit)
            mailbox = { ...mailbox, rampLevel: level }
          }
        },
      ),
    )
  })

  it('is Warmbly’s 10 a day plus 5 up to 50 when every day is used in full', () => {
    let mailbox = { dailyEmailLimit: 50, rampUp: { start: 10, step: 5, minUtilization: 0.8 }, rampLevel: 0 }
    const limits: number[] = []
    for (let day = 0; day < 12; day++) {
      const limit = dailyLimitOf(mailbox)
      limits.push(limit)
      mailbox = { ...mailbox, rampLevel: rampLevelAfterDay(mailbox, limit) }
    }
    expect(limits).toEqual([10, 15, 20, 25, 30, 35, 40, 45, 50, 50, 50, 50])
    // 12 of 15 is 80%: it counts; 11 does not (0.8 × 15 is 12.000000000000002 in floating point).
    expect(rampLevelAfterDay({ ...mailbox, rampLevel: 1 }, 12)).toBe(2)
    expect(rampLevelAfterDay({ ...mailbox, rampLevel: 1 }, 11)).toBe(1)
    expect(dailyLimitOf({ dailyEmailLimit: 7, rampUp: null, rampLevel: 9 })).toBe(7)
  })
})

const zones = fc.constantFrom(
  'UTC',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'America/New_York',
  'Europe/Warsaw',
  'Australia/Lord_Howe',
)
const instants = fc
  .integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) })
  .map((ms) => new Date(ms))

describe('the local clock hour of an hourly cap', () => {
  it('ends within the hour, and every instant before the end has the same key', () => {
    fc.assert(
      fc.property(zones, instants, fc.double({ min: 0, max: 1, noNaN: true }), (zone, instant, share) => {
        const end = nextLocalHour(instant, zone)
        const gap = end.getTime() - instant.getTime()
        expect(gap).toBeGreaterThan(0)
        expect(gap).toBeLessThanOrEqual(3_600_000)
        const inside = new Date(instant.getTime() + Math.floor(share * (gap - 1)))
        expect(hourKey(inside, zone)).toBe(hourKey(instant, zone))
        expect(hourKey(end, zone)).not.toBe(hourKey(instant, zone))
      }),
    )
  })

  it('reads the hour on the mailbox’s own clock (half-hour zones included)', () => {
    const at = new Date('2026-01-05T09:20:00.000Z')
    expect(hourKey(at, 'Asia/Kolkata')).toBe('2026-01-05T14')
    expect(nextLocalHour(at, 'Asia/Kolkata')).toEqual(new Date('2026-01-05T09:30:00.000Z'))
    expect(hourlyCounterKey({ id: '7', timezone: 'Asia/Kolkata' }, at)).toBe('hour|7|2026-01-05T14')
  })
})

describe('recipient-domain counter keys', () => {
  const campaign = (scope: 'campaign' | 'all', exemptFreeMail = true) => ({
    id: '42',
    recipientDomainLimit: { perDay: 2, scope, exemptFreeMail },
  })

  it('counts per campaign or across all, exempts free-mail unless told, and fits 200 characters', () => {
    expect(domainCounterKey(campaign('campaign'), 'acme.test', '2026-01-05')).toBe(
      'domain|c42|2026-01-05|acme.test',
    )
    expect(domainCounterKey(campaign('all'), 'acme.test', '2026-01-05')).toBe(
      'domain|all|2026-01-05|acme.test',
    )
    expect(domainCounterKey(campaign('campaign'), 'gmail.com', '2026-01-05')).toBeNull()
    expect(domainCounterKey(campaign('campaign', false), 'gmail.com', '2026-01-05')).not.toBeNull()
    expect(domainCounterKey({ id: '42', recipientDomainLimit: null }, 'acme.test', '2026-01-05')).toBeNull()
    fc.assert(
      fc.property(fc.domain(), fc.domain(), (a, b) => {
        const ka = domainCounterKey(campaign('all'), a.repeat(3), '2026-01-05')!
        const kb = domainCounterKey(campaign('all'), b.repeat(3), '2026-01-05')!
        expect(ka.length).toBeLessThanOrEqual(200)
        if (a !== b) expect(ka).not.toBe(kb)
      }),
    )
  })
})
