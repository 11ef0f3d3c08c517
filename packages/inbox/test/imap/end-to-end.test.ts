/**
 * The whole loop against a real IMAP server: a campaign sends its first step, a reply, an
 * out-of-office and a bounce arrive in the sending mailbox (IMAP APPEND into Dovecot), one poll
 * reads them, and the sequence reacts: the replier's follow-ups stop, the absent lead's next step
 * waits for the morning after the return date, the bounced address is suppressed everywhere.
 */
import { type CampaignInput, createScheduler } from '@mailcadence/core'
import { createMemoryStore } from '@mailcadence/core/memory'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createImapPoller } from '../../src/imap/index.js'
import { type Dovecot, dovecotAvailable, startDovecot } from './dovecot.js'

const available = dovecotAvailable()
let dovecot: Dovecot

beforeAll(async () => {
  if (available) dovecot = await startDovecot({ anna: 'pw-anna-e2e-41c8' })
}, 30_000)
afterAll(async () => {
  await dovecot?.stop()
})

const campaign = (name: string, mailboxId: string): CampaignInput => ({
  name,
  timezone: 'Europe/Warsaw',
  startHour: 9,
  endHour: 17,
  allowedDays: 'MON,TUE,WED,THU,FRI',
  delayBetweenEmails: 0,
  mailboxIds: [mailboxId],
  steps: [
    { subject: 'Quick question', text: 'Hello' },
    { delayDays: 3, text: 'Following up' },
    { delayDays: 3, text: 'Last note' },
  ],
})

const replyFrom = (from: string, inReplyTo: string) =>
  [
    `From: ${from}`,
    'To: anna@acme.test',
    'Subject: Re: Quick question',
    'Message-ID: <reply-a@example.org>',
    `In-Reply-To: ${inReplyTo}`,
    `References: ${inReplyTo}`,
    'Date: Mon, 05 Jan 2026 11:00:00 +0000',
    '',
    'Sounds good, can we talk on Thursday?',
    '',
  ].join('\r\n')

const outOfOffice = (from: string, inReplyTo: string) =>
  [
    `From: ${from}`,
    'To: anna@acme.test',
    'Subject: Automatic reply: Quick question',
    'Message-ID: <ooo-b@example.org>',
    `In-Reply-To: ${inReplyTo}`,
    'Auto-Submitted: auto-replied',
    'Date: Mon, 05 Jan 2026 10:01:00 +0000',
    '',
    'Thank you for your email. I am out of the office until 15 January 2026 with limited access to email.',
    '',
  ].join('\r\n')

const hardBounce = (recipient: string, original: string) =>
  [
    'Return-Path: <>',
    'From: MAILER-DAEMON@mx.acme.test (Mail Delivery System)',
    'To: anna@acme.test',
    'Subject: Undelivered Mail Returned to Sender',
    'Auto-Submitted: auto-replied',
    'Message-ID: <bounce-c@mx.acme.test>',
    'Date: Mon, 05 Jan 2026 10:00:30 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"',
    '',
    '--BOUNDARY',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `<${recipient}>: host mx.example.net said: 550 5.1.1 User unknown`,
    '',
    '--BOUNDARY',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.acme.test',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    'Action: failed',
    'Status: 5.1.1',
    'Diagnostic-Code: smtp; 550 5.1.1 User unknown',
    '',
    '--BOUNDARY',
    'Content-Type: text/rfc822-headers',
    '',
    'From: anna@acme.test',
    `To: ${recipient}`,
    'Subject: Quick question',
    `Message-ID: ${original}`,
    '',
    '--BOUNDARY--',
    '',
  ].join('\r\n')

describe.skipIf(!available)('IMAP poller end to end with a real scheduler', { timeout: 60_000 }, () => {
  it('a reply stops the sequence, an out-of-office moves it, a bounce suppresses the address everywhere', async () => {
    const store = createMemoryStore()
    const clock = createFakeClock(new Date('2026-01-05T09:00:00.000Z')) // Monday 10:00 in Warsaw
    const transport = createRecordingTransport()
    const scheduler = createScheduler({
      store,
      transport,
      clock,
      lookahead: 0,
      maxSendsPerCampaignPerTick: 100,
    })
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
    const first = await scheduler.createCampaign(campaign('First', mailbox.id))
    const second = await scheduler.createCampaign(campaign('Second', mailbox.id))
    const a = 'a@example.org'
    const b = 'b@example.net'
    const c = 'c@example.net'
    const d = 'd@example.org'
    await scheduler.addLeads(first.id, [{ email: a }, { email: b }, { email: c }, { email: d }])
    await scheduler.addLeads(second.id, [{ email: c }, { email: 'e@example.org' }])
    await scheduler.startCampaign(first.id)
    await scheduler.startCampaign(second.id)
    await scheduler.tick()
    const sentTo = (to: string, campaignId = first.id) =>
      transport.sent.find((s) => s.to === to && s.campaignId === campaignId)?.messageId ?? 'none'
    expect(transport.sent).toHaveLength(6)

    await dovecot.withClient('anna', async (client) => {
      await client.append('INBOX', replyFrom(`Lead A <${a}>`, sentTo(a)))
      await client.append('INBOX', outOfOffice(`Lead B <${b}>`, sentTo(b)))
      await client.append('INBOX', hardBounce(c, sentTo(c)))
    })
    // The default ingest: ingestMessage (classify, then scheduler.applyInbound).
    const poller = createImapPoller({
      scheduler,
      connect: () => dovecot.options('anna'),
    })
    const report = await poller.pollOnce()
    expect(report.mailboxes).toEqual([{ mailboxId: mailbox.id, status: 'polled' }])
    expect(report.messages.map((m) => m.result)).toEqual([
      expect.objectContaining({ kind: 'reply', status: 'applied', email: a }),
      expect.objectContaining({
        kind: 'out-of-office',
        status: 'applied',
        email: b,
        actions: [
          expect.objectContaining({
            type: 'postponed',
            step: 1,
            scheduledAt: new Date('2026-01-16T08:00:00.000Z'),
          }),
        ],
      }),
      expect.objectContaining({ kind: 'bounce', status: 'applied', email: c }),
    ])
    const status = async (campaignId: string, email: string) =>
      (await store.getLead(campaignId, email))?.status
    expect(await status(first.id, a)).toBe('replied')
    expect(await status(first.id, b)).toBe('active')
    expect(await status(first.id, c)).toBe('bounced')
    expect(await status(second.id, c)).toBe('suppressed')

    // Thursday: step 2 is due for those still in sequence; only D (and E) get it.
    clock.set(new Date('2026-01-08T09:00:00.000Z'))
    await scheduler.tick()
    const followUps = () => transport.sent.filter((s) => s.step > 0).map((s) => s.to)
    expect(followUps().sort()).toEqual([d, 'e@example.org'])
    // B is back on the 15th: the follow-up leaves the next morning at 09:00 Warsaw.
    clock.set(new Date('2026-01-16T07:59:00.000Z'))
    await scheduler.tick()
    expect(followUps()).not.toContain(b)
    clock.set(new Date('2026-01-16T08:00:00.000Z'))
    await scheduler.tick()
    expect(followUps()).toContain(b)
    expect(followUps()).not.toContain(a)
    expect(followUps()).not.toContain(c)

    // A second poll reads nothing again.
    expect((await poller.pollOnce()).messages).toEqual([])

    // Restarted while D (whose sequence has ended) answered: the new poller reads D's reply only,
    // from the stored cursor.
    await dovecot.withClient('anna', (client) =>
      client.append('INBOX', replyFrom(`Lead D <${d}>`, sentTo(d)).replace('<reply-a@', '<reply-d@')),
    )
    const restarted = createImapPoller({ scheduler, connect: () => dovecot.options('anna') })
    const after = await restarted.pollOnce()
    expect(after.messages.map((m) => [m.uid, m.result])).toEqual([
      [4, expect.objectContaining({ kind: 'reply', status: 'applied', email: d })],
    ])

    // A folder renumbered (its UIDVALIDITY changed) is read again: every message is a duplicate.
    await scheduler.saveInboxCursor(mailbox.id, 'INBOX', { uidValidity: '1', lastUid: 99 })
    const sentBefore = transport.sent.length
    const reread = await restarted.pollOnce()
    expect(reread.messages.map((m) => (m.result as { status: string }).status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ])
    expect(await scheduler.getInboxCursor(mailbox.id, 'INBOX')).toMatchObject({ lastUid: 4 })
    clock.set(new Date('2026-01-20T08:00:00.000Z'))
    await scheduler.tick()
    expect(transport.sent.slice(sentBefore).map((s) => s.to)).not.toContain(a)
  })
})
