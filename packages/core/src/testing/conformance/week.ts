import { expect, it } from 'vitest'
import { dayKey, isInWindow, windowDayKey } from '../../policy/calendar.js'
import { countBy, type EnvFn, HOUR, leads, mailbox, runFor, SECOND } from './harness.js'

/**
 * A working week of the in-house sender's own campaign, checked send by send: 90 s ± 20%
 * between sends, 09:00–17:00 MON–FRI in Warsaw, three mailboxes of 50 a day, 500 a day at most,
 * a host sleeping until each tick's `nextDueAt`.
 */
export function weekTests(env: EnvFn): void {
  it('runs a seed-like working week within every limit', { timeout: 180_000 }, async () => {
    // Sunday 4 January 2026, 20:00 UTC; the host sleeps until each tick's nextDueAt.
    const e = await env({ start: new Date('2026-01-04T20:00:00Z'), lookahead: 30 * SECOND, seed: 2025 })
    const boxes = await Promise.all(
      [0, 1, 2].map((i) =>
        e.scheduler.createMailbox(
          mailbox({ dailyEmailLimit: 50, timezone: 'Europe/Warsaw', name: `Rep ${i}` }),
        ),
      ),
    )
    const seed = await e.scheduler.createCampaign({
      name: 'Seed week',
      timezone: 'Europe/Warsaw',
      startHour: 9,
      startMinute: 0,
      endHour: 17,
      endMinute: 0,
      allowedDays: 'MON,TUE,WED,THU,FRI',
      delayBetweenEmails: 90,
      maxEmailsPerDay: 500,
      mailboxIds: boxes.map((b) => b.id),
      steps: [
        { subject: 'Hello {{firstName}}', text: 'Hi {{firstName}}, …' },
        { delayDays: 2, text: 'Following up, {{firstName|there}}.' },
      ],
    })
    await e.scheduler.addLeads(seed.id, leads(300))
    await e.scheduler.startCampaign(seed.id)

    await runFor(e, new Date('2026-01-11T20:00:00Z'))
    const sent = e.transport.sent

    // Every email of the sequence went out exactly once: 300 first emails and 300 follow-ups.
    expect(sent).toHaveLength(600)
    expect(new Set(sent.map((s) => `${s.leadId}|${s.step}`)).size).toBe(600)
    // Inside the window, on weekdays only.
    for (const s of sent) expect(isInWindow(seed, s.at)).toBe(true)
    // Pacing: at least 72 s between any two sends of the campaign.
    for (let i = 1; i < sent.length; i++) {
      expect(sent[i]!.at.getTime() - sent[i - 1]!.at.getTime()).toBeGreaterThanOrEqual(72 * SECOND)
    }
    // Limits: 50 per mailbox per Warsaw day, 150 per campaign day.
    const perMailboxDay = countBy(sent, (s) => `${s.mailboxId}|${dayKey(s.at, 'Europe/Warsaw')}`)
    expect(Math.max(...perMailboxDay.values())).toBeLessThanOrEqual(50)
    const perDay = countBy(sent, (s) => windowDayKey(seed, s.at)!)
    expect(Object.fromEntries(perDay)).toEqual({
      '2026-01-05': 150,
      '2026-01-06': 150,
      '2026-01-07': 150,
      '2026-01-08': 150,
    })
    // Rotation: per day, the three mailboxes differ by at most one send.
    for (const day of perDay.keys()) {
      const counts = boxes.map((b) => perMailboxDay.get(`${b.id}|${day}`) ?? 0)
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
    }
    // Follow-ups: from the first email's mailbox, in its thread, at least two days later.
    const first = new Map(sent.filter((s) => s.step === 0).map((s) => [s.leadId, s]))
    for (const s of sent.filter((x) => x.step === 1)) {
      const origin = first.get(s.leadId)!
      expect(s.mailboxId).toBe(origin.mailboxId)
      expect(s.inReplyTo).toBe(origin.messageId)
      expect(s.at.getTime() - origin.at.getTime()).toBeGreaterThanOrEqual(48 * HOUR)
    }
    expect((await e.scheduler.getCampaign(seed.id)).status).toBe('COMPLETED')
  })
}
