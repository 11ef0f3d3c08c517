import { expect, it } from 'vitest'
import { dayKey, windowDayKey } from '../../policy/calendar.js'
import { campaign, countBy, drain, type EnvFn, leads, mailbox } from './harness.js'

/** Invariants 1–3: no duplicate, mailbox limit, campaign limit, under concurrent ticks. */
export function invariantTests(env: EnvFn): void {
  it('never sends a (campaign, lead, step) twice under 50 concurrent ticks', async () => {
    const e = await env({ maxSendsPerCampaignPerTick: 5 })
    const boxes = await Promise.all([0, 1, 2].map(() => e.scheduler.createMailbox(mailbox())))
    const ids = boxes.map((b) => b.id)
    const campaigns = []
    for (let c = 0; c < 4; c++) {
      const created = await e.scheduler.createCampaign(
        campaign(ids, {
          steps: [
            { subject: 'One', text: 'a' },
            { text: 'two', delayDays: 0 },
          ],
        }),
      )
      await e.scheduler.addLeads(created.id, leads(15, `c${c}-`))
      await e.scheduler.startCampaign(created.id)
      campaigns.push(created)
    }
    // Waves of 50 overlapping ticks, each also racing a second scheduler on the same store.
    const other = e.another({ maxSendsPerCampaignPerTick: 5 })
    for (let wave = 0; wave < 20; wave++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? other : e.scheduler).tick()))
      e.clock.advance(1000)
    }
    const keys = countBy(e.transport.sent, (s) => `${s.campaignId}|${s.leadId}|${s.step}`)
    expect([...keys.values()].every((n) => n === 1)).toBe(true)
    expect(e.transport.sent).toHaveLength(4 * 15 * 2)
    for (const c of campaigns) {
      const log = await e.store.listSendLog(c.id)
      expect(log).toHaveLength(30)
      expect((await e.scheduler.queueStats(c.id)).sent).toBe(30)
    }
  })

  it('holds a mailbox limit per local day, shared by several campaigns', async () => {
    const e = await env({ maxSendsPerCampaignPerTick: 10, start: new Date('2026-01-05T12:00:00Z') })
    // The mailbox's day is New York's: it resets at 05:00 UTC, not at UTC midnight.
    const shared = await e.scheduler.createMailbox(
      mailbox({ dailyEmailLimit: 7, timezone: 'America/New_York', skipDates: [] }),
    )
    const ids: string[] = []
    for (let c = 0; c < 3; c++) {
      const created = await e.scheduler.createCampaign(campaign([shared.id]))
      await e.scheduler.addLeads(created.id, leads(10, `shared${c}-`))
      await e.scheduler.startCampaign(created.id)
      ids.push(created.id)
    }
    await Promise.all(Array.from({ length: 50 }, () => e.scheduler.tick()))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(7)
    const explained = await e.scheduler.explain(ids[0]!)
    expect(explained.reasons.map((r) => r.code)).toContain('mailbox-limit')
    expect(explained.mailboxes[0]).toMatchObject({ currentDailySent: 7, dailyEmailLimit: 7 })

    // 23:30 UTC is still the same New York day: nothing more.
    e.clock.set(new Date('2026-01-05T23:30:00Z'))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(7)
    // 05:00 UTC the next day is New York midnight: seven more.
    e.clock.set(new Date('2026-01-06T05:00:00Z'))
    await Promise.all(Array.from({ length: 20 }, () => e.scheduler.tick()))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(14)
    const perDay = countBy(e.transport.sent, (s) => dayKey(s.at, 'America/New_York'))
    expect(Object.fromEntries(perDay)).toEqual({ '2026-01-05': 7, '2026-01-06': 7 })
  })

  it('holds maxEmailsPerDay per local day of the campaign, with overlapping ticks', async () => {
    const e = await env({ maxSendsPerCampaignPerTick: 10, start: new Date('2026-01-05T10:00:00Z') })
    const a = await e.scheduler.createMailbox(mailbox())
    const b = await e.scheduler.createMailbox(mailbox())
    // Kathmandu is UTC+05:45: its day starts at 18:15 UTC.
    const created = await e.scheduler.createCampaign(
      campaign([a.id, b.id], { maxEmailsPerDay: 4, timezone: 'Asia/Kathmandu' }),
    )
    await e.scheduler.addLeads(created.id, leads(12))
    await e.scheduler.startCampaign(created.id)
    await Promise.all(Array.from({ length: 50 }, () => e.scheduler.tick()))
    expect(e.transport.sent).toHaveLength(4)
    const explained = await e.scheduler.explain(created.id)
    const limit = explained.reasons.find((r) => r.code === 'campaign-limit')
    expect(limit?.until?.toISOString()).toBe('2026-01-05T18:15:00.000Z')
    e.clock.set(new Date('2026-01-05T18:14:59Z'))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(4)
    e.clock.set(new Date('2026-01-05T18:15:00Z'))
    await Promise.all(Array.from({ length: 50 }, () => e.scheduler.tick()))
    expect(e.transport.sent).toHaveLength(8)
    const perDay = countBy(e.transport.sent, (s) => windowDayKey(created, s.at) ?? 'outside')
    expect(Object.fromEntries(perDay)).toEqual({ '2026-01-05': 4, '2026-01-06': 4 })
  })

  it('counts a window that crosses midnight toward the day it opened', async () => {
    // Friday 22:00 – Saturday 02:00 UTC, allowed on Fridays only, 3 a day.
    const e = await env({ maxSendsPerCampaignPerTick: 10, start: new Date('2026-01-09T21:00:00Z') })
    const box = await e.scheduler.createMailbox(mailbox())
    const created = await e.scheduler.createCampaign(
      campaign([box.id], { startHour: 22, endHour: 2, allowedDays: 'FRI', maxEmailsPerDay: 3 }),
    )
    await e.scheduler.addLeads(created.id, leads(10))
    await e.scheduler.startCampaign(created.id)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(0)
    e.clock.set(new Date('2026-01-09T23:50:00Z'))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(3)
    // Past midnight, still Friday's window: its cap still holds.
    e.clock.set(new Date('2026-01-10T00:30:00Z'))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(3)
    // Saturday 23:00 is not in any window (SAT not allowed).
    e.clock.set(new Date('2026-01-10T23:00:00Z'))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(3)
    // Next Friday's window: three more, and none on other days.
    e.clock.set(new Date('2026-01-16T22:00:00Z'))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(6)
    expect(e.transport.sent.every((s) => windowDayKey(created, s.at) !== null)).toBe(true)
  })
}
