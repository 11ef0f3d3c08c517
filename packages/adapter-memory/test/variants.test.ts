/**
 * Variants, spintax and preview through the scheduler on the memory store: the variant kept on a
 * retry, the auto winner, and a preview equal to what the transport then receives.
 */
import {
  type CampaignInput,
  createScheduler,
  type SchedulerEvent,
  type StepVariant,
  weightedVariant,
} from '@mailcadence/core'
import { createFakeClock, createRecordingTransport, type SentRecord } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

const allDay = (mailboxIds: string[], extra: Partial<CampaignInput> = {}): CampaignInput => ({
  name: 'Variants',
  startHour: 0,
  endHour: 24,
  allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
  delayBetweenEmails: 0,
  mailboxIds,
  steps: [{ subject: 'Hi {{firstName|there}}', text: 'Hello' }],
  ...extra,
})

async function setUp() {
  const store = createMemoryStore()
  const clock = createFakeClock(new Date('2026-03-02T10:00:00Z'))
  const transport = createRecordingTransport()
  const events: SchedulerEvent[] = []
  const scheduler = createScheduler({
    store,
    transport,
    clock,
    lookahead: 0,
    onEvent: (e) => events.push(e),
    unsubscribeUrl: (lead) => ({ url: `https://acme.test/u/${encodeURIComponent(lead.email)}` }),
  })
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10_000 })
  return { store, clock, transport, scheduler, mailbox, events }
}

const variants: StepVariant[] = [
  { id: 'short', subject: '{Quick|Short} question', text: 'Short {one|take}, {{firstName}}' },
  { id: 'long', text: 'A longer {note|message} for {{firstName}}' },
]

describe('variants', () => {
  it('keeps the variant chosen on the first reservation through a retry, even after a winner', async () => {
    const { scheduler, store, transport, clock, mailbox } = await setUp()
    const campaign = await scheduler.createCampaign(
      allDay([mailbox.id], { steps: [{ subject: 'Hi {{firstName}}', text: 'x', variants }] }),
    )
    await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com', firstName: 'Jan' }])
    await scheduler.startCampaign(campaign.id)
    const first = weightedVariant(variants, campaign.id, 'jan@example.com', 0)
    const other = first === 'short' ? 'long' : 'short'

    transport.failNext(1, { responseCode: 451, response: '451 4.3.0 Try later' })
    expect((await scheduler.tick()).retried).toBe(1)
    const [item] = await store.listQueueItems(campaign.id)
    expect(item?.variantId).toBe(first)

    // A winner decided meanwhile applies to new leads only.
    const current = await scheduler.getCampaign(campaign.id)
    await scheduler.updateCampaign(campaign.id, {
      steps: current.steps.map((s) => ({ ...s, winner: other })),
    })
    clock.advance(24 * 3_600_000)
    expect((await scheduler.tick()).sent).toBe(1)
    const sent = transport.sent[0] as SentRecord
    expect(sent.text).toContain(first === 'short' ? 'Short' : 'longer')
    expect((await store.listQueueItems(campaign.id))[0]?.variantId).toBe(first)

    await scheduler.addLeads(campaign.id, [{ email: 'eva@example.com', firstName: 'Eva' }])
    await scheduler.startCampaign(campaign.id) // it had completed
    await scheduler.tick()
    expect((await store.listQueueItems(campaign.id)).find((i) => i.leadId !== item?.leadId)?.variantId).toBe(
      other,
    )
  })

  it('picks the auto winner once past the threshold, persists it and says so', async () => {
    const { scheduler, store, mailbox, events } = await setUp()
    const campaign = await scheduler.createCampaign(
      allDay([mailbox.id], {
        steps: [
          {
            subject: 'Hi',
            text: 'x',
            variants: [{ id: 'a' }, { id: 'b', text: 'y' }],
            autoWinner: { metric: 'reply', minSends: 20, confidence: 0.95 },
          },
        ],
      }),
    )
    const leads = Array.from({ length: 60 }, (_, i) => ({ email: `lead${i}@example.com` }))
    await scheduler.addLeads(campaign.id, leads)
    await scheduler.startCampaign(campaign.id)
    while ((await scheduler.tick()).sent > 0) {}
    const items = await store.listQueueItems(campaign.id)
    const leadsById = new Map((await store.listLeads(campaign.id)).map((l) => [l.id, l]))
    const ofB = items.filter((i) => i.variantId === 'b').map((i) => leadsById.get(i.leadId)?.email as string)
    const ofA = items.filter((i) => i.variantId === 'a').map((i) => leadsById.get(i.leadId)?.email as string)
    expect(ofA.length).toBeGreaterThanOrEqual(20)
    expect(ofB.length).toBeGreaterThanOrEqual(20)

    // Below the threshold: a few replies to each, no winner.
    for (const email of [...ofA.slice(0, 2), ...ofB.slice(0, 3)])
      await scheduler.markReplied(campaign.id, email)
    let stats = await scheduler.variantStats(campaign.id)
    expect(stats[0]?.winner).toBeNull()
    expect(events.some((e) => e.type === 'variant-winner')).toBe(false)

    // Past it: most of b's leads reply.
    for (const email of ofB.slice(3, 15)) await scheduler.markReplied(campaign.id, email)
    stats = await scheduler.variantStats(campaign.id)
    const b = stats[0]?.variants.find((v) => v.variantId === 'b')
    expect(b?.replied).toBe(15)
    expect(b?.probabilityBest).toBeGreaterThan(0.95)
    expect(stats[0]?.winner).toBe('b')
    expect((await scheduler.getCampaign(campaign.id)).steps[0]?.winner).toBe('b')
    expect(events.filter((e) => e.type === 'variant-winner')).toHaveLength(1)
    expect((await scheduler.explain(campaign.id)).variants?.[0]?.winner).toBe('b')

    // New leads get only the winner; a later update keeps it.
    await scheduler.updateCampaign(campaign.id, { name: 'Renamed' })
    await scheduler.addLeads(
      campaign.id,
      Array.from({ length: 20 }, (_, i) => ({ email: `new${i}@example.com` })),
    )
    await scheduler.startCampaign(campaign.id) // it had completed
    while ((await scheduler.tick()).sent > 0) {}
    const fresh = (await store.listQueueItems(campaign.id)).slice(60)
    expect(fresh).toHaveLength(20)
    expect(fresh.every((i) => i.variantId === 'b')).toBe(true)
  })

  it('the tick decides too, at most once per check interval', async () => {
    const { scheduler, mailbox, events, clock } = await setUp()
    const campaign = await scheduler.createCampaign(
      allDay([mailbox.id], {
        steps: [
          {
            subject: 'Hi',
            text: 'x',
            variants: [{ id: 'a' }, { id: 'b', text: 'y' }],
            autoWinner: { metric: 'reply', minSends: 5 },
          },
          { delayDays: 1, text: 'again' },
        ],
      }),
    )
    const leads = Array.from({ length: 30 }, (_, i) => ({ email: `lead${i}@example.com` }))
    await scheduler.addLeads(campaign.id, leads)
    await scheduler.startCampaign(campaign.id)
    while ((await scheduler.tick()).sent > 0) {}
    for (const lead of leads) {
      if (weightedVariant([{ id: 'a' }, { id: 'b' }], campaign.id, lead.email, 0) === 'a')
        await scheduler.markReplied(campaign.id, lead.email)
    }
    // Nothing is due before the follow-ups, a day later: the tick checks campaigns it runs.
    clock.advance(86_400_000)
    await scheduler.tick()
    expect(events.filter((e) => e.type === 'variant-winner')).toEqual([
      expect.objectContaining({ step: 0, variantId: 'a' }),
    ])
    await scheduler.tick()
    expect(events.filter((e) => e.type === 'variant-winner')).toHaveLength(1)
  })
})

describe('preview', () => {
  it('equals what the transport receives, step by step, and reserves nothing (works in DRAFT)', async () => {
    const { scheduler, store, transport, clock, mailbox } = await setUp()
    const campaign = await scheduler.createCampaign(
      allDay([mailbox.id], {
        steps: [
          { subject: '{Hi|Hello|Hey} {{firstName}}', text: 'x', variants },
          { delayDays: 2, text: '{Following up|Bumping this}, {{firstName}}: {{unsubscribeUrl}}' },
          { delayDays: 2, subject: '{Last|Final} note', html: '<p>{Bye|Cheers} {{firstName}}</p>' },
        ],
      }),
    )
    await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com', firstName: '{Jan|Janek}' }])
    const before = await scheduler.preview(campaign.id, { email: 'jan@example.com' })
    expect(before).toHaveLength(3)
    expect(before.map((p) => p.status)).toEqual(['pending', 'not-queued', 'not-queued'])
    expect(await scheduler.queueStats(campaign.id)).toMatchObject({ pending: 1, sending: 0, sent: 0 })
    expect((await store.listQueueItems(campaign.id))[0]?.attempts).toBe(0)

    const same = (p: (typeof before)[number], s: SentRecord) => {
      expect(s.subject).toBe(p.message.subject)
      expect(s.text).toBe(p.message.text)
      expect(s.html).toBe(p.message.html)
      expect(s.headers).toEqual(p.message.headers)
      expect(s.from).toContain(p.message.from.address)
      expect(s.to).toContain(p.message.to.address)
      expect(s.mailboxId).toBe(p.mailboxId)
    }

    await scheduler.startCampaign(campaign.id)
    await scheduler.tick()
    same(before[0]!, transport.sent[0]!)
    expect(transport.sent[0]?.text).toContain('{Jan|Janek}')

    for (const step of [1, 2]) {
      const [p] = await scheduler.preview(campaign.id, { leadId: transport.sent[0]!.leadId }, { step })
      expect(p?.step).toBe(step)
      // The thread as it will be: every earlier Message-ID is final now.
      expect(p?.message.references).toEqual(transport.sent.map((s) => s.messageId))
      expect(p?.message.inReplyTo).toBe(transport.sent.at(-1)?.messageId)
      clock.advance(2 * 86_400_000 + 60_000)
      await scheduler.tick()
      const sent = transport.sent[step]!
      same(p!, sent)
      expect(sent.references).toEqual(p?.message.references)
      expect(sent.inReplyTo).toBe(p?.message.inReplyTo)
    }
    expect(before[1]?.message.subject).toBe(transport.sent[1]?.subject)
    const after = await scheduler.preview(campaign.id, { email: 'JAN@example.com' })
    expect(after.map((p) => p.messageIdFinal)).toEqual([true, true, true])
    expect(after.map((p) => p.message.messageId)).toEqual(transport.sent.map((s) => s.messageId))
  })

  it('names a missing lead', async () => {
    const { scheduler, mailbox } = await setUp()
    const campaign = await scheduler.createCampaign(allDay([mailbox.id]))
    await expect(scheduler.preview(campaign.id, { email: 'nobody@example.com' })).rejects.toMatchObject({
      code: 'not-found',
      field: 'lead',
    })
    await expect(scheduler.preview(campaign.id, { email: 'x' })).rejects.toMatchObject({
      field: 'lead.email',
    })
  })
})
