/**
 * `scheduler.applyInbound` on the memory store with the fake clock: each kind of inbound message,
 * idempotency, the domain stop and its free-mail exemption, suppression across campaigns, and the
 * inbox cursors.
 */
import {
  type CampaignInput,
  createScheduler,
  type InboundMessage,
  isMailcadenceError,
  type SchedulerEvent,
} from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

const DAY = 86_400_000

/** Window 09:00–17:00 weekdays in `timezone`, two steps three days apart. */
const campaignInput = (mailboxIds: string[], extra: Partial<CampaignInput> = {}): CampaignInput => ({
  name: 'Inbound',
  timezone: 'Europe/Warsaw',
  startHour: 9,
  endHour: 17,
  allowedDays: 'MON,TUE,WED,THU,FRI',
  delayBetweenEmails: 0,
  mailboxIds,
  steps: [
    { subject: 'Hi', text: 'Hello' },
    { delayDays: 3, text: 'Following up' },
  ],
  ...extra,
})

/** A scheduler at Monday 2026-01-05 10:00 Warsaw with one campaign that sent step 0 to `emails`. */
async function sentTo(emails: string[], extra: Partial<CampaignInput> = {}) {
  const store = createMemoryStore()
  const clock = createFakeClock(new Date('2026-01-05T09:00:00.000Z'))
  const transport = createRecordingTransport()
  const events: SchedulerEvent[] = []
  const scheduler = createScheduler({
    store,
    transport,
    clock,
    lookahead: 0,
    maxSendsPerCampaignPerTick: 100,
    onEvent: (e) => events.push(e),
  })
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
  const campaign = await scheduler.createCampaign(campaignInput([mailbox.id], extra))
  await scheduler.addLeads(
    campaign.id,
    emails.map((email) => ({ email })),
  )
  await scheduler.startCampaign(campaign.id)
  await scheduler.tick()
  expect(transport.sent.map((s) => s.to).sort()).toEqual([...emails].sort())
  const sentMessageId = (to: string) => transport.sent.find((s) => s.to === to)!.messageId
  return { store, clock, transport, scheduler, mailbox, campaign, events, sentMessageId }
}

const message = (over: Partial<InboundMessage> & Pick<InboundMessage, 'kind'>): InboundMessage => ({
  messageId: `<in-${Math.random().toString(36).slice(2)}@example.com>`,
  linkedMessageIds: [],
  ...over,
})

describe('applyInbound', () => {
  it('a reply stops the lead once; a second apply is a duplicate and changes nothing', async () => {
    const { scheduler, campaign, store, events, sentMessageId } = await sentTo(['jan@example.com'])
    const inbound = message({
      kind: 'reply',
      linkedMessageIds: ['<other@x>', sentMessageId('jan@example.com')],
    })
    const first = await scheduler.applyInbound(inbound)
    expect(first).toMatchObject({ status: 'applied', matched: true, email: 'jan@example.com' })
    expect(first.actions).toEqual([
      expect.objectContaining({ type: 'stopped', status: 'replied', email: 'jan@example.com', cancelled: 1 }),
    ])
    expect((await store.getLead(campaign.id, 'jan@example.com'))?.status).toBe('replied')
    expect(events.filter((e) => e.type === 'inbound')).toHaveLength(1)

    const again = await scheduler.applyInbound(inbound)
    expect(again).toMatchObject({ status: 'duplicate', matched: true, actions: [] })
    expect(events.filter((e) => e.type === 'inbound')).toHaveLength(1)
  })

  it('reports a message that links to nothing of ours, without an error', async () => {
    const { scheduler, events } = await sentTo(['jan@example.com'])
    const result = await scheduler.applyInbound(message({ kind: 'reply', linkedMessageIds: ['<nope@x>'] }))
    expect(result).toMatchObject({ status: 'unmatched', matched: false, actions: [], campaignId: null })
    expect(events.some((e) => e.type === 'inbound-unmatched')).toBe(true)
  })

  it("stopOnReply 'domain' stops colleagues, but not people at a free-mail domain", async () => {
    const emails = ['a@acme-corp.com', 'b@acme-corp.com', 'c@gmail.com', 'd@gmail.com', 'e@other.com']
    const { scheduler, campaign, store, sentMessageId } = await sentTo(emails, { stopOnReply: 'domain' })
    const result = await scheduler.applyInbound(
      message({ kind: 'reply', linkedMessageIds: [sentMessageId('a@acme-corp.com')] }),
    )
    expect(result.actions).toContainEqual(
      expect.objectContaining({ type: 'domain-stopped', domain: 'acme-corp.com', cancelled: 1 }),
    )
    await scheduler.applyInbound(message({ kind: 'reply', linkedMessageIds: [sentMessageId('c@gmail.com')] }))
    const status = async (email: string) => (await store.getLead(campaign.id, email))?.status
    expect(await status('a@acme-corp.com')).toBe('replied')
    expect(await status('b@acme-corp.com')).toBe('completed')
    expect(await status('c@gmail.com')).toBe('replied')
    expect(await status('d@gmail.com')).toBe('active')
    expect(await status('e@other.com')).toBe('active')
  })

  it("stopOnReply 'lead' (the default) stops the replier only", async () => {
    const { scheduler, campaign, store, sentMessageId } = await sentTo(['a@acme-corp.com', 'b@acme-corp.com'])
    expect(campaign.stopOnReply).toBe('lead')
    await scheduler.applyInbound(
      message({ kind: 'reply', linkedMessageIds: [sentMessageId('a@acme-corp.com')] }),
    )
    expect((await store.getLead(campaign.id, 'b@acme-corp.com'))?.status).toBe('active')
  })

  it('a hard bounce marks the lead bounced and suppresses the address in every campaign', async () => {
    const { scheduler, campaign, store, mailbox, sentMessageId } = await sentTo(['jan@example.com'])
    const other = await scheduler.createCampaign(campaignInput([mailbox.id], { name: 'Other' }))
    await scheduler.addLeads(other.id, [{ email: 'Jan@Example.com' }])
    const result = await scheduler.applyInbound(
      message({
        kind: 'bounce',
        severity: 'hard',
        recipients: [{ finalRecipient: 'jan@example.com', severity: 'hard' }],
        linkedMessageIds: [sentMessageId('jan@example.com')],
      }),
    )
    expect(result.actions.map((a) => a.type)).toEqual(['stopped', 'suppressed'])
    expect((await store.getLead(campaign.id, 'jan@example.com'))?.status).toBe('bounced')
    expect((await store.getLead(other.id, 'jan@example.com'))?.status).toBe('suppressed')
    expect((await scheduler.addLeads(other.id, [{ email: 'jan@example.com' }])).added).toBe(0)
    const third = await scheduler.createCampaign(campaignInput([mailbox.id], { name: 'Third' }))
    const added = await scheduler.addLeads(third.id, [{ email: 'jan@example.com' }])
    expect(added.invalid).toEqual([{ email: 'jan@example.com', reason: 'suppressed' }])
  })

  it('a soft bounce, a delay and an auto-reply are recorded only', async () => {
    const { scheduler, campaign, store, sentMessageId } = await sentTo(['jan@example.com'])
    const linkedMessageIds = [sentMessageId('jan@example.com')]
    const soft = await scheduler.applyInbound(
      message({
        kind: 'bounce',
        recipients: [{ finalRecipient: 'jan@example.com', severity: 'soft' }],
        linkedMessageIds,
      }),
    )
    const delay = await scheduler.applyInbound(message({ kind: 'delay', linkedMessageIds }))
    const auto = await scheduler.applyInbound(message({ kind: 'auto-reply', linkedMessageIds }))
    for (const r of [soft, delay, auto]) expect(r.actions.map((a) => a.type)).toEqual(['recorded'])
    expect((await store.getLead(campaign.id, 'jan@example.com'))?.status).toBe('active')
    expect((await scheduler.queueStats(campaign.id)).pending).toBe(1)
  })

  it('a complaint and an unsubscribe suppress the address', async () => {
    const { scheduler, campaign, store, sentMessageId } = await sentTo(['a@example.com', 'b@example.com'])
    const complaint = await scheduler.applyInbound(
      message({ kind: 'complaint', linkedMessageIds: [sentMessageId('a@example.com')] }),
    )
    const unsubscribe = await scheduler.applyInbound(
      message({ kind: 'unsubscribe', linkedMessageIds: [sentMessageId('b@example.com')] }),
    )
    expect(complaint.actions).toEqual([
      { type: 'suppressed', email: 'a@example.com', reason: 'complaint', cancelled: 1 },
    ])
    expect(unsubscribe.actions).toEqual([
      { type: 'suppressed', email: 'b@example.com', reason: 'unsubscribe', cancelled: 1 },
    ])
    expect((await store.getLead(campaign.id, 'a@example.com'))?.status).toBe('suppressed')
  })

  it('out of office with a date: the next email waits for the window the morning after the return date', async () => {
    const { scheduler, sentMessageId, transport, clock } = await sentTo(['jan@example.com'])
    // Back Thursday 2026-01-15: the follow-up leaves Friday 16th at 09:00 Warsaw (08:00 UTC).
    const result = await scheduler.applyInbound(
      message({
        kind: 'out-of-office',
        returnDate: '2026-01-15',
        linkedMessageIds: [sentMessageId('jan@example.com')],
      }),
    )
    expect(result.actions).toEqual([
      expect.objectContaining({
        type: 'postponed',
        step: 1,
        scheduledAt: new Date('2026-01-16T08:00:00.000Z'),
      }),
    ])
    clock.set(new Date('2026-01-16T07:59:00.000Z'))
    await scheduler.tick()
    expect(transport.sent).toHaveLength(1)
    clock.set(new Date('2026-01-16T08:00:00.000Z'))
    await scheduler.tick()
    expect(transport.sent.map((s) => s.step)).toEqual([0, 1])
  })

  it('reads the return date in the lead zone when the campaign sends in its leads’ hours', async () => {
    const store = createMemoryStore()
    // Monday 10:00 in New York.
    const clock = createFakeClock(new Date('2026-01-05T15:00:00.000Z'))
    const transport = createRecordingTransport()
    const scheduler = createScheduler({ store, transport, clock, lookahead: 0 })
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
    const campaign = await scheduler.createCampaign(campaignInput([mailbox.id], { windowTimezone: 'lead' }))
    await scheduler.addLeads(campaign.id, [{ email: 'joe@example.com', timezone: 'America/New_York' }])
    await scheduler.startCampaign(campaign.id)
    await scheduler.tick()
    expect(transport.sent).toHaveLength(1)
    const result = await scheduler.applyInbound(
      message({
        kind: 'out-of-office',
        returnDate: '2026-01-15',
        linkedMessageIds: [transport.sent[0]!.messageId],
      }),
    )
    // Friday 16th 09:00 in New York (EST, UTC−5).
    expect(result.actions).toEqual([
      expect.objectContaining({ type: 'postponed', scheduledAt: new Date('2026-01-16T14:00:00.000Z') }),
    ])
  })

  it('out of office without a date waits outOfOfficeDelay, and never moves an email earlier', async () => {
    const { scheduler, sentMessageId, clock } = await sentTo(['jan@example.com'])
    const linkedMessageIds = [sentMessageId('jan@example.com')]
    const now = clock.now().getTime()
    const noDate = await scheduler.applyInbound(message({ kind: 'out-of-office', linkedMessageIds }))
    expect(noDate.actions).toEqual([
      expect.objectContaining({ type: 'postponed', scheduledAt: new Date(now + 7 * DAY) }),
    ])
    // A return date before that does not bring it back.
    const earlier = await scheduler.applyInbound(
      message({ kind: 'out-of-office', returnDate: '2026-01-06', linkedMessageIds }),
    )
    expect(earlier.actions).toEqual([
      expect.objectContaining({ type: 'postponed', scheduledAt: new Date(now + 7 * DAY) }),
    ])
  })

  it('refuses a malformed message with the field named', async () => {
    const { scheduler } = await sentTo(['jan@example.com'])
    const bad: Array<[unknown, string]> = [
      [{ kind: 'reply', messageId: null, linkedMessageIds: [] }, 'message.messageId'],
      [{ kind: 'nope', messageId: '<a@b>', linkedMessageIds: [] }, 'message.kind'],
      [{ kind: 'reply', messageId: '<a@b>' }, 'message.linkedMessageIds'],
      [
        { kind: 'out-of-office', messageId: '<a@b>', linkedMessageIds: [], returnDate: '2026-13-01' },
        'message.returnDate',
      ],
    ]
    for (const [input, field] of bad) {
      const error = await scheduler.applyInbound(input as InboundMessage).catch((e: unknown) => e)
      expect(isMailcadenceError(error) && error.code === 'invalid-input' && error.field).toBe(field)
    }
  })
})

describe('stopOnReply', () => {
  it("defaults to 'lead', and refuses anything but 'lead' or 'domain' with the field named", async () => {
    const { scheduler, mailbox, campaign } = await sentTo([])
    expect(campaign.stopOnReply).toBe('lead')
    for (const value of ['company', 'DOMAIN', null, 1]) {
      const error = await scheduler
        .createCampaign(campaignInput([mailbox.id], { stopOnReply: value as 'lead' }))
        .catch((e: unknown) => e)
      expect(isMailcadenceError(error, 'invalid-input') && error.field).toBe('stopOnReply')
      const update = await scheduler
        .updateCampaign(campaign.id, { stopOnReply: value as 'lead' })
        .catch((e: unknown) => e)
      expect(isMailcadenceError(update, 'invalid-input') && update.field).toBe('stopOnReply')
    }
    expect((await scheduler.updateCampaign(campaign.id, { stopOnReply: 'domain' })).stopOnReply).toBe(
      'domain',
    )
  })
})

describe('inbox cursors', () => {
  it('saves, reads and replaces a cursor per mailbox and folder, validated', async () => {
    const { scheduler, mailbox } = await sentTo(['jan@example.com'])
    expect(await scheduler.getInboxCursor(mailbox.id, 'INBOX')).toBeNull()
    await scheduler.saveInboxCursor(mailbox.id, 'INBOX', { uidValidity: '1700000000', lastUid: 42 })
    await scheduler.saveInboxCursor(mailbox.id, 'INBOX', { uidValidity: '1700000001', lastUid: 3 })
    await scheduler.saveInboxCursor(mailbox.id, 'Bounces', { uidValidity: '7', lastUid: 0 })
    expect(await scheduler.getInboxCursor(mailbox.id, 'INBOX')).toEqual({
      uidValidity: '1700000001',
      lastUid: 3,
    })
    expect(await scheduler.getInboxCursor(mailbox.id, 'Bounces')).toEqual({ uidValidity: '7', lastUid: 0 })
    const bad: Array<[unknown, string]> = [
      [{ uidValidity: 'abc', lastUid: 1 }, 'cursor.uidValidity'],
      [{ uidValidity: '1', lastUid: -1 }, 'cursor.lastUid'],
      [{ uidValidity: '1', lastUid: 1.5 }, 'cursor.lastUid'],
    ]
    for (const [cursor, field] of bad) {
      const error = await scheduler
        .saveInboxCursor(mailbox.id, 'INBOX', cursor as never)
        .catch((e: unknown) => e)
      expect(isMailcadenceError(error) && error.field).toBe(field)
    }
  })
})
