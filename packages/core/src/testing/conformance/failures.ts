import { expect, it } from 'vitest'
import type { SchedulerEvent } from '../../scheduler/events.js'
import { createRecordingTransport } from '../transport.js'
import { campaign, drain, type EnvFn, HOUR, leads, MINUTE, mailbox } from './harness.js'

/** The failure edges of the state machine, and invariant 6: nothing lost, nothing stuck. */
export function failureTests(env: EnvFn): void {
  it('retries a temporary failure with backoff, gives the day slot back, then sends', async () => {
    const e = await env({ retry: { baseDelayMs: 10 * MINUTE, maxDelayMs: HOUR, maxAttempts: 5 } })
    const box = await e.scheduler.createMailbox(mailbox({ dailyEmailLimit: 1 }))
    const created = await e.scheduler.createCampaign(campaign([box.id]))
    await e.scheduler.addLeads(created.id, leads(1))
    await e.scheduler.startCampaign(created.id)
    e.transport.failNext(2, { responseCode: 451, response: '451 4.3.0 Temporary local problem' })

    const first = await e.scheduler.tick()
    expect(first).toMatchObject({ sent: 0, retried: 1 })
    const [item] = await e.store.listQueueItems(created.id)
    expect(item).toMatchObject({ status: 'pending', attempts: 1 })
    expect(item!.lastError).toContain('451 4.3.0')
    // Equal jitter: between half the base delay and the base delay.
    const wait = item!.scheduledAt.getTime() - e.clock.now().getTime()
    expect(wait).toBeGreaterThanOrEqual(5 * MINUTE)
    expect(wait).toBeLessThanOrEqual(10 * MINUTE)
    // No mail left, so the mailbox's only slot today was given back.
    expect((await e.scheduler.explain(created.id)).mailboxes[0]!.currentDailySent).toBe(0)
    expect(first.nextDueAt?.getTime()).toBe(item!.scheduledAt.getTime())

    e.clock.set(item!.scheduledAt)
    expect(await e.scheduler.tick()).toMatchObject({ retried: 1 })
    const [again] = await e.store.listQueueItems(created.id)
    expect(again!.attempts).toBe(2)
    expect(again!.scheduledAt.getTime() - e.clock.now().getTime()).toBeGreaterThanOrEqual(10 * MINUTE)
    e.clock.set(again!.scheduledAt)
    expect(await e.scheduler.tick()).toMatchObject({ sent: 1 })
    expect(e.transport.sent).toHaveLength(1)
    expect(e.transport.attempts).toBe(3)
  })

  it('fails permanently after maxAttempts, and on a permanent answer at once', async () => {
    const e = await env({ retry: { baseDelayMs: 1000, maxDelayMs: 1000, maxAttempts: 3 } })
    const box = await e.scheduler.createMailbox(mailbox())
    const created = await e.scheduler.createCampaign(
      campaign([box.id], { steps: [{ subject: 'S', text: 'x' }, { text: 'y' }] }),
    )
    await e.scheduler.addLeads(created.id, [
      { email: 'flaky@example.com' },
      { email: 'rejected@example.com' },
    ])
    await e.scheduler.startCampaign(created.id)
    e.transport.failFor('flaky@example.com', {
      code: 'ECONNECTION',
      message: 'Connection closed unexpectedly',
    })
    e.transport.failFor('rejected@example.com', {
      responseCode: 554,
      response: '554 5.6.0 Message content rejected',
    })
    for (let i = 0; i < 10; i++) {
      await drain(e.scheduler)
      e.clock.advance(2000)
    }
    const items = await e.store.listQueueItems(created.id)
    expect(items.map((i) => [i.status, i.attempts]).sort()).toEqual([
      ['failed', 1],
      ['failed', 3],
    ])
    expect(e.transport.attempts).toBe(4)
    const stats = await e.scheduler.queueStats(created.id)
    expect(stats).toMatchObject({ failed: 2, pending: 0, sending: 0, sent: 0 })
    // Nothing left to do: the campaign completed by itself.
    expect((await e.scheduler.getCampaign(created.id)).status).toBe('COMPLETED')
    // The lead's sequence stopped: no follow-up was enqueued for a failed first email.
    expect(items).toHaveLength(2)
  })

  it('marks a hard bounce, suppresses the address everywhere, and keeps the rest going', async () => {
    const events: SchedulerEvent[] = []
    const e = await env({ onEvent: (event) => events.push(event) })
    const box = await e.scheduler.createMailbox(mailbox())
    const one = await e.scheduler.createCampaign(campaign([box.id]))
    const two = await e.scheduler.createCampaign(campaign([box.id]))
    await e.scheduler.addLeads(one.id, [{ email: 'Gone@Example.com' }, { email: 'ok@example.com' }])
    await e.scheduler.addLeads(two.id, [{ email: 'gone@example.com' }])
    await e.scheduler.startCampaign(one.id)
    e.transport.failFor('gone@example.com', {
      responseCode: 550,
      response: '550 5.1.1 <gone@example.com>: user unknown',
    })
    await drain(e.scheduler)
    expect(e.transport.sent.map((s) => s.to)).toEqual(['ok@example.com'])
    const bounced = await e.store.getLead(one.id, 'gone@example.com')
    expect(bounced?.status).toBe('bounced')
    expect(events.some((ev) => ev.type === 'failed' && ev.bounced)).toBe(true)
    // Suppressed: the other campaign's pending email to it is cancelled, and it cannot be added again.
    expect((await e.scheduler.queueStats(two.id)).cancelled).toBe(1)
    const three = await e.scheduler.createCampaign(campaign([box.id]))
    const again = await e.scheduler.addLeads(three.id, [
      { email: 'GONE@example.com' },
      { email: 'new@example.com' },
    ])
    expect(again).toMatchObject({ added: 1, invalid: [{ email: 'GONE@example.com', reason: 'suppressed' }] })
  })

  it('pauses a mailbox that the server refuses to serve, without spending the attempt', async () => {
    const e = await env()
    const bad = await e.scheduler.createMailbox(mailbox())
    const good = await e.scheduler.createMailbox(mailbox())
    const created = await e.scheduler.createCampaign(campaign([bad.id, good.id]))
    await e.scheduler.addLeads(created.id, leads(4))
    await e.scheduler.startCampaign(created.id)
    e.transport.failNext(1, {
      code: 'EAUTH',
      responseCode: 535,
      response: '535 5.7.8 Authentication credentials invalid',
    })
    await drain(e.scheduler)
    // The first lead went back to pending untouched and left later from the good mailbox.
    expect(e.transport.sent).toHaveLength(4)
    expect(e.transport.sent.every((s) => s.mailboxId === good.id)).toBe(true)
    const items = await e.store.listQueueItems(created.id)
    expect(items.every((i) => i.status === 'sent' && i.attempts === 0)).toBe(true)
    const explained = await e.scheduler.explain(created.id)
    const state = explained.mailboxes.find((m) => m.id === bad.id)!
    expect(state.pausedUntil!.getTime()).toBeGreaterThan(e.clock.now().getTime())
    expect(state.pauseReason).toContain('535')
  })

  for (const policy of ['fail', 'retry'] as const) {
    it(`recovers an expired lease (leaseRecovery: '${policy}') and refuses the stalled worker's late completion`, async () => {
      const e = await env({ lease: 5 * MINUTE, leaseRecovery: policy })
      const box = await e.scheduler.createMailbox(mailbox())
      const created = await e.scheduler.createCampaign(campaign([box.id]))
      await e.scheduler.addLeads(created.id, leads(1))
      await e.scheduler.startCampaign(created.id)

      // A worker reserves the send and stalls inside the transport (the SMTP server hangs).
      const release = e.transport.hold()
      const stalled = e.scheduler.tick()
      await e.transport.whenHeld(1)
      const [reserved] = await e.store.listQueueItems(created.id)
      expect(reserved!.status).toBe('sending')

      // Before the lease ends, another worker (with its own connection to the server) leaves it alone.
      const rescueTransport = createRecordingTransport()
      const rescuer = e.another({ transport: rescueTransport })
      e.clock.advance(5 * MINUTE - 1)
      expect((await rescuer.tick()).recovered).toBe(0)
      e.clock.advance(1)
      const rescue = await rescuer.tick()
      expect(rescue.recovered).toBe(1)
      const [afterRecovery] = await e.store.listQueueItems(created.id)
      if (policy === 'fail') {
        expect(afterRecovery).toMatchObject({ status: 'failed', lastError: 'interrupted' })
        expect(rescue.sent).toBe(0)
      } else {
        // At-least-once by the host's choice: back to pending, and the rescuer sent it again.
        expect(afterRecovery!.status).toBe('sent')
        expect(rescueTransport.sent).toHaveLength(1)
      }

      // The stalled worker wakes up: its send "succeeds", but its completion is refused.
      release()
      await stalled
      const [final] = await e.store.listQueueItems(created.id)
      if (policy === 'fail') {
        expect(final).toMatchObject({ status: 'failed', lastError: 'interrupted' })
        expect(await e.store.listSendLog(created.id)).toHaveLength(0)
      } else {
        // The late completion did not overwrite the rescuer's record.
        expect(final).toMatchObject({ status: 'sent', messageId: afterRecovery!.messageId })
        expect(await e.store.listSendLog(created.id)).toHaveLength(1)
      }
      expect((await e.scheduler.queueStats(created.id)).sending).toBe(0)
    })
  }
}
