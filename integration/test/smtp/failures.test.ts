/**
 * The failure matrix of README, each case against a real SMTP peer on loopback answering at the
 * stage where that answer comes in real life, driven through the scheduler.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type SchedulerEvent } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'
import { createSmtpTransport } from '@mailcadence/transport-smtp'
import { afterEach, describe, expect, it } from 'vitest'
import { closedPort, type SinkOptions, smtpError, startMisbehavingServer, startSink } from './servers.js'

const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

async function run(
  port: number,
  options: { credentials?: { user: string; pass: string }; leads?: number } = {},
) {
  const clock = createFakeClock()
  const store = createMemoryStore()
  const events: SchedulerEvent[] = []
  const scheduler = createScheduler({
    store,
    clock,
    lookahead: 0,
    maxSendsPerCampaignPerTick: 3,
    onEvent: (event) => events.push(event),
    transport: createSmtpTransport({
      sendTimeout: 1500,
      resolve: () => ({
        host: '127.0.0.1',
        port,
        secure: false,
        ignoreTLS: true,
        ...(options.credentials ? { auth: options.credentials } : {}),
      }),
    }),
  })
  closers.push(() => scheduler.close())
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
  const campaign = await scheduler.createCampaign({
    name: 'Matrix',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    mailboxIds: [mailbox.id],
    steps: [{ subject: 'Hello', text: 'Hi' }],
  })
  const count = options.leads ?? 1
  await scheduler.addLeads(
    campaign.id,
    Array.from({ length: count }, (_, i) => ({ email: `lead${i}@example.com` })),
  )
  await scheduler.startCampaign(campaign.id)
  const result = await scheduler.tick()
  const items = await store.listQueueItems(campaign.id)
  const lead = await store.getLead(campaign.id, 'lead0@example.com')
  const explained = await scheduler.explain(campaign.id)
  return { result, items, lead, explained, events, store, scheduler, clock, campaign }
}

async function sinkRun(sink: SinkOptions, options: Parameters<typeof run>[1] = {}) {
  const server = await startSink(sink)
  closers.push(() => server.close())
  return { ...(await run(server.port, options)), server }
}

describe('SMTP failure classification, stage by stage', () => {
  it('4xx at MAIL FROM: retried with backoff, attempt spent, slot given back', async () => {
    const r = await sinkRun({ onMailFrom: () => smtpError(451, '4.3.0 Temporary local problem, try later') })
    expect(r.result).toMatchObject({ sent: 0, retried: 1 })
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 1 })
    expect(r.items[0]!.lastError).toContain('451 4.3.0')
    expect(r.items[0]!.scheduledAt.getTime()).toBeGreaterThan(r.clock.now().getTime())
    expect(r.explained.mailboxes[0]!.currentDailySent).toBe(0)
  })

  it('5.1.1 at RCPT TO: hard bounce, lead bounced and suppressed', async () => {
    const r = await sinkRun({ onRcptTo: () => smtpError(550, '5.1.1 <lead0@example.com>: user unknown') })
    expect(r.result).toMatchObject({ failed: 1 })
    expect(r.items[0]).toMatchObject({ status: 'failed' })
    expect(r.lead?.status).toBe('bounced')
    const again = await r.scheduler.addLeads(r.campaign.id, [{ email: 'LEAD0@example.com' }])
    expect(again.added).toBe(0)
    expect(r.events.some((e) => e.type === 'failed' && e.bounced)).toBe(true)
  })

  it('5.2.2 mailbox full at RCPT TO: soft, retried', async () => {
    const r = await sinkRun({ onRcptTo: () => smtpError(552, '5.2.2 Mailbox full') })
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 1 })
    expect(r.lead?.status).toBe('active')
  })

  it('4xx at RCPT TO (greylisting): retried', async () => {
    const r = await sinkRun({ onRcptTo: () => smtpError(450, '4.2.0 Greylisted, come back later') })
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 1 })
  })

  it('5.7.26 at MAIL FROM (Gmail authentication policy): mailbox paused with the answer, lead kept', async () => {
    const r = await sinkRun({
      onMailFrom: () => smtpError(550, '5.7.26 Unauthenticated email is not accepted'),
    })
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 0 })
    expect(r.lead?.status).toBe('active')
    const reason = r.explained.reasons.find((x) => x.code === 'mailbox-paused')
    expect(reason?.message).toContain('550 5.7.26')
    expect(r.explained.mailboxes[0]!.pausedUntil!.getTime()).toBeGreaterThan(r.clock.now().getTime())
  })

  it('421 4.7.x after DATA (throttling): mailbox slowed down, lead kept, nothing burnt', async () => {
    const r = await sinkRun(
      { afterData: () => smtpError(421, '4.7.28 Our system has detected an unusual rate of mail') },
      { leads: 3 },
    )
    expect(r.items.every((i) => i.status === 'pending' && i.attempts === 0)).toBe(true)
    expect(r.explained.reasons.map((x) => x.code)).toContain('mailbox-paused')
    expect(r.events.filter((e) => e.type === 'mailbox-paused').length).toBeGreaterThanOrEqual(1)
  })

  it('5xx content rejection after DATA: failed, lead kept out of the rest of the sequence', async () => {
    const r = await sinkRun({ afterData: () => smtpError(554, '5.6.0 Message content rejected') })
    expect(r.items[0]).toMatchObject({ status: 'failed', attempts: 1 })
    expect(r.lead?.status).toBe('failed')
  })

  it('535 at AUTH: mailbox paused, item back to pending without an attempt, no other item burnt', async () => {
    const r = await sinkRun(
      { credentials: { user: 'anna', pass: 'right' } },
      { credentials: { user: 'anna', pass: 'wrong' }, leads: 3 },
    )
    expect(r.result.sent).toBe(0)
    expect(r.items.every((i) => i.status === 'pending' && i.attempts === 0)).toBe(true)
    expect(r.explained.reasons.find((x) => x.code === 'mailbox-paused')?.message).toContain('535')
    expect(r.server.received).toHaveLength(0)
  })

  it('421 at connect (server busy): mailbox paused briefly, item kept', async () => {
    const r = await sinkRun({ onConnect: () => smtpError(421, '4.7.0 Too many connections, try later') })
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 0 })
    expect(r.explained.reasons.map((x) => x.code)).toContain('mailbox-paused')
  })

  it('connection refused: mailbox paused, item back to pending without an attempt', async () => {
    const r = await run(await closedPort())
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 0 })
    expect(r.explained.reasons.find((x) => x.code === 'mailbox-paused')?.message).toMatch(
      /ECONNREFUSED|refused/i,
    )
  })

  it('4xx to the DATA command: retried', async () => {
    const server = await startMisbehavingServer({
      dataReply: '451 4.3.0 Mail server temporarily rejected message',
    })
    closers.push(() => server.close())
    const r = await run(server.port)
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 1 })
    expect(r.items[0]!.lastError).toContain('451 4.3.0')
  })

  it('5.7.x to the DATA command (policy): mailbox paused, lead kept', async () => {
    const server = await startMisbehavingServer({ dataReply: '554 5.7.1 Message rejected by policy' })
    closers.push(() => server.close())
    const r = await run(server.port)
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 0 })
    expect(r.lead?.status).toBe('active')
    expect(r.explained.reasons.find((x) => x.code === 'mailbox-paused')?.message).toContain('554 5.7.1')
  })

  it('connection dropped mid-DATA: retried, nothing lost', async () => {
    const server = await startMisbehavingServer('drop')
    closers.push(() => server.close())
    const r = await run(server.port)
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 1 })
    expect(r.lead?.status).toBe('active')
  })

  it('a server that stalls past the send timeout: abandoned and retried, nothing left sending', async () => {
    const server = await startMisbehavingServer('stall')
    closers.push(() => server.close())
    const r = await run(server.port)
    expect(r.items[0]).toMatchObject({ status: 'pending', attempts: 1 })
    expect((await r.scheduler.queueStats(r.campaign.id)).sending).toBe(0)
  })
})
