/**
 * The edge, through the scheduler on the embedded store (issue #12): every public input that is
 * accepted works, and every one that is not is an `invalid-input` error naming its field, never a
 * `TypeError`, a silent no-op or a process that runs out of memory.
 */
import {
  createScheduler,
  type ImportInput,
  INPUT_LIMITS,
  isMailcadenceError,
  type MailcadenceError,
} from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

const NOW = new Date('2026-01-05T12:00:00Z')

async function setUp() {
  const clock = createFakeClock(NOW)
  const transport = createRecordingTransport()
  const scheduler = createScheduler({
    store: createMemoryStore(),
    transport,
    clock,
    lookahead: 0,
    random: () => 0.5,
  })
  const anna = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 50 })
  return { clock, transport, scheduler, anna }
}

async function refused(promise: Promise<unknown>, field: string): Promise<MailcadenceError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(isMailcadenceError(error, 'invalid-input'), `${field}: got ${String(error)}`).toBe(true)
  expect((error as MailcadenceError).field).toBe(field)
  expect((error as MailcadenceError).message.startsWith(`${field}: `)).toBe(true)
  return error as MailcadenceError
}

function importInput(
  mailboxId: string,
  over: Record<string, unknown> = {},
  lead: Record<string, unknown> = {},
): ImportInput {
  return {
    externalId: 'legacy-1',
    campaign: {
      name: 'Legacy',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      mailboxIds: [mailboxId],
      steps: [
        { subject: 'Hi', text: 'Hello' },
        { delayDays: 2, text: 'Bump' },
      ],
    },
    leads: [
      {
        email: 'jan@x.test',
        progress: {
          step: 0,
          sentAt: new Date('2026-01-04T10:00:00Z'),
          mailbox: 'anna@acme.test',
          messageId: '<j@acme.test>',
        },
        ...lead,
      },
    ],
    ...over,
  } as ImportInput
}

describe('pauseMailbox', () => {
  it.each<[string, unknown]>([
    ['a string', '2026-02-01T00:00:00Z'],
    ['a number', Date.parse('2026-02-01T00:00:00Z')],
    ['an invalid Date', new Date(Number.NaN)],
    ['a Date past 9999-12-31', new Date('+010000-01-01T00:00:00Z')],
    ['null', null],
  ])('refuses until as %s, naming until', async (_, until) => {
    const { scheduler, anna } = await setUp()
    await refused(scheduler.pauseMailbox(anna.id, { until: until as Date }), 'until')
    expect((await scheduler.resumeMailbox(anna.id)).pausedUntil).toBeNull()
  })

  it('refuses a reason that is not a string in normal form', async () => {
    const { scheduler, anna } = await setUp()
    await refused(scheduler.pauseMailbox(anna.id, { reason: 5 as never }), 'reason')
    await refused(scheduler.pauseMailbox(anna.id, { reason: 'a\0b' }), 'reason')
    await refused(
      scheduler.pauseMailbox(anna.id, { reason: 'x'.repeat(INPUT_LIMITS.reasonLength + 1) }),
      'reason',
    )
    await refused(scheduler.pauseMailbox(anna.id, null as never), 'options')
  })

  it('pauses until a far date, and by default until 9999-12-31', async () => {
    const { scheduler, anna } = await setUp()
    const far = new Date(INPUT_LIMITS.latestPauseUntil)
    expect((await scheduler.pauseMailbox(anna.id, { until: far, reason: 'vacation 🏖' })).pausedUntil).toEqual(
      far,
    )
    expect((await scheduler.pauseMailbox(anna.id)).pausedUntil).toEqual(new Date('9999-12-31T00:00:00Z'))
  })
})

describe('ids, patches and reasons', () => {
  it('refuses ids that are not short strings, without crashing on a Symbol', async () => {
    const { scheduler } = await setUp()
    await refused(scheduler.getCampaign(Symbol('x') as never), 'campaignId')
    await refused(scheduler.startCampaign(Object.create(null)), 'campaignId')
    await refused(scheduler.addLeads('x'.repeat(1_000_000), []), 'campaignId')
    await refused(scheduler.resumeMailbox(5 as never), 'mailboxId')
  })

  it('refuses a patch that is not an object', async () => {
    const { scheduler, anna } = await setUp()
    await refused(scheduler.updateMailbox(anna.id, null as never), 'patch')
    await refused(scheduler.updateMailbox(anna.id, { dailyEmailLimit: 2 ** 31 }), 'dailyEmailLimit')
  })

  it('refuses a suppress reason with NUL or a lone surrogate', async () => {
    const { scheduler } = await setUp()
    await refused(scheduler.suppress('a@x.test', 'spam\0'), 'reason')
    await refused(scheduler.suppress('a@x.test', '\ud800'), 'reason')
    await refused(scheduler.suppress('a@x.test', Object.create(null)), 'reason')
  })

  it('refuses more leads in one call than documented', async () => {
    const { scheduler, anna } = await setUp()
    const c = await scheduler.createCampaign({
      name: 'c',
      mailboxIds: [anna.id],
      steps: [{ subject: 's', text: 't' }],
    })
    const leads = Array.from({ length: INPUT_LIMITS.leadsPerCall + 1 }, (_, i) => ({ email: `l${i}@x.test` }))
    await refused(scheduler.addLeads(c.id, leads), 'leads')
  })

  it('reports a refused lead whose address is an object without a prototype', async () => {
    const { scheduler, anna } = await setUp()
    const c = await scheduler.createCampaign({
      name: 'c',
      mailboxIds: [anna.id],
      steps: [{ subject: 's', text: 't' }],
    })
    const result = await scheduler.addLeads(c.id, [
      { email: Object.create(null) },
      { email: `${'x'.repeat(1000)}@x.test` },
    ])
    expect(result.invalid).toHaveLength(2)
    expect(result.invalid[0]).toEqual({
      email: 'an object without a prototype',
      reason: 'email must be a string',
    })
    expect(result.invalid[1]?.email.length).toBeLessThan(80)
  })
})

describe('template variables named like Object.prototype members', () => {
  it('adds leads and sends with them, with and without a fallback', async () => {
    const { scheduler, anna, transport } = await setUp()
    const c = await scheduler.createCampaign({
      name: 'c',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      mailboxIds: [anna.id],
      variables: ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'],
      steps: [
        {
          subject: 'Hi {{constructor|x}} {{valueOf|v}}',
          text: '{{toString}} / {{hasOwnProperty|h}} / {{__proto__|p}}',
        },
      ],
    })
    const result = await scheduler.addLeads(c.id, [
      JSON.parse('{"email":"a@x.test","variables":{"toString":"T","constructor":"C","__proto__":"P"}}'),
      { email: 'b@x.test', variables: { toString: 'T2' } },
      { email: 'c@x.test' },
    ])
    expect(result).toEqual({
      added: 2,
      duplicates: 0,
      invalid: [{ email: 'c@x.test', reason: 'missing {{toString}}, used without a fallback' }],
    })
    await scheduler.startCampaign(c.id)
    await scheduler.tick()
    await scheduler.tick()
    const sent = new Map(transport.sent.map((s) => [s.to, s]))
    expect(sent.get('a@x.test')).toMatchObject({ subject: 'Hi C v', text: 'T / h / P' })
    expect(sent.get('b@x.test')).toMatchObject({ subject: 'Hi x v', text: 'T2 / h / p' })
  })
})

describe('exportProgress', () => {
  it('refuses a timeoutMs that is not an integer in range (a string waited forever)', async () => {
    const { scheduler, anna } = await setUp()
    const c = await scheduler.createCampaign({
      name: 'c',
      mailboxIds: [anna.id],
      steps: [{ subject: 's', text: 't' }],
    })
    for (const timeoutMs of ['1000', -1, Number.NaN, INPUT_LIMITS.lease + 1]) {
      await refused(scheduler.exportProgress(c.id, { timeoutMs: timeoutMs as number }), 'timeoutMs')
    }
    await refused(scheduler.exportProgress(c.id, null as never), 'options')
    expect((await scheduler.exportProgress(c.id, { timeoutMs: 0 })).leads).toEqual([])
  })
})

describe('recordExternalSends', () => {
  it.each<[string, Record<string, unknown>]>([
    ['sends[0].id', { id: 5 }],
    ['sends[0].id', { id: 'x'.repeat(INPUT_LIMITS.idLength + 1) }],
    ['sends[0].id', { id: 'a\0' }],
    ['sends[0].sentAt', { sentAt: '2026-01-05T10:00:00Z' }],
    ['sends[0].sentAt', { sentAt: new Date(Number.NaN) }],
    ['sends[0].sentAt', { sentAt: new Date('+200000-01-01T00:00:00Z') }],
    ['sends[0].sentAt', { sentAt: new Date('1900-01-01T00:00:00Z') }],
    ['sends[0].mailboxId', { mailboxId: 5 }],
    ['sends[0].campaignId', { campaignId: Symbol('c') }],
  ])('refuses %s of %p', async (field, over) => {
    const { scheduler } = await setUp()
    await refused(scheduler.recordExternalSends([{ id: 'e1', sentAt: NOW, ...over } as never]), field)
  })

  it('refuses a send that is not an object, and sends that are not an array', async () => {
    const { scheduler } = await setUp()
    await refused(scheduler.recordExternalSends([{ id: 'a', sentAt: NOW }, null] as never), 'sends[1]')
    await refused(scheduler.recordExternalSends([Object.create(null)] as never), 'sends[0].id')
    await refused(scheduler.recordExternalSends('x' as never), 'sends')
  })
})

describe('importCampaign and analyzeImport inputs', () => {
  it('reports a lead that is not an object (an array carrying an email) as invalid, whatever its email', async () => {
    // Found by the fuzz model: naming the refused lead converted its email with String(), which
    // throws on an object without a prototype.
    const { scheduler, anna } = await setUp()
    const lead = Object.assign([], { email: Object.create(null) })
    const report = await scheduler.analyzeImport({ ...importInput(anna.id), leads: [lead] } as ImportInput)
    expect(report.leads.refused).toBe(1)
    expect(report.issues[0]).toMatchObject({ code: 'invalid-lead', email: 'an object without a prototype' })
  })

  it("takes README's `progress: l.lastSentAt && {…}`: null progress is no progress", async () => {
    const { scheduler, anna } = await setUp()
    const lastSentAt: Date | null = null
    const input = importInput(anna.id, {}, { progress: lastSentAt && { step: 0 } })
    const report = await scheduler.analyzeImport(input)
    expect(report.leads).toMatchObject({ imported: 1, due: 1, refused: 0 })
    const result = await scheduler.importCampaign({ ...input, start: true })
    expect(result.leads).toMatchObject({ imported: 1, due: 1 })
    await scheduler.tick()
  })

  it.each<[string, Record<string, unknown>]>([
    ['leads[0].progress.thread', { thread: '<a@b>' }],
    ['leads[0].progress.thread[0]', { thread: [5] }],
    ['leads[0].progress.step', { step: '0' }],
    ['leads[0].progress.sentAt', { sentAt: '2026-01-04T10:00:00Z' }],
    ['leads[0].progress.sentAt', { sentAt: new Date('+100000-01-01T00:00:00Z') }],
    ['leads[0].progress.mailbox', { mailbox: { email: 'anna@acme.test' } }],
    ['leads[0].progress.messageId', { messageId: 7 }],
    ['leads[0].progress.threadSubject', { threadSubject: 'Hi\0' }],
  ])('refuses %s of %p', async (field, over) => {
    const { scheduler, anna } = await setUp()
    const progress = {
      step: 0,
      sentAt: new Date('2026-01-04T10:00:00Z'),
      mailbox: 'anna@acme.test',
      messageId: '<j@acme.test>',
      ...over,
    }
    await refused(scheduler.analyzeImport(importInput(anna.id, {}, { progress })), field)
    await refused(scheduler.importCampaign(importInput(anna.id, {}, { progress })), field)
  })

  it('refuses an unknown lead status (Postgres would refuse it) and a progress that is not an object', async () => {
    const { scheduler, anna } = await setUp()
    await refused(scheduler.analyzeImport(importInput(anna.id, {}, { status: 'ACTIVE' })), 'leads[0].status')
    await refused(
      scheduler.analyzeImport(importInput(anna.id, {}, { status: Object.create(null) })),
      'leads[0].status',
    )
    await refused(
      scheduler.analyzeImport(importInput(anna.id, {}, { progress: 'step 0' })),
      'leads[0].progress',
    )
    await refused(
      scheduler.analyzeImport(importInput(anna.id, {}, { email: Object.create(null) })),
      'leads[0].email',
    )
  })

  it.each<[string, Record<string, unknown>]>([
    ['sendLog[0].subject', { subject: 5 }],
    ['sendLog[0].mailbox', { mailbox: ['anna@acme.test'] }],
    ['sendLog[0].to', { to: Symbol('to') }],
    ['sendLog[0].sentAt', { sentAt: 1_767_000_000_000 }],
    ['sendLog[0].id', { id: '\udc00' }],
  ])('refuses a send-log row with %s of %p', async (field, over) => {
    const { scheduler, anna } = await setUp()
    const row = {
      id: 'r1',
      to: 'jan@x.test',
      subject: 'Hi',
      sentAt: new Date('2026-01-04T10:00:00Z'),
      mailbox: 'anna@acme.test',
      ...over,
    }
    await refused(scheduler.analyzeImport(importInput(anna.id, { sendLog: [row] })), field)
  })

  it.each([Number.POSITIVE_INFINITY, 1e9, -1, 1.5, '3', INPUT_LIMITS.dailyEmailLimit + 1])(
    'refuses sentToday of %p at once (it never returned before)',
    async (count) => {
      const { scheduler, anna } = await setUp()
      await refused(
        scheduler.analyzeImport(importInput(anna.id, { sentToday: { 'anna@acme.test': count } })),
        'sentToday["anna@acme.test"]',
      )
    },
  )

  it('refuses a bad externalId, start, or input', async () => {
    const { scheduler, anna } = await setUp()
    await refused(
      scheduler.analyzeImport(importInput(anna.id, { externalId: 'x'.repeat(INPUT_LIMITS.idLength + 1) })),
      'externalId',
    )
    await refused(scheduler.analyzeImport(importInput(anna.id, { externalId: '\0' })), 'externalId')
    await refused(scheduler.importCampaign(importInput(anna.id, { start: 'yes' })), 'start')
    await refused(scheduler.analyzeImport(null as never), 'input')
  })

  it('still reports well-typed but wrong lead data as an issue on that lead', async () => {
    const { scheduler, anna } = await setUp()
    const report = await scheduler.analyzeImport(
      importInput(
        anna.id,
        {},
        { progress: { step: 0, sentAt: new Date(Number.NaN), mailbox: 'anna@acme.test', messageId: 'nope' } },
      ),
    )
    expect(report.leads.refused).toBe(1)
    expect(report.issues[0]).toMatchObject({ code: 'invalid-lead', email: 'jan@x.test' })
  })
})
