/**
 * Issue #14: the limits that protect mailboxes, through the real scheduler on the store under test.
 * A warm-up ramp that never jumps (weekends, a quiet day, a 10-day pause), hourly caps and ramped
 * limits that concurrent schedulers never pass, recipient-domain limits with free-mail exempt and
 * follow-ups not counted, and explain() naming each limit with its `until`.
 */
import { expect, it } from 'vitest'
import { dayKey, hourKey } from '../../policy/calendar.js'
import { supportsCounters } from '../../store-kit/index.js'
import type { SentRecord } from '../transport.js'
import {
  campaign,
  countBy,
  DAY,
  drain,
  type Env,
  type EnvFn,
  HOUR,
  leads,
  MINUTE,
  mailbox,
  runFor,
} from './harness.js'

/** Monday 5 January 2026, 00:00 UTC. */
const MONDAY_MIDNIGHT = new Date('2026-01-05T00:00:00.000Z')

function needsCounters(e: Env): void {
  if (!supportsCounters(e.store)) throw new Error('the store lacks the CounterStore methods (see store.ts)')
}

/** Sends per UTC day, in day order. */
function perDay(sent: readonly SentRecord[]): Map<string, number> {
  return countBy(sent, (s) => dayKey(s.at, 'UTC'))
}

export function mailboxLimitTests(env: EnvFn): void {
  it('ramps a warm-up by days that used it: weekends, a quiet day and a 10-day pause never make it jump', async () => {
    const e = await env({ start: MONDAY_MIDNIGHT })
    needsCounters(e)
    const box = await e.scheduler.createMailbox(
      mailbox({ dailyEmailLimit: 50, rampUp: { start: 10, step: 5 } }),
    )
    const c = await e.scheduler.createCampaign(
      campaign([box.id], {
        allowedDays: 'MON,TUE,WED,THU,FRI',
        startHour: 9,
        endHour: 17,
        delayBetweenEmails: 60,
      }),
    )
    await e.scheduler.addLeads(c.id, leads(400))
    await e.scheduler.startCampaign(c.id)
    const day = (n: number) => new Date(MONDAY_MIDNIGHT.getTime() + n * DAY)
    // Mon, Tue, Wed full days (10, 15, 20); Thursday quiet (paused after 5: under 80% of 25).
    await runFor(e, day(3))
    await runFor(e, new Date(day(3).getTime() + 9 * HOUR + 5 * MINUTE))
    await e.scheduler.pauseCampaign(c.id)
    await runFor(e, day(4))
    await e.scheduler.resumeCampaign(c.id)
    // Friday 25 (the quiet day did not count), the weekend sends nothing, Monday 30.
    await runFor(e, day(8))
    // Ten days paused, then back: 35, never more.
    await e.scheduler.pauseMailbox(box.id)
    await runFor(e, day(18))
    await e.scheduler.resumeMailbox(box.id)
    await runFor(e, new Date(day(19).getTime() - HOUR))
    const counts = perDay(e.transport.sent)
    expect([...counts.entries()]).toEqual([
      ['2026-01-05', 10],
      ['2026-01-06', 15],
      ['2026-01-07', 20],
      ['2026-01-08', counts.get('2026-01-08')],
      ['2026-01-09', 25],
      ['2026-01-12', 30],
      ['2026-01-23', 35],
    ])
    expect(counts.get('2026-01-08')).toBeLessThan(20)
    const explained = await e.scheduler.explain(c.id)
    expect(explained.mailboxes[0]).toMatchObject({
      rampedLimit: 35,
      dailyEmailLimit: 50,
      currentDailySent: 35,
    })
    expect(explained.reasons.map((r) => r.code)).toContain('ramp-limit')
  })

  it('applies a lowered ramp or daily limit at the next reservation', async () => {
    const e = await env({ start: new Date('2026-01-05T09:00:00.000Z') })
    needsCounters(e)
    const box = await e.scheduler.createMailbox(
      mailbox({ dailyEmailLimit: 100, rampUp: { start: 20, step: 5 } }),
    )
    const c = await e.scheduler.createCampaign(campaign([box.id]))
    await e.scheduler.addLeads(c.id, leads(60))
    await e.scheduler.startCampaign(c.id)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(20)
    await e.scheduler.updateMailbox(box.id, { rampUp: { start: 25, step: 5 } })
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(25)
    await e.scheduler.updateMailbox(box.id, { dailyEmailLimit: 10 })
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(25)
  })

  it('never lets 8 concurrent schedulers pass an hourly or a ramped limit', async () => {
    const e = await env({ start: new Date('2026-01-05T08:00:00.000Z') })
    needsCounters(e)
    const hourly = await e.scheduler.createMailbox(mailbox({ dailyEmailLimit: 100, hourlyLimit: 7 }))
    const ramped = await e.scheduler.createMailbox(
      mailbox({
        dailyEmailLimit: 100,
        hourlyLimit: 50,
        rampUp: { start: 12, step: 4 },
        timezone: 'Asia/Kolkata',
      }),
    )
    const c = await e.scheduler.createCampaign(campaign([hourly.id, ramped.id]))
    await e.scheduler.addLeads(c.id, leads(300))
    await e.scheduler.startCampaign(c.id)
    const schedulers = [e.scheduler, ...Array.from({ length: 7 }, () => e.another())]
    for (let minute = 0; minute < 6 * 60; minute += 10) {
      await Promise.all(schedulers.map((s) => s.tick()))
      e.clock.advance(10 * MINUTE)
    }
    const byHour = countBy(
      e.transport.sent.filter((s) => s.mailboxId === hourly.id),
      (s) => hourKey(s.at, 'UTC'),
    )
    expect(byHour.size).toBeGreaterThanOrEqual(5)
    for (const count of byHour.values()) expect(count).toBeLessThanOrEqual(7)
    expect([...byHour.values()].some((n) => n === 7)).toBe(true)
    const rampedSent = e.transport.sent.filter((s) => s.mailboxId === ramped.id)
    expect(rampedSent.length).toBe(12)
    expect(new Set(e.transport.sent.map((s) => s.to)).size).toBe(e.transport.sent.length)
  })

  it('holds a mailbox at its hourly cap until the hour ends, and explain() says so', async () => {
    const e = await env({ start: new Date('2026-01-05T09:20:00.000Z') })
    needsCounters(e)
    const box = await e.scheduler.createMailbox(mailbox({ hourlyLimit: 3, timezone: 'Asia/Kolkata' }))
    const c = await e.scheduler.createCampaign(
      campaign([box.id], {
        steps: [
          { subject: 'Hi', text: 'Hello' },
          { delayDays: 0.01, text: 'Again' },
        ],
      }),
    )
    await e.scheduler.addLeads(c.id, leads(10))
    await e.scheduler.startCampaign(c.id)
    // One send per tick (the default), until the fourth is reserved and given back.
    expect(await drain(e.scheduler)).toBe(3)
    const result = await e.scheduler.tick()
    expect(result).toMatchObject({ sent: 0, skipped: { 'hourly-limit': 1 } })
    expect(result.nextDueAt).toEqual(new Date('2026-01-05T09:30:00.000Z'))
    const explained = await e.scheduler.explain(c.id)
    // Kolkata is UTC+5:30: its clock hour ends at 09:30 UTC.
    expect(explained.reasons).toContainEqual(
      expect.objectContaining({ code: 'hourly-limit', until: new Date('2026-01-05T09:30:00.000Z') }),
    )
    expect(explained.mailboxes[0]).toMatchObject({ hourlyLimit: 3, currentHourlySent: 3 })
    e.clock.set(new Date('2026-01-05T09:30:00.000Z'))
    expect(await drain(e.scheduler)).toBe(3)
    expect(e.transport.sent).toHaveLength(6)
  })

  it('fills an hourly cap and a domain limit exactly when a tick reserves many sends at once', async () => {
    const e = await env({ start: new Date('2026-01-05T09:00:00.000Z'), maxSendsPerCampaignPerTick: 100 })
    needsCounters(e)
    const capped = await e.scheduler.createMailbox(mailbox({ hourlyLimit: 5 }))
    const other = await e.scheduler.createMailbox(mailbox({ hourlyLimit: 6 }))
    const c = await e.scheduler.createCampaign(
      campaign([capped.id, other.id], { recipientDomainLimit: { perDay: 4 } }),
    )
    await e.scheduler.addLeads(c.id, [
      ...leads(6, 'big').map((l) => ({ email: l.email.replace('example.com', 'big.test') })),
      ...leads(20, 'x').map((l, i) => ({ email: l.email.replace('example.com', `d${i}.test`) })),
    ])
    await e.scheduler.startCampaign(c.id)
    const result = await e.scheduler.tick()
    expect(result.sent).toBe(11)
    expect(result.skipped['hourly-limit']).toBeGreaterThan(0)
    const from = countBy(e.transport.sent, (s) => s.mailboxId)
    expect(from.get(capped.id)).toBe(5)
    expect(from.get(other.id)).toBe(6)
    expect(e.transport.sent.filter((s) => s.to.endsWith('@big.test')).length).toBeLessThanOrEqual(4)
  })

  it('sends perDay first emails per recipient domain a day; free-mail exempt, follow-ups not counted', async () => {
    const e = await env({ start: new Date('2026-01-05T09:00:00.000Z') })
    needsCounters(e)
    const boxes = [await e.scheduler.createMailbox(mailbox()), await e.scheduler.createMailbox(mailbox())]
    const c = await e.scheduler.createCampaign(
      campaign(
        boxes.map((b) => b.id),
        {
          recipientDomainLimit: { perDay: 2 },
          steps: [
            { subject: 'Hi', text: 'Hello' },
            { delayDays: 1, text: 'Following up' },
          ],
        },
      ),
    )
    const company = ['ceo', 'cto', 'cfo', 'coo', 'vp'].map((n) => ({ email: `${n}@acme-widgets.test` }))
    const free = ['ann', 'bob', 'cyd'].map((n) => ({ email: `${n}@gmail.com` }))
    await e.scheduler.addLeads(c.id, [...company, ...free, { email: 'solo@other.test' }])
    await e.scheduler.startCampaign(c.id)
    await runFor(e, new Date('2026-01-05T20:00:00.000Z'))
    const firsts = (day: string) =>
      e.transport.sent
        .filter((s) => s.step === 0 && dayKey(s.at, 'UTC') === day)
        .map((s) => s.to.split('@')[1])
    expect(countBy(firsts('2026-01-05'), (d) => d!)).toEqual(
      new Map([
        ['acme-widgets.test', 2],
        ['gmail.com', 3],
        ['other.test', 1],
      ]),
    )
    const explained = await e.scheduler.explain(c.id)
    expect(explained.reasons).toContainEqual(expect.objectContaining({ code: 'domain-limit' }))
    await runFor(e, new Date('2026-01-06T23:00:00.000Z'))
    expect(countBy(firsts('2026-01-06'), (d) => d!).get('acme-widgets.test')).toBe(2)
    // Day two's follow-ups to the first two at acme left too: they are not counted.
    const followUps = e.transport.sent.filter((s) => s.step === 1 && s.to.endsWith('@acme-widgets.test'))
    expect(followUps).toHaveLength(2)
    await runFor(e, new Date('2026-01-08T23:00:00.000Z'))
    expect(countBy(firsts('2026-01-07'), (d) => d!).get('acme-widgets.test')).toBe(1)
    expect(new Set(e.transport.sent.map((s) => `${s.to}|${s.step}`)).size).toBe(e.transport.sent.length)
  })

  it("counts a domain across campaigns with scope 'all'", async () => {
    const e = await env({ start: new Date('2026-01-05T09:00:00.000Z') })
    needsCounters(e)
    const box = await e.scheduler.createMailbox(mailbox())
    const limit = { perDay: 3, scope: 'all' as const }
    const a = await e.scheduler.createCampaign(campaign([box.id], { recipientDomainLimit: limit }))
    const b = await e.scheduler.createCampaign(campaign([box.id], { recipientDomainLimit: limit }))
    await e.scheduler.addLeads(
      a.id,
      leads(4, 'a').map((l) => ({ email: l.email.replace('example.com', 'big.test') })),
    )
    await e.scheduler.addLeads(
      b.id,
      leads(4, 'b').map((l) => ({ email: l.email.replace('example.com', 'big.test') })),
    )
    await e.scheduler.startCampaign(a.id)
    await e.scheduler.startCampaign(b.id)
    await runFor(e, new Date('2026-01-05T20:00:00.000Z'))
    expect(e.transport.sent).toHaveLength(3)
  })
}
