/**
 * Taking over a campaign from a legacy sender, through the scheduler on the embedded store: import
 * (history, follow-ups, today's counts, pacing), re-import, `beforeSend`, shadow mode, external
 * sends, `campaignFilter` and rollback. The store-level guarantees are in the contract suite.
 */
import {
  compareWithLegacy,
  createScheduler,
  type ImportInput,
  isMailcadenceError,
  type SchedulerEvent,
  type SchedulerOptions,
} from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

// Monday 2026-01-05, 12:00 UTC; the campaign sends 09:00–17:00 UTC on weekdays.
const NOW = new Date('2026-01-05T12:00:00Z')
const at = (iso: string) => new Date(iso)
/** The campaign's first pacing slot after the last legacy send (11:55 + 600 s). */
const PACED = at('2026-01-05T12:05:00Z')

async function setUp(options: Partial<SchedulerOptions> = {}) {
  const clock = createFakeClock(NOW)
  const transport = createRecordingTransport()
  const events: SchedulerEvent[] = []
  const store = createMemoryStore()
  const scheduler = createScheduler({
    store,
    transport,
    clock,
    lookahead: 0,
    random: () => 0.5,
    onEvent: (e) => events.push(e),
    ...options,
  })
  const anna = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 3 })
  const ben = await scheduler.createMailbox({ email: 'ben@acme.test', dailyEmailLimit: 50 })
  /** Ticks every 30 s until `until`. */
  const runUntil = async (until: Date) => {
    while (clock.now() < until) {
      await scheduler.tick()
      clock.advance(30_000)
    }
  }
  return { clock, transport, events, store, scheduler, anna, ben, runUntil }
}

/** A legacy campaign midway: one follow-up due, one sent today, one not started, one replied. */
function legacyCampaign(mailboxIds: string[], over: Partial<ImportInput> = {}): ImportInput {
  return {
    externalId: 'legacy-42',
    campaign: {
      name: 'Q1 outreach',
      timezone: 'UTC',
      startHour: 9,
      endHour: 17,
      allowedDays: 'MON,TUE,WED,THU,FRI',
      delayBetweenEmails: 600,
      maxEmailsPerDay: 100,
      mailboxIds,
      steps: [
        { subject: 'Hi {{firstName}}', text: 'Hello' },
        { delayDays: 3, text: 'Following up' },
      ],
    },
    leads: [
      {
        email: 'jan@x.test',
        firstName: 'Jan',
        progress: {
          step: 0,
          sentAt: at('2026-01-02T10:00:00Z'),
          mailbox: 'ben@acme.test',
          messageId: '<legacy-jan@acme.test>',
        },
      },
      {
        email: 'eva@x.test',
        firstName: 'Eva',
        progress: {
          step: 0,
          sentAt: at('2026-01-05T11:55:00Z'),
          mailbox: 'anna@acme.test',
          messageId: '<legacy-eva@acme.test>',
        },
      },
      { email: 'ola@x.test', firstName: 'Ola' },
      {
        email: 'max@x.test',
        firstName: 'Max',
        status: 'replied',
        progress: {
          step: 0,
          sentAt: at('2026-01-02T11:00:00Z'),
          mailbox: 'anna@acme.test',
          messageId: '<legacy-max@acme.test>',
        },
      },
    ],
    sendLog: [
      {
        id: '1',
        to: 'jan@x.test',
        subject: 'Hi Jan',
        sentAt: at('2026-01-02T10:00:00Z'),
        mailbox: 'ben@acme.test',
      },
      {
        id: '2',
        to: 'max@x.test',
        subject: 'Hi Max',
        sentAt: at('2026-01-02T11:00:00Z'),
        mailbox: 'anna@acme.test',
      },
      {
        id: '3',
        to: 'eva@x.test',
        subject: 'Hi Eva',
        sentAt: at('2026-01-05T11:55:00Z'),
        mailbox: 'anna@acme.test',
      },
    ],
    // Anna also sent one email of another legacy campaign today.
    sentToday: { 'anna@acme.test': 2 },
    start: true,
    ...over,
  }
}

describe('importCampaign', () => {
  it('carries on without a duplicate: follow-ups on time and threaded, limits and pacing across both systems', async () => {
    const { scheduler, transport, anna, ben, runUntil } = await setUp()
    const result = await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    expect(result.leads).toEqual({
      total: 4,
      imported: 4,
      existing: 0,
      advanced: 0,
      refused: 0,
      due: 2,
      waiting: 1,
      finished: 1,
    })
    expect(result.counted).toEqual({ campaign: 1, mailboxes: { 'anna@acme.test': 2 } })
    expect(result.issues).toEqual([])
    // The last legacy send was 11:55; 600 s × (1 + 0.2 × (2 × 0.5 − 1)) later.
    expect(result.nextSlotAt).toEqual(PACED)
    expect((await scheduler.getCampaign(result.campaignId)).status).toBe('IN_PROGRESS')

    await runUntil(at('2026-01-05T17:00:00Z'))
    const monday = transport.sent.map((s) => [s.to, s.step, s.from])
    expect(monday).toEqual(
      expect.arrayContaining([
        ['jan@x.test', 1, expect.stringContaining('ben@acme.test')],
        ['ola@x.test', 0, expect.any(String)],
      ]),
    )
    expect(monday).toHaveLength(2)
    const jan = transport.sent.find((s) => s.to === 'jan@x.test')!
    expect(jan).toMatchObject({
      subject: 'Re: Hi Jan',
      inReplyTo: '<legacy-jan@acme.test>',
      references: ['<legacy-jan@acme.test>'],
    })
    // Pacing went on from the last legacy send, and the sends are ≥ 480 s apart.
    const times = transport.sent.map((s) => s.at.getTime()).sort((a, b) => a - b)
    expect(times[0]).toBeGreaterThanOrEqual(PACED.getTime())
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(480_000)
    // Anna had sent 2 of her 3 today in the legacy system: at most one more here.
    expect(transport.sent.filter((s) => s.mailboxId === anna.id).length).toBeLessThanOrEqual(1)

    // Eva's follow-up on Thursday, from Anna, in her thread; nobody gets a step twice.
    await runUntil(at('2026-01-08T17:00:00Z'))
    const eva = transport.sent.find((s) => s.to === 'eva@x.test')!
    expect(eva).toMatchObject({ step: 1, mailboxId: anna.id, inReplyTo: '<legacy-eva@acme.test>' })
    expect(eva.at.getTime()).toBeGreaterThanOrEqual(at('2026-01-08T11:55:00Z').getTime())
    const pairs = transport.sent.map((s) => `${s.to}#${s.step}`)
    expect(new Set(pairs).size).toBe(pairs.length)
    expect(pairs.sort()).toEqual(['eva@x.test#1', 'jan@x.test#1', 'ola@x.test#0', 'ola@x.test#1'])
    expect(pairs.some((p) => p.startsWith('max@'))).toBe(false)
  })

  it('changes nothing the second time, and analysis changes nothing at all', async () => {
    const { scheduler, store, anna, ben } = await setUp()
    const input = legacyCampaign([anna.id, ben.id])
    const analysis = await scheduler.analyzeImport(input)
    expect(analysis).toMatchObject({ campaignId: null, leads: { imported: 4 } })
    expect(await store.getCampaignByExternalId('legacy-42')).toBeNull()

    const first = await scheduler.importCampaign(input)
    const items = await store.listQueueItems(first.campaignId)
    const second = await scheduler.importCampaign(input)
    expect(second).toMatchObject({
      campaignId: first.campaignId,
      recordedSends: 0,
      leads: { imported: 0, existing: 4 },
    })
    expect(await store.listQueueItems(first.campaignId)).toEqual(items)
    expect(await scheduler.analyzeImport(input)).toMatchObject({
      campaignId: first.campaignId,
      leads: { imported: 0, existing: 4 },
    })
    // A lead added to the legacy campaign since is the only change.
    const third = await scheduler.importCampaign({
      ...input,
      leads: [...input.leads, { email: 'new@x.test', firstName: 'New' }],
    })
    expect(third.leads).toMatchObject({ imported: 1, existing: 4 })
  })

  it('switching again after a rollback moves each lead forward to the legacy progress, mailing no one twice', async () => {
    const { scheduler, transport, clock, anna, ben, runUntil } = await setUp()
    const input = legacyCampaign([anna.id, ben.id])
    const { campaignId } = await scheduler.importCampaign(input)
    await runUntil(at('2026-01-05T12:20:00Z'))
    expect(transport.sent.map((s) => s.to)).toEqual(['jan@x.test', 'ola@x.test'])
    // Roll back: the legacy sender carries on from the export.
    await scheduler.pauseCampaign(campaignId)
    const exported = await scheduler.exportProgress(campaignId)
    const ola = exported.leads.find((l) => l.email === 'ola@x.test')!
    expect(ola.next).toMatchObject({ step: 1 })
    // Three days later the legacy sender has sent Ola's follow-up, and Eva has replied.
    clock.set(at('2026-01-08T14:00:00Z'))
    const olaFollowUp = '<legacy-ola-1@acme.test>'
    const legacyNow = exported.leads.map((lead) => {
      if (lead.email === 'eva@x.test') return { ...lead, status: 'replied' as const }
      if (lead.email !== 'ola@x.test') return lead
      const progress = lead.progress!
      return {
        ...lead,
        status: 'completed' as const,
        progress: {
          ...progress,
          step: 1,
          sentAt: ola.next!.dueAt,
          messageId: olaFollowUp,
          thread: [...progress.thread, olaFollowUp],
        },
      }
    })
    const again = await scheduler.importCampaign({ ...input, leads: legacyNow, sendLog: [], sentToday: {} })
    expect(again.leads).toMatchObject({ imported: 0, existing: 2, advanced: 2 })
    expect(again.advanced).toEqual([
      expect.objectContaining({ email: 'eva@x.test', status: 'replied', sentSteps: [], next: null }),
      expect.objectContaining({ email: 'ola@x.test', status: 'completed', sentSteps: [1], next: null }),
    ])
    await runUntil(at('2026-01-08T17:00:00Z'))
    // Nothing more: Eva replied, Ola's follow-up left from the legacy sender.
    expect(transport.sent.map((s) => s.to)).toEqual(['jan@x.test', 'ola@x.test'])
  })

  it('refuses bad input at the door and reports suppressed leads', async () => {
    const { scheduler, anna } = await setUp()
    const input = legacyCampaign([anna.id])
    const errorOf = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e,
      )
    for (const [bad, field] of [
      [{ ...input, externalId: '' }, 'externalId'],
      [{ ...input, campaign: { ...input.campaign, startHour: 25 } }, 'startHour'],
      [{ ...input, campaign: { ...input.campaign, mailboxIds: ['nope'] } }, 'campaign.mailboxIds[0]'],
      [
        { ...input, sendLog: [{ id: 'x', to: 'jan@x.test', sentAt: new Date(Number.NaN) }] },
        'sendLog[0].sentAt',
      ],
    ] as const) {
      const error = await errorOf(scheduler.importCampaign(bad as ImportInput))
      expect(isMailcadenceError(error, 'invalid-input') && error.field).toBe(field)
    }
    await scheduler.suppress('ola@x.test', 'unsubscribed')
    const result = await scheduler.importCampaign(legacyCampaign([anna.id], { sendLog: [], sentToday: {} }))
    // Ben's mailbox is not in this campaign: Jan's thread cannot go on from here.
    expect(result.issues.map((i) => [i.code, i.email])).toEqual([
      ['unknown-mailbox', 'jan@x.test'],
      ['progress-without-log', 'eva@x.test'],
      ['progress-without-log', 'max@x.test'],
      ['suppressed', 'ola@x.test'],
    ])
    expect(result.leads).toMatchObject({ imported: 2, refused: 2 })
  })
})

describe('parallel running', () => {
  it('beforeSend vetoes a send the legacy log already has: cancelled as skipped-already-sent', async () => {
    const legacyLog = new Set(['ola@x.test#0'])
    const { scheduler, transport, events, store, anna, ben, runUntil } = await setUp({
      beforeSend: ({ to, step }) => !legacyLog.has(`${to}#${step}`),
    })
    const { campaignId } = await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    await runUntil(at('2026-01-05T17:00:00Z'))
    expect(transport.sent.map((s) => s.to)).toEqual(['jan@x.test'])
    const ola = (await store.listQueueItems(campaignId)).find((i) => i.status === 'cancelled')
    expect(ola).toMatchObject({ step: 0, lastError: 'skipped-already-sent' })
    expect(events.filter((e) => e.type === 'vetoed')).toEqual([
      expect.objectContaining({ to: 'ola@x.test', step: 0, reason: 'skipped-already-sent' }),
    ])
    // The veto gave Anna's slot back: her count is the legacy 2, not 3.
    expect((await scheduler.explain(campaignId)).mailboxes.find((m) => m.id === anna.id)).toMatchObject({
      currentDailySent: 2,
    })
  })

  it('vetoes spend no pacing slot: seven vetoes do not delay the first real send', async () => {
    const vetoed = new Set(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'].map((n) => `${n}@x.test`))
    const { scheduler, events, anna, ben, runUntil, clock } = await setUp({
      beforeSend: ({ to }) => !vetoed.has(to),
    })
    const leads = [...vetoed, 'real@x.test'].map((email) => ({ email, firstName: 'V' }))
    await scheduler.importCampaign(legacyCampaign([anna.id, ben.id], { leads, sendLog: [], sentToday: {} }))
    const start = clock.now().getTime()
    // Ten minutes between emails: seven spent slots would hold the real send back 70 minutes.
    await runUntil(new Date(start + 15 * 60_000))
    expect(events.filter((e) => e.type === 'vetoed')).toHaveLength(7)
    const sent = events.filter((e) => e.type === 'sent')
    expect(sent.map((e) => e.type === 'sent' && e.to)).toEqual(['real@x.test'])
    // One tick (30 s) per veto, then the real send at the next: no pacing wait in between.
    expect(sent[0]!.at.getTime() - start).toBeLessThanOrEqual(8 * 30_000)
  })

  it('beforeSend may answer alreadySent: recorded as sent then, the sequence goes on in its thread', async () => {
    const legacySentAt = at('2026-01-02T09:30:00Z')
    const { scheduler, transport, events, store, anna, ben, runUntil } = await setUp({
      beforeSend: ({ to, step }) =>
        to === 'ola@x.test' && step === 0
          ? { alreadySent: { sentAt: legacySentAt, messageId: '<legacy-ola@acme.test>', mailboxId: ben.id } }
          : true,
    })
    const { campaignId } = await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    await runUntil(at('2026-01-05T17:00:00Z'))
    // Ola's step 0 never left here; her follow-up (due 3 days after the legacy send) left from Ben's
    // mailbox, replying to the legacy message; Jan's follow-up is the only other email.
    expect(transport.sent.map((s) => [s.to, s.from])).toEqual([
      ['jan@x.test', 'ben@acme.test'],
      ['ola@x.test', 'ben@acme.test'],
    ])
    expect(transport.sent[1]).toMatchObject({ inReplyTo: '<legacy-ola@acme.test>', subject: 'Re: Hi Ola' })
    const log = await store.listSendLog(campaignId)
    expect(log.find((e) => e.to === 'ola@x.test' && e.step === 0)).toMatchObject({
      sentAt: legacySentAt,
      mailboxId: ben.id,
      messageId: '<legacy-ola@acme.test>',
    })
    expect(events.filter((e) => e.type === 'vetoed')).toEqual([
      expect.objectContaining({ to: 'ola@x.test', reason: 'recorded-already-sent', sentAt: legacySentAt }),
    ])
    // A send of an earlier day is not counted today: Ben's count is Jan's and Ola's follow-ups.
    expect((await scheduler.explain(campaignId)).mailboxes.find((m) => m.id === ben.id)).toMatchObject({
      currentDailySent: 2,
    })
  })

  it('an unusable beforeSend answer sends nothing and retries later', async () => {
    let answer: unknown = { alreadySent: { sentAt: new Date('2030-01-01T00:00:00Z') } }
    const { scheduler, transport, store, anna, ben, clock } = await setUp({
      beforeSend: () => answer as boolean,
    })
    const { campaignId } = await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    clock.set(PACED)
    expect(await scheduler.tick()).toMatchObject({ sent: 0, retried: 1 })
    const item = (await store.listQueueItems(campaignId)).find((i) => i.lastError?.includes('sentAt'))
    expect(item).toMatchObject({ status: 'pending', attempts: 0 })
    answer = true
    expect(transport.sent).toEqual([])
  })

  it('a beforeSend that throws sends nothing and retries later without spending an attempt', async () => {
    let down = true
    const { scheduler, transport, store, anna, ben, runUntil, clock } = await setUp({
      beforeSend: () => {
        if (down) throw new Error('legacy database unreachable')
        return true
      },
    })
    const { campaignId } = await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    clock.set(PACED) // the first slot after the last legacy send
    const result = await scheduler.tick()
    expect(result).toMatchObject({ sent: 0, retried: 1 })
    const retried = (await store.listQueueItems(campaignId)).find((i) => i.lastError?.includes('unreachable'))
    expect(retried).toMatchObject({ status: 'pending', attempts: 0 })
    down = false
    await runUntil(new Date(clock.now().getTime() + 3 * 3_600_000))
    expect(transport.sent.map((s) => s.to).sort()).toEqual(['jan@x.test', 'ola@x.test'])
  })

  it('recordExternalSends counts legacy sends toward shared limits, once per id', async () => {
    const { scheduler, transport, anna, runUntil } = await setUp()
    const campaign = await scheduler.createCampaign({
      name: 'New',
      timezone: 'UTC',
      delayBetweenEmails: 0,
      mailboxIds: [anna.id],
      steps: [{ subject: 'Hi', text: 'x' }],
    })
    await scheduler.addLeads(
      campaign.id,
      ['a', 'b', 'c'].map((n) => ({ email: `${n}@x.test` })),
    )
    const legacySend = { id: 'row-9', mailboxId: anna.id, sentAt: at('2026-01-05T11:00:00Z') }
    expect(
      await scheduler.recordExternalSends([legacySend, { id: 'row-10', mailboxId: anna.id, sentAt: NOW }]),
    ).toEqual({
      recorded: 2,
    })
    expect(await scheduler.recordExternalSends([legacySend])).toEqual({ recorded: 0 })
    await scheduler.startCampaign(campaign.id)
    await runUntil(at('2026-01-05T17:00:00Z'))
    expect(transport.sent).toHaveLength(1) // 3 a day, 2 taken by the legacy sender
    const error = await scheduler
      .recordExternalSends([{ id: 'x', mailboxId: 'nope', sentAt: NOW }])
      .catch((e) => e)
    expect(isMailcadenceError(error, 'invalid-input') && error.field).toBe('sends.mailboxId[0]')
  })

  it('a legacy send recorded for its mailbox before its campaign came in still counts for the campaign', async () => {
    const { scheduler, anna, ben } = await setUp()
    // Eva's 11:55 send (row 3) was recorded live while the campaign was still only in the legacy system.
    await scheduler.recordExternalSends([{ id: '3', mailboxId: anna.id, sentAt: at('2026-01-05T11:55:00Z') }])
    const { campaignId, recordedSends } = await scheduler.importCampaign(
      legacyCampaign([anna.id, ben.id], { sentToday: {} }),
    )
    expect(recordedSends).toBe(1) // row 3's campaign part (with the pacing after it)
    const explained = await scheduler.explain(campaignId)
    expect(explained.campaignDailySent).toBe(1)
    expect(explained.mailboxes.find((m) => m.id === anna.id)).toMatchObject({ currentDailySent: 1 })
    expect((await scheduler.getCampaign(campaignId)).nextSlotAt).toEqual(PACED)
  })

  it('campaignFilter may be async (a per-campaign flag in the host database)', async () => {
    const useV2 = new Map<string, boolean>()
    const { scheduler, transport, anna, ben, clock } = await setUp({
      campaignFilter: async (c) => useV2.get(c.externalId ?? '') === true,
    })
    await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    clock.set(PACED)
    expect(await scheduler.tick()).toMatchObject({ campaigns: 0, sent: 0 })
    useV2.set('legacy-42', true)
    expect(await scheduler.tick()).toMatchObject({ campaigns: 1, sent: 1 })
    expect(transport.sent).toHaveLength(1)
  })
})

describe('shadow mode', () => {
  it('runs the whole engine, never calls the transport, and records what it would have sent', async () => {
    const { scheduler, transport, events, anna, ben, runUntil } = await setUp({ mode: 'shadow' })
    const { campaignId } = await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    await runUntil(at('2026-01-08T17:00:00Z'))
    expect(transport.attempts).toBe(0)
    const planned = (await scheduler.sendLog(campaignId)).filter((e) => e.sentAt >= NOW)
    expect(planned.map((e) => `${e.to}#${e.step}`).sort()).toEqual([
      'eva@x.test#1',
      'jan@x.test#1',
      'ola@x.test#0',
      'ola@x.test#1',
    ])
    expect(events.filter((e) => e.type === 'sent').every((e) => e.type === 'sent' && e.shadow === true)).toBe(
      true,
    )
  })

  it("README's shadow snippet as written: its own store's mailboxes, start: true, then compareWithLegacy", async () => {
    // The live side's input, over the live store's mailboxes (README step 1).
    const live = await setUp()
    const input = legacyCampaign([live.anna.id, live.ben.id], { start: undefined })
    // Step 4: a shadow with a store of its own, the same mailboxes created in it.
    const clock = createFakeClock(NOW)
    const shadow = createScheduler({ store: createMemoryStore(), mode: 'shadow', clock })
    const mailboxes = [
      await shadow.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 3, timezone: 'UTC' }),
      await shadow.createMailbox({ email: 'ben@acme.test', dailyEmailLimit: 50, timezone: 'UTC' }),
    ]
    const importedAt = clock.now()
    const shadowInput = { ...input, campaign: { ...input.campaign, mailboxIds: mailboxes.map((m) => m.id) } }
    // Without `start: true` the campaign stays DRAFT and plans nothing (what the snippet did before).
    const draft = await shadow.importCampaign(shadowInput)
    expect((await shadow.getCampaign(draft.campaignId)).status).toBe('DRAFT')
    const { campaignId } = await shadow.importCampaign({ ...shadowInput, start: true })
    while (clock.now() < at('2026-01-08T17:00:00Z')) {
      await shadow.tick()
      clock.advance(30_000)
    }
    const report = compareWithLegacy({
      campaign: await shadow.getCampaign(campaignId),
      mailboxes,
      planned: await shadow.sendLog(campaignId),
      legacy: [],
      since: importedAt,
    })
    expect(report.rows.length).toBe(4)
    expect(report.discrepancies.filter((d) => d.kind !== 'extra')).toEqual([])
  })

  it('needs no transport', async () => {
    const scheduler = createScheduler({
      store: createMemoryStore(),
      mode: 'shadow',
      clock: createFakeClock(NOW),
    })
    expect(await scheduler.tick()).toMatchObject({ sent: 0 })
    expect(() => createScheduler({ store: createMemoryStore() })).toThrow(
      /^transport: is required in mode 'live'/,
    )
  })
})

describe('exportProgress', () => {
  it('refuses a running campaign, then waits for sends in flight and reports each lead', async () => {
    const { scheduler, transport, anna, ben, clock } = await setUp()
    const { campaignId } = await scheduler.importCampaign(legacyCampaign([anna.id, ben.id]))
    const error = await scheduler.exportProgress(campaignId).catch((e) => e)
    expect(isMailcadenceError(error, 'invalid-state')).toBe(true)
    clock.set(PACED)

    // Jan's follow-up is in flight when the campaign is paused: the export waits for it, and
    // says so when it waited long enough (here 10 s of the fake clock).
    const release = transport.hold()
    const tick = scheduler.tick()
    await transport.whenHeld(1)
    await scheduler.pauseCampaign(campaignId)
    const started = clock.now().getTime()
    const stillSending = await scheduler.exportProgress(campaignId, { timeoutMs: 10_000 }).catch((e) => e)
    expect(isMailcadenceError(stillSending, 'invalid-state') && stillSending.message).toContain(
      '1 send(s) in flight',
    )
    expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(10_000)
    // Released, the send completes while the export waits for it.
    const exported = scheduler.exportProgress(campaignId)
    release()
    await tick
    const progress = await exported
    expect(progress).toMatchObject({ campaignId, externalId: 'legacy-42' })
    const byEmail = Object.fromEntries(progress.leads.map((l) => [l.email, l]))
    expect(byEmail['jan@x.test']).toMatchObject({
      status: 'completed',
      next: null,
      progress: {
        step: 1,
        mailbox: 'ben@acme.test',
        thread: ['<legacy-jan@acme.test>', transport.sent[0]!.messageId],
        threadSubject: 'Hi Jan',
      },
    })
    expect(byEmail['eva@x.test']).toMatchObject({
      status: 'active',
      progress: { step: 0, mailbox: 'anna@acme.test', messageId: '<legacy-eva@acme.test>' },
      next: { step: 1, dueAt: at('2026-01-08T11:55:00Z') },
    })
    expect(byEmail['ola@x.test']).toMatchObject({ status: 'active', next: { step: 0 } })
    expect(byEmail['ola@x.test']!.progress).toBeUndefined()
    expect(byEmail['max@x.test']).toMatchObject({ status: 'replied', next: null, progress: { step: 0 } })
  })
})
