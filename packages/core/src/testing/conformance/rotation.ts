import { expect, it } from 'vitest'
import { campaign, countBy, DAY, drain, type EnvFn, leads, mailbox } from './harness.js'

/** Invariant 8: round-robin over mailboxes, sticky follow-ups in the same thread, no blocking. */
export function rotationTests(env: EnvFn): void {
  it('spreads first emails round-robin over the campaign mailboxes', async () => {
    const e = await env()
    const boxes = await Promise.all([0, 1, 2].map(() => e.scheduler.createMailbox(mailbox())))
    const created = await e.scheduler.createCampaign(campaign(boxes.map((b) => b.id)))
    await e.scheduler.addLeads(created.id, leads(31))
    await e.scheduler.startCampaign(created.id)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(31)
    // Strict rotation with one worker: each send takes the mailbox after the previous one.
    const order = e.transport.sent.map((s) => boxes.findIndex((b) => b.id === s.mailboxId))
    for (let i = 1; i < order.length; i++) expect(order[i]).toBe((order[i - 1]! + 1) % 3)
    const counts = [...countBy(e.transport.sent, (s) => s.mailboxId).values()]
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
  })

  it('sends follow-ups from the first mailbox, in the same thread, delayDays later', async () => {
    const e = await env()
    const boxes = await Promise.all([0, 1, 2].map(() => e.scheduler.createMailbox(mailbox())))
    const created = await e.scheduler.createCampaign(
      campaign(
        boxes.map((b) => b.id),
        {
          steps: [
            { subject: 'Quick question, {{firstName}}', text: 'First' },
            { delayDays: 2, text: 'Second' },
            { delayDays: 3, subject: 'New angle', text: 'Third' },
          ],
        },
      ),
    )
    await e.scheduler.addLeads(created.id, leads(6))
    await e.scheduler.startCampaign(created.id)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(6)
    e.clock.advance(2 * DAY - 1000)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(6)
    e.clock.advance(1000)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(12)
    e.clock.advance(3 * DAY)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(18)

    const byLead = new Map<string, typeof e.transport.sent>()
    for (const s of e.transport.sent) byLead.set(s.leadId, [...(byLead.get(s.leadId) ?? []), s])
    for (const [, [first, second, third]] of byLead) {
      expect(second!.mailboxId).toBe(first!.mailboxId)
      expect(third!.mailboxId).toBe(first!.mailboxId)
      expect(first!.inReplyTo).toBeUndefined()
      expect(second!.inReplyTo).toBe(first!.messageId)
      expect(second!.references).toEqual([first!.messageId])
      expect(second!.subject).toBe(`Re: ${first!.subject}`)
      expect(third!.inReplyTo).toBe(second!.messageId)
      expect(third!.references).toEqual([first!.messageId, second!.messageId])
      expect(third!.subject).toBe('New angle')
      expect(second!.at.getTime() - first!.at.getTime()).toBeGreaterThanOrEqual(2 * DAY)
      // The Message-ID is on the sending mailbox's domain.
      const box = boxes.find((b) => b.id === first!.mailboxId)!
      expect(first!.messageId.endsWith(`@${box.email.split('@')[1]}>`)).toBe(true)
    }
    const sentLog = await e.store.listSendLog(created.id)
    expect(sentLog.map((l) => l.messageId).sort()).toEqual(e.transport.sent.map((s) => s.messageId).sort())
    expect(new Set(sentLog.map((l) => l.messageId)).size).toBe(18)
  })

  it('lets other items go when a follow-up waits for its full mailbox', async () => {
    const e = await env()
    const a = await e.scheduler.createMailbox(mailbox({ dailyEmailLimit: 2 }))
    const b = await e.scheduler.createMailbox(mailbox({ dailyEmailLimit: 100 }))
    const main = await e.scheduler.createCampaign(
      campaign([a.id, b.id], {
        steps: [
          { subject: 'Hi', text: 'one' },
          { delayDays: 1, text: 'two' },
        ],
      }),
    )
    await e.scheduler.addLeads(main.id, leads(4, 'early'))
    await e.scheduler.startCampaign(main.id)
    await drain(e.scheduler)
    expect(countBy(e.transport.sent, (s) => s.mailboxId).get(a.id)).toBe(2)

    // Next day, another campaign fills mailbox a before main's follow-ups go.
    e.clock.advance(DAY)
    const other = await e.scheduler.createCampaign(campaign([a.id]))
    await e.scheduler.addLeads(other.id, leads(2, 'other'))
    await e.scheduler.startCampaign(other.id)
    await e.scheduler.pauseCampaign(main.id)
    await drain(e.scheduler)
    await e.scheduler.resumeCampaign(main.id)
    await e.scheduler.addLeads(main.id, leads(6, 'late'))
    await drain(e.scheduler)
    // The two follow-ups stuck on a (full) did not stop b's follow-ups nor the six new leads.
    const today = e.transport.sent.filter(
      (s) => s.campaignId === main.id && s.at.getTime() >= e.clock.now().getTime() - 1000,
    )
    expect(today.filter((s) => s.step === 1).every((s) => s.mailboxId === b.id)).toBe(true)
    expect(today.filter((s) => s.step === 1)).toHaveLength(2)
    expect(today.filter((s) => s.to.startsWith('late'))).toHaveLength(6)
    expect(today.filter((s) => s.to.startsWith('late')).every((s) => s.mailboxId === b.id)).toBe(true)
    const explained = await e.scheduler.explain(main.id)
    expect(explained.mailboxes.find((m) => m.id === a.id)).toMatchObject({
      currentDailySent: 2,
      dailyEmailLimit: 2,
    })

    // The day after, a has room: its two follow-ups go, from a, in their threads; so do the late ones.
    e.clock.advance(DAY)
    await drain(e.scheduler)
    const followUps = e.transport.sent.filter((s) => s.campaignId === main.id && s.step === 1)
    expect(followUps).toHaveLength(10)
    expect(followUps.filter((s) => s.mailboxId === a.id)).toHaveLength(2)
    expect((await e.scheduler.queueStats(main.id)).pending).toBe(0)
  })
}
