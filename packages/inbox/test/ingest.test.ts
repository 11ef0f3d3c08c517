/**
 * `ingestMessage` end to end: a real scheduler on the memory store sends, and what comes back (a
 * reply built from the message it sent, and real-world fixtures pointed at its Message-IDs) stops,
 * postpones or suppresses the right lead, once.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type SchedulerEvent } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport, type SentRecord } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { classifyMessage, ingestMessage } from '../src/index.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

const LEADS = ['bob@example.org', 'carol@example.net', 'dave@example.com', 'erin@example.com']

/** Monday 4 January 2027, 10:00 in Warsaw: a campaign of two steps has sent step 0 to every lead. */
async function sentCampaign() {
  const store = createMemoryStore()
  const clock = createFakeClock(new Date('2027-01-04T09:00:00.000Z'))
  const transport = createRecordingTransport()
  const events: SchedulerEvent[] = []
  const scheduler = createScheduler({
    store,
    transport,
    clock,
    lookahead: 0,
    maxSendsPerCampaignPerTick: 10,
    onEvent: (e) => events.push(e),
  })
  const mailbox = await scheduler.createMailbox({ email: 'alice@sender.example', dailyEmailLimit: 50 })
  const campaign = await scheduler.createCampaign({
    name: 'Inbox loop',
    timezone: 'Europe/Warsaw',
    startHour: 9,
    endHour: 17,
    delayBetweenEmails: 0,
    mailboxIds: [mailbox.id],
    steps: [
      { subject: 'Quick question', text: 'Hi, would you have 15 minutes this week?' },
      { delayDays: 3, text: 'Following up on my note.' },
    ],
  })
  await scheduler.addLeads(
    campaign.id,
    LEADS.map((email) => ({ email })),
  )
  await scheduler.startCampaign(campaign.id)
  await scheduler.tick()
  expect(transport.sent).toHaveLength(LEADS.length)
  const sentTo = (email: string) => transport.sent.find((s) => s.to === email && s.step === 0)!
  const status = async (email: string) => (await store.getLead(campaign.id, email))?.status
  return { store, clock, transport, scheduler, mailbox, campaign, events, sentTo, status }
}

/** What a person's mail client sends back: a reply to `sent`, threaded on its Message-ID. */
function replyTo(sent: SentRecord, body: string): string {
  return [
    `From: <${sent.to}>`,
    `To: ${sent.from}`,
    `Subject: Re: ${sent.subject}`,
    'Date: Mon, 4 Jan 2027 12:00:00 +0100',
    `Message-ID: <reply-${sent.messageId.slice(1, -1)}>`,
    `In-Reply-To: ${sent.messageId}`,
    `References: ${[...sent.references, sent.messageId].join(' ')}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
    `On Mon, Jan 4, 2027, ${sent.from} wrote:`,
    `> ${sent.text ?? ''}`,
    '',
  ].join('\r\n')
}

/** A fixture whose linked Message-IDs are replaced by the one we sent (as if it answered our mail). */
async function fixtureAbout(name: string, sent: SentRecord): Promise<string> {
  let raw = readFileSync(`${fixtures}${name}`, 'latin1')
  for (const id of (await classifyMessage(raw)).linkedMessageIds) raw = raw.replaceAll(id, sent.messageId)
  return raw
}

describe('ingestMessage', () => {
  it('a reply to the email the scheduler sent stops that lead’s sequence, once', async () => {
    const { scheduler, clock, transport, sentTo, status, events } = await sentCampaign()
    const raw = replyTo(sentTo('bob@example.org'), 'Sure, Thursday at 3pm works for me.')
    const result = await ingestMessage(scheduler, raw)
    expect(result).toMatchObject({
      status: 'applied',
      kind: 'reply',
      matched: true,
      email: 'bob@example.org',
      matchedMessageId: sentTo('bob@example.org').messageId,
    })
    expect(result.classification.kind).toBe('reply')
    expect(await status('bob@example.org')).toBe('replied')
    expect(events.filter((e) => e.type === 'inbound')).toHaveLength(1)

    // The same message again (an IMAP poller restarting): nothing more happens.
    const again = await ingestMessage(scheduler, raw)
    expect(again).toMatchObject({ status: 'duplicate', actions: [] })
    expect(events.filter((e) => e.type === 'inbound')).toHaveLength(1)

    // Three days later the others get their follow-up; Bob does not.
    clock.advance(4 * 86_400_000)
    await scheduler.tick()
    const followUps = transport.sent.filter((s) => s.step === 1).map((s) => s.to)
    expect(followUps.sort()).toEqual(['carol@example.net', 'dave@example.com', 'erin@example.com'])
  })

  it('an Exchange out-of-office moves the follow-up to the morning after the return date', async () => {
    const { scheduler, sentTo, status } = await sentCampaign()
    const raw = await fixtureAbout('exchange-oof-en.eml', sentTo('carol@example.net'))
    const result = await ingestMessage(scheduler, raw, { mailboxId: '1' })
    expect(result.classification).toMatchObject({ kind: 'out-of-office', returnDate: '2027-01-12' })
    // Back Tuesday 12 January: the follow-up waits for Wednesday 09:00 in Warsaw.
    expect(result.actions).toEqual([
      expect.objectContaining({
        type: 'postponed',
        step: 1,
        scheduledAt: new Date('2027-01-13T08:00:00.000Z'),
      }),
    ])
    expect(await status('carol@example.net')).toBe('active')
  })

  it('a Gmail hard bounce marks the lead bounced and suppresses the address', async () => {
    const { scheduler, sentTo, status, store } = await sentCampaign()
    const raw = await fixtureAbout('gmail-dsn-hard.eml', sentTo('dave@example.com'))
    const result = await ingestMessage(scheduler, raw)
    expect(result).toMatchObject({ kind: 'bounce', matched: true, email: 'dave@example.com' })
    expect(result.actions.map((a) => a.type)).toEqual(['stopped', 'suppressed'])
    expect(await status('dave@example.com')).toBe('bounced')
    const other = await scheduler.createCampaign({
      name: 'Next quarter',
      mailboxIds: (await store.listMailboxes()).map((m) => m.id),
      steps: [{ subject: 'Hello', text: 'Hi' }],
    })
    const added = await scheduler.addLeads(other.id, [{ email: 'dave@example.com' }])
    expect(added.invalid).toEqual([{ email: 'dave@example.com', reason: 'suppressed' }])
  })

  it('a Yahoo complaint and an unsubscribe reply suppress; a delay is recorded only', async () => {
    const { scheduler, sentTo, status } = await sentCampaign()
    const complaint = await ingestMessage(
      scheduler,
      await fixtureAbout('arf-yahoo.eml', sentTo('erin@example.com')),
    )
    expect(complaint.actions).toEqual([expect.objectContaining({ type: 'suppressed', reason: 'complaint' })])
    const unsubscribe = await ingestMessage(
      scheduler,
      await fixtureAbout('unsubscribe-en.eml', sentTo('bob@example.org')),
    )
    expect(unsubscribe.actions).toEqual([
      expect.objectContaining({ type: 'suppressed', reason: 'unsubscribe' }),
    ])
    const delay = await ingestMessage(
      scheduler,
      await fixtureAbout('gmail-delay.eml', sentTo('carol@example.net')),
    )
    expect(delay.actions).toEqual([{ type: 'recorded', reason: 'delay' }])
    expect(await status('erin@example.com')).toBe('suppressed')
    expect(await status('bob@example.org')).toBe('suppressed')
    expect(await status('carol@example.net')).toBe('active')
  })

  it('reports a reply to something we never sent, and keys a message without Message-ID by its bytes', async () => {
    const { scheduler } = await sentCampaign()
    const unmatched = await ingestMessage(scheduler, readFileSync(`${fixtures}gmail-reply.eml`))
    expect(unmatched).toMatchObject({ status: 'unmatched', matched: false, actions: [] })
    const raw = 'From: <x@example.com>\r\nSubject: hello\r\n\r\nNo Message-ID here.\r\n'
    const first = await ingestMessage(scheduler, raw)
    expect(first.messageId).toMatch(/^<sha256\.[0-9a-f]{64}@mailcadence\.invalid>$/)
    // Unmatched messages are not recorded: the same key, unmatched again.
    expect(await ingestMessage(scheduler, raw)).toMatchObject({
      messageId: first.messageId,
      status: 'unmatched',
    })
  })
})
