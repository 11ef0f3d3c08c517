/**
 * The tick and explain() with lead time zones, skip dates and holidays (issue #13), on the memory
 * store with the fake clock: which key may leave when, why a campaign skips, until when, and what
 * explain() says about it. The cross-store version is the conformance suite's `lead-zones.ts`.
 */
import {
  type CampaignInput,
  createScheduler,
  dayKey,
  isInWindow,
  type SchedulerEvent,
  type Store,
  type TickResult,
} from '@mailcadence/core'
import { createFakeClock, createRecordingTransport, type SentRecord } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

const ZONES = {
  tokyo: { timezone: 'Asia/Tokyo', country: 'JP' },
  kolkata: { timezone: 'Asia/Kolkata', country: 'IN' },
  warsaw: { timezone: 'Europe/Warsaw', country: 'PL' },
  newYork: { timezone: 'America/New_York', country: 'US' },
} as const
type Zone = keyof typeof ZONES

const HOUR = 3_600_000

const leadsIn = (zone: Zone, count: number) =>
  Array.from({ length: count }, (_, i) => ({ email: `${zone}${i}@example.com`, ...ZONES[zone] }))
const zoneOf = (s: SentRecord) => /^([a-zA-Z]+)\d+@/.exec(s.to)![1] as Zone

/** Office hours on weekdays, read in each lead's zone. */
const officeHours = (mailboxIds: string[], extra: Partial<CampaignInput> = {}): CampaignInput => ({
  name: 'Zones',
  timezone: 'UTC',
  windowTimezone: 'lead',
  startHour: 9,
  endHour: 17,
  allowedDays: 'MON,TUE,WED,THU,FRI',
  delayBetweenEmails: 0,
  mailboxIds,
  steps: [{ subject: 'Hi', text: 'Hello' }],
  ...extra,
})

/** Counts the calls of each store method (the store itself is the real memory store). */
function counting(store: Store) {
  const calls = new Map<string, unknown[][]>()
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const list = calls.get(String(name)) ?? []
        list.push(args)
        calls.set(String(name), list)
        return value.apply(target, args)
      }
    },
  })
  return { store: proxy, calls: (name: string) => calls.get(name) ?? [] }
}

async function setUp(start: string, options: Partial<Parameters<typeof createScheduler>[0]> = {}) {
  const counted = counting(createMemoryStore())
  const clock = createFakeClock(new Date(start))
  const transport = createRecordingTransport()
  const events: SchedulerEvent[] = []
  const scheduler = createScheduler({
    store: counted.store,
    transport,
    clock,
    lookahead: 0,
    maxSendsPerCampaignPerTick: 50,
    onEvent: (e) => events.push(e),
    ...options,
  })
  const box = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 1000 })
  /** Ticks until `until`, moving the clock to each tick's `nextDueAt` (an hour when idle). */
  const runUntil = async (until: string) => {
    const end = Date.parse(until)
    while (clock.now().getTime() < end) {
      const r = await scheduler.tick()
      const now = clock.now().getTime()
      const next = r.nextDueAt ? Math.max(r.nextDueAt.getTime(), now + 1) : now + HOUR
      clock.set(new Date(Math.min(next, end)))
    }
  }
  return { ...counted, clock, transport, events, scheduler, box, runUntil }
}

const skipsOf = (r: TickResult) => r.skipped

describe('lead time zones in the tick', () => {
  it('sends every email inside its lead’s window across both 2026 DST changes, within the cap, a share to each zone each day', async () => {
    const e = await setUp('2026-03-06T00:00:00Z')
    const c = await e.scheduler.createCampaign(officeHours([e.box.id], { maxEmailsPerDay: 8 }))
    for (const zone of Object.keys(ZONES) as Zone[]) await e.scheduler.addLeads(c.id, leadsIn(zone, 30))
    await e.scheduler.startCampaign(c.id)
    await e.runUntil('2026-04-01T00:00:00Z')
    const sent = e.transport.sent
    // 120 leads at 8 a day over the 18 weekdays of the campaign's days: every email went out.
    expect(sent.length).toBeGreaterThan(100)
    const perDay = new Map<string, Map<Zone, number>>()
    for (const s of sent) {
      expect(isInWindow({ ...c, timezone: ZONES[zoneOf(s)].timezone }, s.at), s.at.toISOString()).toBe(true)
      const day = dayKey(s.at, 'UTC')
      const zones = perDay.get(day) ?? new Map<Zone, number>()
      zones.set(zoneOf(s), (zones.get(zoneOf(s)) ?? 0) + 1)
      perDay.set(day, zones)
    }
    for (const [day, zones] of perDay) {
      const total = [...zones.values()].reduce((a, b) => a + b, 0)
      expect(total, day).toBeLessThanOrEqual(8)
    }
    // Tue–Thu of each week every zone opens on the campaign's (UTC) day while all have leads
    // left: the cap is shared, the zones opening first do not use it up.
    for (const day of ['2026-03-10', '2026-03-11', '2026-03-17', '2026-03-24', '2026-03-31']) {
      const zones = perDay.get(day)
      if (day === '2026-03-31' && zones === undefined) continue
      for (const zone of Object.keys(ZONES) as Zone[])
        expect(zones?.get(zone), `${day} ${zone}`).toBeGreaterThan(0)
    }
  })

  it('skips with lead-window until the first zone opens, and defers a campaign closed past the horizon', async () => {
    // Saturday noon UTC: Tokyo's Monday 09:00 is Monday 00:00 UTC.
    const e = await setUp('2026-03-07T12:00:00Z')
    const c = await e.scheduler.createCampaign(officeHours([e.box.id]))
    await e.scheduler.addLeads(c.id, leadsIn('tokyo', 2))
    await e.scheduler.startCampaign(c.id)
    const r = await e.scheduler.tick()
    expect(skipsOf(r)).toEqual({ 'lead-window': 1 })
    expect(r.nextDueAt?.toISOString()).toBe('2026-03-09T00:00:00.000Z')
    expect(e.calls('deferCampaigns').at(-1)?.[0]).toEqual([
      expect.objectContaining({ campaignId: c.id, until: new Date('2026-03-09T00:00:00.000Z') }),
    ])
    const why = await e.scheduler.explain(c.id)
    expect(why.reasons.map((x) => x.code)).toEqual(['lead-window'])
    expect(why.reasons[0]!.message).toContain('Asia/Tokyo')
    expect(why.reasons[0]!.until?.toISOString()).toBe('2026-03-09T00:00:00.000Z')
    // A lead in a zone open now lifts the deferral and leaves at once (Tokyo is closed by then).
    e.clock.set(new Date('2026-03-09T14:00:00Z'))
    await e.scheduler.addLeads(c.id, leadsIn('newYork', 1))
    const later = await e.scheduler.tick()
    expect(e.transport.sent.map((s) => s.to)).toEqual(['newYork0@example.com'])
    expect(skipsOf(later)).toEqual({ 'lead-window': 1 })
  })

  it('costs a campaign whose leads’ zones do not matter no extra store call', async () => {
    const e = await setUp('2026-03-09T10:00:00Z')
    const c = await e.scheduler.createCampaign(officeHours([e.box.id], { windowTimezone: 'campaign' }))
    await e.scheduler.addLeads(c.id, leadsIn('tokyo', 3))
    await e.scheduler.startCampaign(c.id)
    const r = await e.scheduler.tick()
    expect(r.sent).toBe(3)
    expect(e.calls('listWindowKeys')).toHaveLength(0)
    const reserved = e.calls('reserveSends').flatMap((args) => args[0] as Array<{ windowKeys?: unknown }>)
    for (const req of reserved) expect(req.windowKeys).toBeUndefined()
  })

  it('a campaign skip date in lead mode holds only the zone whose local date it is', async () => {
    // 2026-03-10 00:30 UTC: 09:30 on the 10th in Tokyo (its skip date), 06:00 in Kolkata.
    const e = await setUp('2026-03-10T00:30:00Z')
    const c = await e.scheduler.createCampaign(officeHours([e.box.id], { skipDates: ['2026-03-10'] }))
    await e.scheduler.addLeads(c.id, leadsIn('tokyo', 2))
    await e.scheduler.startCampaign(c.id)
    const r = await e.scheduler.tick()
    expect(skipsOf(r)).toEqual({ 'skip-date': 1 })
    // Tokyo's next weekday at 09:00.
    expect(r.nextDueAt?.toISOString()).toBe('2026-03-11T00:00:00.000Z')
    const why = await e.scheduler.explain(c.id)
    expect(why.reasons.map((x) => x.code)).toEqual(['skip-date'])
    expect(why.reasons[0]!.message).toContain('2026-03-10')
    expect(why.reasons[0]!.message).toContain("campaign's skipDates")

    // New York is on the 9th (20:30): its hours, not the skip date, hold it now; on its own
    // 10th it is held, while Tokyo, on the 11th, sends.
    await e.scheduler.addLeads(c.id, leadsIn('newYork', 2))
    await e.runUntil('2026-03-12T00:00:00Z')
    const sent = e.transport.sent
    expect(sent.map((s) => [zoneOf(s), dayKey(s.at, ZONES[zoneOf(s)].timezone)])).toEqual(
      expect.arrayContaining([
        ['tokyo', '2026-03-11'],
        ['newYork', '2026-03-11'],
      ]),
    )
    for (const s of sent) expect(dayKey(s.at, ZONES[zoneOf(s)].timezone)).not.toBe('2026-03-10')
  })

  it('holidays hold only the leads of their country, and explain() names the country', async () => {
    const holidays = (country: string) => (country === 'PL' ? ['2026-03-10'] : [])
    // Tuesday 10:00 in Warsaw and Berlin.
    const e = await setUp('2026-03-10T09:00:00Z', { holidays })
    const c = await e.scheduler.createCampaign(officeHours([e.box.id]))
    await e.scheduler.addLeads(c.id, [
      ...leadsIn('warsaw', 2),
      { email: 'berlin0@example.com', timezone: 'Europe/Berlin', country: 'DE' },
    ])
    await e.scheduler.startCampaign(c.id)
    const r = await e.scheduler.tick()
    expect(e.transport.sent.map((s) => s.to)).toEqual(['berlin0@example.com'])
    expect(r.nextDueAt?.toISOString()).toBe('2026-03-11T08:00:00.000Z')
    const why = await e.scheduler.explain(c.id)
    expect(why.reasons.map((x) => x.code)).toEqual(['skip-date'])
    expect(why.reasons[0]!.message).toContain('a holiday of PL')
    // Holidays apply in campaign mode too: the campaign's own window, the lead's country.
    const inCampaignZone = await e.scheduler.createCampaign(
      officeHours([e.box.id], { windowTimezone: 'campaign', timezone: 'Europe/Warsaw' }),
    )
    await e.scheduler.addLeads(inCampaignZone.id, leadsIn('warsaw', 1))
    await e.scheduler.startCampaign(inCampaignZone.id)
    await e.scheduler.tick()
    expect(e.events).toContainEqual(
      expect.objectContaining({ type: 'skipped', campaignId: inCampaignZone.id, reason: 'skip-date' }),
    )
    expect(e.transport.sent).toHaveLength(1)
  })
})

describe('adding leads with zones', () => {
  it('returns leads with an unknown time zone or country as invalid, with the reason, and adds the others', async () => {
    const e = await setUp('2026-03-09T10:00:00Z')
    const c = await e.scheduler.createCampaign(officeHours([e.box.id]))
    const result = await e.scheduler.addLeads(c.id, [
      { email: 'mars@example.com', timezone: 'Mars/Olympus_Mons' },
      { email: 'nowhere@example.com', country: 'XX' },
      ...leadsIn('warsaw', 1),
    ])
    expect(result.added).toBe(1)
    expect(result.invalid).toEqual([
      { email: 'mars@example.com', reason: expect.stringContaining('timezone') },
      { email: 'nowhere@example.com', reason: expect.stringContaining('country') },
    ])
  })
})

describe('skip dates of a campaign in its own zone', () => {
  it('skips with skip-date until the next window day and defers the campaign', async () => {
    const e = await setUp('2026-03-10T10:00:00Z')
    const c = await e.scheduler.createCampaign(
      officeHours([e.box.id], { windowTimezone: 'campaign', skipDates: ['2026-03-10'] }),
    )
    await e.scheduler.addLeads(c.id, leadsIn('tokyo', 1))
    await e.scheduler.startCampaign(c.id)
    const r = await e.scheduler.tick()
    expect(skipsOf(r)).toEqual({ 'skip-date': 1 })
    expect(r.nextDueAt?.toISOString()).toBe('2026-03-11T09:00:00.000Z')
    expect(e.calls('deferCampaigns').at(-1)?.[0]).toEqual([
      expect.objectContaining({ until: new Date('2026-03-11T09:00:00.000Z') }),
    ])
    const why = await e.scheduler.explain(c.id)
    expect(why.reasons.map((x) => x.code)).toEqual(['skip-date'])
    // After the window (18:00) it is the hours that hold it, as before (the tick, deferred, does
    // not look at it).
    e.clock.set(new Date('2026-03-10T18:00:00Z'))
    expect(skipsOf(await e.scheduler.tick())).toEqual({})
    expect((await e.scheduler.explain(c.id)).reasons.map((x) => x.code)).toEqual(['outside-window'])
  })
})

describe('mailbox skip dates', () => {
  it('a mailbox on its skip date holds its follow-ups while first emails leave from the other', async () => {
    const e = await setUp('2026-03-10T09:00:00Z')
    const frozen = await e.scheduler.createMailbox({
      email: 'frozen@acme.test',
      dailyEmailLimit: 100,
      skipDates: ['2026-03-11'],
    })
    const c = await e.scheduler.createCampaign({
      ...officeHours([frozen.id, e.box.id], { windowTimezone: 'campaign' }),
      steps: [
        { subject: 'Hi', text: 'Hello' },
        { delayDays: 1, text: 'Again' },
      ],
    })
    await e.scheduler.addLeads(c.id, leadsIn('warsaw', 4))
    await e.scheduler.startCampaign(c.id)
    await e.scheduler.tick()
    const firstFrom = new Map(e.transport.sent.map((s) => [s.to, s.mailboxId]))
    expect([...firstFrom.values()].filter((id) => id === frozen.id)).toHaveLength(2)

    // On the 11th the frozen mailbox's threads wait; new leads leave from the other mailbox.
    e.clock.set(new Date('2026-03-11T09:30:00Z'))
    await e.scheduler.addLeads(c.id, leadsIn('kolkata', 2))
    const r = await e.scheduler.tick()
    const today = e.transport.sent.filter((s) => dayKey(s.at, 'UTC') === '2026-03-11')
    expect(today.every((s) => s.mailboxId === e.box.id)).toBe(true)
    expect(today.filter((s) => s.step === 0)).toHaveLength(2)
    expect(today.filter((s) => s.step === 1)).toHaveLength(2)
    expect(skipsOf(r)).toEqual({ 'mailbox-limit': 1 })
    const why = await e.scheduler.explain(c.id)
    expect(why.reasons.map((x) => x.code)).toEqual(['skip-date'])
    expect(why.reasons[0]!.message).toContain('frozen@acme.test')
    expect(why.reasons[0]!.message).toContain('2026-03-11')
    expect(why.reasons[0]!.until?.toISOString()).toBe('2026-03-12T00:00:00.000Z')

    // The next day they leave, from the mailbox of their thread.
    e.clock.set(new Date('2026-03-12T09:00:00Z'))
    await e.scheduler.tick()
    const held = e.transport.sent.filter((s) => dayKey(s.at, 'UTC') === '2026-03-12')
    expect(held).toHaveLength(2)
    for (const s of held) expect(s.mailboxId).toBe(firstFrom.get(s.to))
  })

  it('with every mailbox on a skip date the campaign skips with skip-date until the first is back', async () => {
    const e = await setUp('2026-03-11T09:00:00Z')
    await e.scheduler.updateMailbox(e.box.id, { skipDates: ['2026-03-11'] })
    const c = await e.scheduler.createCampaign(officeHours([e.box.id], { windowTimezone: 'campaign' }))
    await e.scheduler.addLeads(c.id, leadsIn('warsaw', 1))
    await e.scheduler.startCampaign(c.id)
    const r = await e.scheduler.tick()
    expect(skipsOf(r)).toEqual({ 'skip-date': 1 })
    expect(r.nextDueAt?.toISOString()).toBe('2026-03-12T00:00:00.000Z')
    expect(e.events).toContainEqual(expect.objectContaining({ type: 'skipped', reason: 'skip-date' }))
    const why = await e.scheduler.explain(c.id)
    expect(why.reasons.map((x) => x.code)).toEqual(['skip-date'])
    expect(why.reasons[0]!.message).toContain('anna@acme.test')
  })
})
