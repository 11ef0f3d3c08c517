import { expect, it } from 'vitest'
import { dayKey, isInWindow } from '../../policy/calendar.js'
import type { SentRecord } from '../transport.js'
import { campaign, countBy, DAY, type EnvFn, MINUTE, mailbox, runFor } from './harness.js'

/** The four zones of issue #13: two without DST, and the US (8 March 2026) and EU (29 March) changes. */
const ZONES = {
  tokyo: { timezone: 'Asia/Tokyo', country: 'JP' },
  kolkata: { timezone: 'Asia/Kolkata', country: 'IN' },
  warsaw: { timezone: 'Europe/Warsaw', country: 'PL' },
  newYork: { timezone: 'America/New_York', country: 'US' },
} as const
type Zone = keyof typeof ZONES

/** `count` leads of a zone, their zone in the address (`tokyo3@example.com`). */
function zoneLeads(
  zone: Zone,
  count: number,
  over: { timezone?: string | null; country?: string | null } = {},
) {
  return Array.from({ length: count }, (_, i) => ({
    email: `${zone}${i}@example.com`,
    firstName: `Name${i}`,
    ...ZONES[zone],
    ...over,
  }))
}

/** The zone a send went to, from its address. */
const zoneOf = (s: SentRecord): Zone => /^([a-zA-Z]+)\d+@/.exec(s.to)![1] as Zone
/** Local date of a send in its lead's zone. */
const leadDate = (s: SentRecord) => dayKey(s.at, ZONES[zoneOf(s)].timezone)
const utcDate = (s: SentRecord) => dayKey(s.at, 'UTC')

/**
 * Issue #13: campaigns that send in each lead's own hours (`windowTimezone: 'lead'`), skip dates
 * of campaigns and mailboxes, and the scheduler's `holidays`, checked send by send.
 */
export function leadZoneTests(env: EnvFn): void {
  it('sends in each lead’s window across the US and EU clock changes, within every cap, a share of the cap to each zone', {
    timeout: 240_000,
  }, async () => {
    // Sunday 1 March 2026 to the end of the month: the US changes on 8 March, the EU on 29 March.
    const e = await env({ start: new Date('2026-03-01T12:00:00Z') })
    // Mailbox days run on Los Angeles' clock; the first mailbox cannot take its half of the cap.
    const boxes = await Promise.all(
      [3, 6].map((limit) =>
        e.scheduler.createMailbox(mailbox({ dailyEmailLimit: limit, timezone: 'America/Los_Angeles' })),
      ),
    )
    const limits = new Map(boxes.map((b) => [b.id, b.dailyEmailLimit]))
    const created = await e.scheduler.createCampaign(
      campaign(
        boxes.map((b) => b.id),
        {
          // Two-hour windows that never overlap across the four zones: each zone's share shows.
          timezone: 'UTC',
          windowTimezone: 'lead',
          startHour: 9,
          endHour: 11,
          allowedDays: 'MON,TUE,WED,THU,FRI',
          delayBetweenEmails: 600,
          maxEmailsPerDay: 8,
          steps: [
            { subject: 'Hello {{firstName}}', text: 'Hi' },
            { delayDays: 1, text: 'Following up' },
          ],
        },
      ),
    )
    for (const zone of Object.keys(ZONES) as Zone[])
      await e.scheduler.addLeads(created.id, zoneLeads(zone, 25))
    await e.scheduler.startCampaign(created.id)

    await runFor(e, new Date('2026-04-01T00:00:00Z'))
    const sent = e.transport.sent
    expect(sent.length).toBeGreaterThan(150)

    // Every send inside the window, on an allowed day, in its lead's zone (DST included).
    for (const s of sent) {
      const spec = { ...created, timezone: ZONES[zoneOf(s)].timezone }
      if (!isInWindow(spec, s.at))
        throw new Error(`${s.to} sent at ${s.at.toISOString()}, outside its window`)
    }
    // The window moves with each zone's clock: New York opens at 14:00 UTC, then 13:00 from 9 March;
    // Warsaw at 08:00 UTC, then 07:00 from 30 March.
    const firstOf = (zone: Zone, date: string) =>
      sent.find((s) => zoneOf(s) === zone && utcDate(s) === date)?.at.toISOString()
    expect(firstOf('newYork', '2026-03-06')).toBe('2026-03-06T14:00:00.000Z')
    expect(firstOf('newYork', '2026-03-09')).toBe('2026-03-09T13:00:00.000Z')
    expect(firstOf('warsaw', '2026-03-27')).toBe('2026-03-27T08:00:00.000Z')
    expect(firstOf('warsaw', '2026-03-30')).toBe('2026-03-30T07:00:00.000Z')

    // The campaign cap per day of the campaign's zone, the mailbox limit per mailbox day.
    for (const [day, n] of countBy(sent, utcDate)) expect(n, `campaign day ${day}`).toBeLessThanOrEqual(8)
    const perMailboxDay = countBy(sent, (s) => `${s.mailboxId} ${dayKey(s.at, 'America/Los_Angeles')}`)
    for (const [key, n] of perMailboxDay)
      expect(n, `mailbox day ${key}`).toBeLessThanOrEqual(limits.get(key.split(' ')[0]!)!)
    expect([...perMailboxDay].some(([key, n]) => n === 3 && key.startsWith(`${boxes[0]!.id} `))).toBe(true)

    // Each working day, every zone gets a share: Tokyo, first to open, no more than a quarter.
    const weekdays = [...new Set(sent.map(utcDate))]
    expect(weekdays).toHaveLength(22)
    for (const day of weekdays) {
      const byZone = countBy(
        sent.filter((s) => utcDate(s) === day),
        zoneOf,
      )
      for (const zone of Object.keys(ZONES) as Zone[])
        expect(byZone.get(zone) ?? 0, `${zone} on ${day}`).toBeGreaterThanOrEqual(1)
      expect(byZone.get('tokyo'), `tokyo on ${day}`).toBeLessThanOrEqual(2)
    }
    // Follow-ups went out too, each in its lead's window (checked above), from its thread's mailbox.
    const followUps = sent.filter((s) => s.step === 1)
    for (const zone of Object.keys(ZONES) as Zone[])
      expect(followUps.filter((s) => zoneOf(s) === zone).length, zone).toBeGreaterThan(0)
    const firstMailbox = new Map(sent.filter((s) => s.step === 0).map((s) => [s.to, s.mailboxId]))
    for (const s of followUps) expect(s.mailboxId).toBe(firstMailbox.get(s.to))
  })

  it('a campaign skip date blocks each zone on its own local date, not the others at that instant', {
    timeout: 120_000,
  }, async () => {
    const e = await env({ start: new Date('2026-03-08T12:00:00Z') })
    const box = await e.scheduler.createMailbox(mailbox())
    const created = await e.scheduler.createCampaign(
      campaign([box.id], {
        timezone: 'UTC',
        windowTimezone: 'lead',
        startHour: 9,
        endHour: 17,
        allowedDays: 'MON,TUE,WED,THU,FRI',
        delayBetweenEmails: 1800,
        skipDates: ['2026-03-10'],
      }),
    )
    await e.scheduler.addLeads(created.id, [...zoneLeads('tokyo', 40), ...zoneLeads('newYork', 40)])
    await e.scheduler.startCampaign(created.id)
    await runFor(e, new Date('2026-03-12T12:00:00Z'))
    const sent = e.transport.sent

    expect(sent.filter((s) => leadDate(s) === '2026-03-10')).toEqual([])
    for (const zone of ['tokyo', 'newYork'] as const)
      for (const date of ['2026-03-09', '2026-03-11'])
        expect(
          sent.filter((s) => zoneOf(s) === zone && leadDate(s) === date).length,
          `${zone} ${date}`,
        ).toBeGreaterThan(0)
    // Tokyo's 10 March (UTC 9 March 15:00 to 10 March 15:00) is New York's 9 March: New York sends.
    const tokyoSkipped = (s: SentRecord) => dayKey(s.at, 'Asia/Tokyo') === '2026-03-10'
    expect(sent.filter((s) => tokyoSkipped(s) && zoneOf(s) === 'newYork').length).toBeGreaterThan(5)
    expect(sent.filter((s) => tokyoSkipped(s) && zoneOf(s) === 'tokyo')).toEqual([])
    for (const s of sent)
      expect(isInWindow({ ...created, timezone: ZONES[zoneOf(s)].timezone }, s.at)).toBe(true)
  })

  it('a frozen mailbox (on a skip date) holds its threads until its next day, and not the others', {
    timeout: 120_000,
  }, async () => {
    const e = await env({ start: new Date('2026-03-10T00:00:00Z') })
    const frozen = await e.scheduler.createMailbox(mailbox({ timezone: 'UTC', skipDates: ['2026-03-11'] }))
    const other = await e.scheduler.createMailbox(mailbox({ timezone: 'UTC' }))
    const created = await e.scheduler.createCampaign(
      campaign([frozen.id, other.id], {
        windowTimezone: 'lead',
        steps: [
          { subject: 'Hello', text: 'Hi' },
          { delayDays: 1, text: 'Following up' },
        ],
      }),
    )
    await e.scheduler.addLeads(created.id, zoneLeads('warsaw', 10))
    await e.scheduler.startCampaign(created.id)
    await runFor(e, new Date('2026-03-11T06:00:00Z'))
    // New leads on the frozen day leave from the other mailbox.
    await e.scheduler.addLeads(created.id, zoneLeads('kolkata', 4))
    await runFor(e, new Date('2026-03-13T00:00:00Z'))
    const sent = e.transport.sent

    const first = sent.filter((s) => s.step === 0 && zoneOf(s) === 'warsaw')
    expect(countBy(first, (s) => s.mailboxId)).toEqual(
      new Map([
        [frozen.id, 5],
        [other.id, 5],
      ]),
    )
    expect(sent.filter((s) => s.mailboxId === frozen.id && utcDate(s) === '2026-03-11')).toEqual([])
    const followUps = sent.filter((s) => s.step === 1 && zoneOf(s) === 'warsaw')
    const firstAt = new Map(first.map((s) => [s.to, s.at.getTime()]))
    // A follow-up is due a day after its first email: the frozen mailbox's wait for its next day
    // (the first minute of 12 March), the other's leave when due, not held by the frozen ones.
    const held = followUps.filter((s) => s.mailboxId === frozen.id)
    expect(held).toHaveLength(5)
    for (const s of held) {
      expect(s.at.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-03-12T00:00:00Z'))
      expect(s.at.getTime()).toBeLessThan(Date.parse('2026-03-12T00:01:00Z'))
    }
    const notHeld = followUps.filter((s) => s.mailboxId === other.id)
    expect(notHeld).toHaveLength(5)
    for (const s of notHeld) {
      const late = s.at.getTime() - (firstAt.get(s.to)! + DAY)
      expect(late, `${s.to}'s follow-up late by ${late} ms`).toBeLessThan(MINUTE)
    }
    const late = sent.filter((s) => s.step === 0 && zoneOf(s) === 'kolkata')
    expect(late).toHaveLength(4)
    for (const s of late) expect([s.mailboxId, utcDate(s)]).toEqual([other.id, '2026-03-11'])
  })

  it('holidays block the leads of their country only', { timeout: 120_000 }, async () => {
    const asked: string[] = []
    const holidays = (country: string, year: number) => {
      asked.push(`${country} ${year}`)
      return country === 'PL' ? ['2026-03-11'] : []
    }
    const e = await env({ start: new Date('2026-03-10T00:00:00Z'), holidays })
    const box = await e.scheduler.createMailbox(mailbox())
    // The campaign's own window (campaign mode): holidays alone make its leads' countries matter.
    const created = await e.scheduler.createCampaign(
      campaign([box.id], {
        timezone: 'Europe/Warsaw',
        startHour: 9,
        endHour: 17,
        allowedDays: 'MON,TUE,WED,THU,FRI',
        delayBetweenEmails: 1800,
      }),
    )
    const polish = zoneLeads('warsaw', 20, { timezone: null })
    const czech = zoneLeads('kolkata', 20, { timezone: null, country: 'CZ' })
    await e.scheduler.addLeads(
      created.id,
      polish.flatMap((lead, i) => [lead, czech[i]!]),
    )
    await e.scheduler.startCampaign(created.id)
    await runFor(e, new Date('2026-03-13T00:00:00Z'))
    const sent = e.transport.sent
    const warsawDate = (s: SentRecord) => dayKey(s.at, 'Europe/Warsaw')
    const isPolish = (s: SentRecord) => zoneOf(s) === 'warsaw'

    for (const s of sent) expect(isInWindow(created, s.at)).toBe(true)
    expect(sent.filter((s) => isPolish(s) && warsawDate(s) === '2026-03-11')).toEqual([])
    expect(sent.filter((s) => !isPolish(s) && warsawDate(s) === '2026-03-11').length).toBeGreaterThan(5)
    expect(sent.filter((s) => isPolish(s) && warsawDate(s) === '2026-03-10').length).toBeGreaterThan(0)
    expect(sent.filter((s) => isPolish(s) && warsawDate(s) === '2026-03-12').length).toBeGreaterThan(0)
    // Asked once per country and year, however many ticks.
    expect(asked.filter((a) => a === 'PL 2026')).toHaveLength(1)
  })
}
