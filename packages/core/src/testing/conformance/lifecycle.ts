import { expect, it } from 'vitest'
import { isMailcadenceError } from '../../errors.js'
import type { SchedulerEvent } from '../../scheduler/events.js'
import { campaign, DAY, drain, type EnvFn, leads, mailbox } from './harness.js'

/** Invariant 7 (stops hold), auto-completion, and lead intake. */
export function lifecycleTests(env: EnvFn): void {
  it('pauses, resumes and stops: no send starts after the call returns, nothing is re-sent', async () => {
    const e = await env({ maxSendsPerCampaignPerTick: 2 })
    const box = await e.scheduler.createMailbox(mailbox())
    const created = await e.scheduler.createCampaign(campaign([box.id]))
    // Enough leads that the racing ticks below (2 sends each at most) cannot drain the campaign
    // before the pause lands, however the machine schedules them.
    await e.scheduler.addLeads(created.id, leads(20))
    expect((await e.scheduler.tick()).sent).toBe(0) // DRAFT sends nothing
    await e.scheduler.startCampaign(created.id)
    await e.scheduler.tick()
    expect(e.transport.sent).toHaveLength(2)

    // Ticks racing the pause: whatever they reserved before it may finish, none after it.
    const racing = Promise.all(Array.from({ length: 6 }, () => e.scheduler.tick()))
    await e.scheduler.pauseCampaign(created.id)
    await racing
    const atPause = e.transport.sent.length
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(atPause)
    expect((await e.scheduler.explain(created.id)).reasons[0]).toMatchObject({ code: 'not-running' })

    await e.scheduler.resumeCampaign(created.id)
    await e.scheduler.tick()
    expect(e.transport.sent).toHaveLength(atPause + 2)
    await e.scheduler.stopCampaign(created.id)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(atPause + 2)
    const stats = await e.scheduler.queueStats(created.id)
    expect(stats).toMatchObject({ pending: 0, sending: 0, sent: atPause + 2, cancelled: 20 - atPause - 2 })
    expect(new Set(e.transport.sent.map((s) => s.to)).size).toBe(e.transport.sent.length)

    // A stopped campaign cannot be resumed.
    const error = await e.scheduler.resumeCampaign(created.id).catch((err: unknown) => err)
    expect(isMailcadenceError(error, 'invalid-state')).toBe(true)
  })

  it('stops a lead that replied, and a suppressed address in every campaign', async () => {
    const e = await env()
    const box = await e.scheduler.createMailbox(mailbox())
    const steps = [
      { subject: 'One', text: 'a' },
      { delayDays: 1, text: 'b' },
      { delayDays: 1, text: 'c' },
    ]
    const one = await e.scheduler.createCampaign(campaign([box.id], { steps }))
    const two = await e.scheduler.createCampaign(campaign([box.id], { steps }))
    await e.scheduler.addLeads(one.id, leads(3))
    await e.scheduler.addLeads(two.id, leads(3))
    await e.scheduler.startCampaign(one.id)
    await e.scheduler.startCampaign(two.id)
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(6)

    const replied = await e.scheduler.markReplied(one.id, 'LEAD0@example.com')
    expect(replied.lead?.status).toBe('replied')
    expect(replied.cancelled).toBe(1)
    const suppressed = await e.scheduler.suppress('lead1@example.com', 'unsubscribed')
    expect(suppressed.cancelled).toBe(2)

    e.clock.advance(DAY)
    await drain(e.scheduler)
    e.clock.advance(DAY)
    await drain(e.scheduler)
    const to = (campaignId: string, email: string) =>
      e.transport.sent.filter((s) => s.campaignId === campaignId && s.to === email).length
    expect(to(one.id, 'lead0@example.com')).toBe(1) // replied after step 0
    expect(to(two.id, 'lead0@example.com')).toBe(3) // a reply in one campaign does not stop another
    expect(to(one.id, 'lead1@example.com')).toBe(1) // suppressed everywhere
    expect(to(two.id, 'lead1@example.com')).toBe(1)
    expect(to(one.id, 'lead2@example.com')).toBe(3)
    expect((await e.store.getLead(one.id, 'lead2@example.com'))?.status).toBe('completed')
    expect((await e.store.getLead(two.id, 'lead1@example.com'))?.status).toBe('suppressed')
  })

  it('completes a campaign by itself once nothing is pending or sending', async () => {
    const events: SchedulerEvent[] = []
    const e = await env({ onEvent: (event) => events.push(event) })
    const box = await e.scheduler.createMailbox(mailbox())
    const created = await e.scheduler.createCampaign(
      campaign([box.id], {
        steps: [
          { subject: 'S', text: 'a' },
          { delayDays: 2, text: 'b' },
        ],
      }),
    )
    await e.scheduler.addLeads(created.id, leads(2))
    await e.scheduler.startCampaign(created.id)
    await drain(e.scheduler)
    // Follow-ups are pending for later: not complete.
    expect((await e.scheduler.getCampaign(created.id)).status).toBe('IN_PROGRESS')
    const waiting = await e.scheduler.tick()
    expect(waiting.nextDueAt?.getTime()).toBe(e.clock.now().getTime() + 2 * DAY)
    e.clock.advance(2 * DAY)
    await drain(e.scheduler)
    expect((await e.scheduler.getCampaign(created.id)).status).toBe('COMPLETED')
    expect(events.filter((ev) => ev.type === 'campaign-completed')).toHaveLength(1)
    expect((await e.scheduler.tick()).nextDueAt).toBeNull()
    // New leads, then start again: it sends to them only.
    await e.scheduler.addLeads(created.id, [...leads(2), { email: 'fresh@example.com' }])
    await e.scheduler.startCampaign(created.id)
    await drain(e.scheduler)
    expect(e.transport.sent.filter((s) => s.to === 'fresh@example.com')).toHaveLength(1)
    expect(e.transport.sent).toHaveLength(5)
  })

  it('adds each address once per campaign, even from concurrent calls', async () => {
    const e = await env()
    const box = await e.scheduler.createMailbox(mailbox())
    const created = await e.scheduler.createCampaign(campaign([box.id]))
    const batch = [...leads(20), { email: 'LEAD3@EXAMPLE.COM' }, { email: 'not-an-address' }]
    const results = await Promise.all(
      Array.from({ length: 5 }, () => e.scheduler.addLeads(created.id, batch)),
    )
    expect(results.reduce((n, r) => n + r.added, 0)).toBe(20)
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(5 * 21 - 20)
    for (const r of results)
      expect(r.invalid).toEqual([{ email: 'not-an-address', reason: expect.stringContaining('email') }])
    expect((await e.scheduler.queueStats(created.id)).pending).toBe(20)
  })
}
