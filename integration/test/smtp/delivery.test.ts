/**
 * A campaign run through the scheduler with the SMTP transport, checked on what a real SMTP
 * server received: headers, threads, encodings, one-click unsubscribe, header injection.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type Logger, type SchedulerEvent } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'
import { createSmtpTransport } from '@mailcadence/transport-smtp'
import { afterEach, describe, expect, it } from 'vitest'
import { type Sink, startSink } from './servers.js'

const DAY = 86_400_000
const PASSWORD = 'hunter2-very-secret'
const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

/** A header as it travelled (unfolded), read from the raw message rather than mailparser's model. */
function header(received: Sink['received'][number], name: string): string | undefined {
  const head = received.raw.slice(0, received.raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ')
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
  return line?.slice(name.length + 1).trim()
}

describe('delivery over SMTP', () => {
  it('delivers a three-step sequence in one thread with the right headers', async () => {
    const sink = await startSink({ credentials: { user: 'anna', pass: PASSWORD } })
    closers.push(() => sink.close())
    const clock = createFakeClock()
    const store = createMemoryStore()
    const logs: string[] = []
    const events: SchedulerEvent[] = []
    const record = (obj: object, msg?: string) => logs.push(`${msg} ${JSON.stringify(obj)}`)
    const logger: Logger = { debug: record, info: record, warn: record, error: record }
    const scheduler = createScheduler({
      store,
      clock,
      lookahead: 0,
      logger,
      onEvent: (event) => events.push(event),
      unsubscribeUrl: (lead, campaign) => `https://acme.test/u?c=${campaign.id}&l=${lead.id}`,
      transport: createSmtpTransport({
        resolve: () => ({
          host: '127.0.0.1',
          port: sink.port,
          secure: false,
          ignoreTLS: true,
          auth: { user: 'anna', pass: PASSWORD },
        }),
      }),
    })
    closers.push(() => scheduler.close())
    const mailbox = await scheduler.createMailbox({
      email: 'anna@acme.test',
      name: 'Zażółć Gęślą',
      dailyEmailLimit: 100,
    })
    const campaign = await scheduler.createCampaign({
      name: 'Threads',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      mailboxIds: [mailbox.id],
      variables: ['note'],
      steps: [
        {
          subject: 'Zażółć gęślą jaźń, {{firstName|there}} {{note|}}',
          text: 'Cześć {{firstName|there}}!',
          html: '<p>Hi {{firstName|there}}</p>',
        },
        { delayDays: 1, text: 'Second' },
        { delayDays: 1, subject: 'Ostatnia wiadomość', text: 'Third' },
      ],
    })
    const added = await scheduler.addLeads(campaign.id, [
      { email: 'jan@example.com', firstName: 'Łukasz', lastName: 'Żółw' },
      { email: 'eve@example.com', firstName: 'Eve\r\nBcc: victim@example.com' },
      {
        email: 'html@example.com',
        firstName: '<b>Bold</b> & co',
        variables: { note: 'x\r\nBcc: victim@example.com' },
      },
    ])
    // The injected first name is refused at the door; a custom variable is folded when rendered.
    expect(added.added).toBe(2)
    expect(added.invalid).toEqual([{ email: 'eve@example.com', reason: expect.stringContaining('CR, LF') }])
    await scheduler.startCampaign(campaign.id)
    for (let day = 0; day < 3; day++) {
      for (let i = 0; i < 5; i++) await scheduler.tick()
      clock.advance(DAY)
    }

    expect(sink.received).toHaveLength(6)
    for (const r of sink.received) {
      expect(r.envelope.to).toHaveLength(1)
      expect(r.raw).not.toMatch(/^Bcc:/im)
      expect(r.mail.from?.value[0]).toMatchObject({ name: 'Zażółć Gęślą', address: 'anna@acme.test' })
      expect(header(r, 'List-Unsubscribe')).toMatch(/^<https:\/\/acme\.test\/u\?c=/)
      expect(header(r, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click')
      expect(r.mail.messageId).toMatch(/@acme\.test>$/)
      // Non-ASCII travels RFC 2047-encoded, never raw 8-bit, in headers.
      const rawHeaders = r.raw.slice(0, r.raw.indexOf('\r\n\r\n'))
      expect([...rawHeaders].every((ch) => ch.charCodeAt(0) < 0x80)).toBe(true)
      expect(rawHeaders.split('\r\n').every((line) => line.length < 998)).toBe(true)
    }
    const jan = sink.received.filter((r) => r.envelope.to[0] === 'jan@example.com')
    expect(jan.map((r) => r.mail.subject)).toEqual([
      'Zażółć gęślą jaźń, Łukasz',
      'Re: Zażółć gęślą jaźń, Łukasz',
      'Ostatnia wiadomość',
    ])
    expect(jan[0]!.mail.to).toMatchObject({ value: [{ name: 'Łukasz Żółw', address: 'jan@example.com' }] })
    expect(jan[1]!.mail.inReplyTo).toBe(jan[0]!.mail.messageId)
    expect(jan[2]!.mail.inReplyTo).toBe(jan[1]!.mail.messageId)
    expect(jan[2]!.mail.references).toEqual([jan[0]!.mail.messageId, jan[1]!.mail.messageId])
    expect(jan[0]!.mail.text?.trim()).toBe('Cześć Łukasz!')
    // The Message-ID stored at reservation is the one the server saw.
    const log = await store.listSendLog(campaign.id)
    expect(new Set(log.map((l) => l.messageId))).toEqual(new Set(sink.received.map((r) => r.mail.messageId)))

    const html = sink.received.find((r) => r.envelope.to[0] === 'html@example.com')!
    expect(html.mail.subject).toBe('Zażółć gęślą jaźń, <b>Bold</b> & co x Bcc: victim@example.com')
    expect(html.mail.html).toContain('Hi &lt;b&gt;Bold&lt;/b&gt; &amp; co')

    // Pooled: six messages over far fewer connections than messages.
    expect(sink.connections).toBeLessThan(6)
    // Credentials never reach logs or events.
    expect(logs.length).toBeGreaterThan(0)
    expect(logs.join('\n')).not.toContain(PASSWORD)
    expect(JSON.stringify(events)).not.toContain(PASSWORD)
  })

  it('verifies a mailbox: the server answer, never the password', async () => {
    const sink = await startSink({ credentials: { user: 'anna', pass: PASSWORD } })
    closers.push(() => sink.close())
    let pass = PASSWORD
    const scheduler = createScheduler({
      store: createMemoryStore(),
      transport: createSmtpTransport({
        resolve: () => ({
          host: '127.0.0.1',
          port: sink.port,
          secure: false,
          ignoreTLS: true,
          auth: { user: 'anna', pass },
        }),
      }),
    })
    closers.push(() => scheduler.close())
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10 })
    expect(await scheduler.verifyMailbox(mailbox.id)).toMatchObject({ ok: true })
    // Changed options rebuild the transporter: the new (wrong) password is used at once.
    pass = `${PASSWORD}-wrong`
    const failed = await scheduler.verifyMailbox(mailbox.id)
    expect(failed).toMatchObject({ ok: false, action: 'pause-mailbox' })
    expect(failed.ok ? '' : failed.error).toContain('535')
    expect(JSON.stringify(failed)).not.toContain(PASSWORD)
  })

  it('sends one connection per message when pooling is off', async () => {
    const sink = await startSink()
    closers.push(() => sink.close())
    const transport = createSmtpTransport({
      pool: false,
      resolve: () => ({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true }),
    })
    closers.push(() => transport.close!())
    const scheduler = createScheduler({
      store: createMemoryStore(),
      transport,
      lookahead: 0,
      maxSendsPerCampaignPerTick: 10,
    })
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10 })
    const campaign = await scheduler.createCampaign({
      name: 'No pool',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      mailboxIds: [mailbox.id],
      steps: [{ subject: 'Hi', text: 'x' }],
    })
    await scheduler.addLeads(
      campaign.id,
      [1, 2, 3].map((i) => ({ email: `l${i}@example.com` })),
    )
    await scheduler.startCampaign(campaign.id)
    expect(await scheduler.tick()).toMatchObject({ sent: 3 })
    expect(sink.connections).toBe(3)
  })
})
