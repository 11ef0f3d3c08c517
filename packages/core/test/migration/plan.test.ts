import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type ExistingLead, planImport } from '../../src/migration/plan.js'
import type { ImportInput, LegacySend } from '../../src/migration/types.js'
import type { Mailbox } from '../../src/model/types.js'
import { validateCampaign } from '../../src/model/validate.js'

// Monday 2026-01-05, 12:00 in Warsaw (11:00 UTC): inside a 09:00–17:00 weekday window.
const NOW = new Date('2026-01-05T11:00:00Z')
const DAY = 86_400_000
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000)

const mailbox = (id: string, email: string, dailyEmailLimit = 50): Mailbox => ({
  id,
  email,
  name: null,
  dailyEmailLimit,
  hourlyLimit: null,
  rampUp: null,
  rampLevel: 0,
  rampDayKey: null,
  provider: null,
  timezone: 'Europe/Warsaw',
  pausedUntil: null,
  pauseReason: null,
  skipDates: [],
  createdAt: NOW,
  updatedAt: NOW,
})
const MAILBOXES = [mailbox('1', 'anna@acme.test'), mailbox('2', 'ben@acme.test', 3)]

const input = (over: Partial<ImportInput> = {}): ImportInput => ({
  externalId: 'legacy-1',
  campaign: {
    name: 'Q4',
    timezone: 'Europe/Warsaw',
    delayBetweenEmails: 90,
    maxEmailsPerDay: 500,
    mailboxIds: ['1', '2'],
    steps: [
      { subject: 'Hi {{firstName}}', text: 'Hello' },
      { delayDays: 3, text: 'Following up' },
      { delayDays: 4, text: 'Last one' },
    ],
  },
  leads: [],
  ...over,
})

const plan = (i: ImportInput, existing: string[] | Map<string, ExistingLead> = []) =>
  planImport(i, {
    campaign: validateCampaign(i.campaign),
    mailboxes: MAILBOXES,
    existing: Array.isArray(existing)
      ? new Map(existing.map((k) => [k, { status: 'active' as const, lastSentStep: null }]))
      : existing,
    now: NOW,
    random: () => 0.5,
  })

const row = (id: string, to: string, minutesAgo: number, over: Partial<LegacySend> = {}): LegacySend => ({
  id,
  to,
  sentAt: ago(minutesAgo),
  subject: 'Hi Jan',
  mailbox: 'anna@acme.test',
  ...over,
})

describe('planImport: leads', () => {
  it('queues step 0 now for a lead the other system has not mailed', () => {
    const { leads, report } = plan(input({ leads: [{ email: 'jan@x.test', firstName: 'Jan' }] }))
    expect(leads).toEqual([
      expect.objectContaining({
        emailKey: 'jan@x.test',
        status: 'active',
        history: [],
        next: { step: 0, scheduledAt: NOW, mailboxId: null, references: [], threadSubject: null },
      }),
    ])
    expect(report.leads).toMatchObject({ total: 1, imported: 1, due: 1, waiting: 0, finished: 0 })
  })

  it('continues after the last step sent: at its delay, from its mailbox, in its thread', () => {
    const sentAt = ago(60 * 24 * 2)
    const { leads, report } = plan(
      input({
        leads: [
          {
            email: 'jan@x.test',
            firstName: 'Jan',
            progress: { step: 0, sentAt, mailbox: 'Ben@Acme.test', messageId: '<m0@acme.test>' },
          },
        ],
        sendLog: [{ id: 'r1', to: 'JAN@x.test', sentAt, subject: 'Hi Jan', mailbox: 'ben@acme.test' }],
      }),
    )
    expect(leads[0]).toMatchObject({
      status: 'active',
      history: [{ step: 0, sentAt, mailboxId: '2', messageId: '<m0@acme.test>', subject: 'Hi Jan' }],
      next: {
        step: 1,
        scheduledAt: new Date(sentAt.getTime() + 3 * DAY),
        mailboxId: '2',
        references: ['<m0@acme.test>'],
        threadSubject: 'Hi Jan',
      },
    })
    expect(report.leads).toMatchObject({ waiting: 1, due: 0 })
    expect(report.issues).toEqual([])
  })

  it('completes a lead whose last step was sent, and keeps a stopped lead stopped', () => {
    const progress = { step: 2, sentAt: ago(10), mailbox: 'anna@acme.test', messageId: '<m2@a>' }
    const { leads, report } = plan(
      input({
        leads: [
          { email: 'done@x.test', firstName: 'D', progress },
          { email: 'stop@x.test', firstName: 'S', status: 'replied', progress: { ...progress, step: 0 } },
        ],
      }),
    )
    expect(leads.map((l) => [l.status, l.next, l.history.length])).toEqual([
      ['completed', null, 3],
      ['replied', null, 1],
    ])
    expect(report.leads.finished).toBe(2)
    // Steps 0 and 1 of the first lead have no log row: imported as sent, reported.
    expect(
      report.issues.filter((i) => i.code === 'progress-without-log').map((i) => [i.email, i.step]),
    ).toEqual([
      ['done@x.test', 0],
      ['done@x.test', 1],
      ['done@x.test', 2],
      ['stop@x.test', 0],
    ])
  })

  it('takes the send log over a lead whose progress is behind it (never send twice)', () => {
    const { leads, report } = plan(
      input({
        leads: [{ email: 'jan@x.test', firstName: 'Jan' }],
        sendLog: [row('r1', 'jan@x.test', 600), row('r2', 'jan@x.test', 300, { subject: 'Re: Hi Jan' })],
      }),
    )
    expect(leads[0]!.history.map((h) => [h.step, h.sentAt, h.subject])).toEqual([
      [0, ago(600), 'Hi Jan'],
      [1, ago(300), 'Re: Hi Jan'],
    ])
    expect(leads[0]!.next).toMatchObject({ step: 2, mailboxId: '1', threadSubject: 'Hi Jan' })
    expect(report.issues).toEqual([
      expect.objectContaining({
        code: 'log-ahead-of-progress',
        severity: 'warning',
        email: 'jan@x.test',
        step: 1,
      }),
    ])
  })

  it('refuses what it cannot carry on, naming the lead', () => {
    const { leads, report } = plan(
      input({
        leads: [
          { email: 'not-an-address' },
          { email: 'a@x.test', firstName: 'A' },
          { email: 'A@x.test', firstName: 'A' },
          {
            email: 'b@x.test',
            firstName: 'B',
            progress: { step: 3, sentAt: NOW, mailbox: 'anna@acme.test', messageId: '<x@y>' },
          },
          {
            email: 'c@x.test',
            firstName: 'C',
            progress: { step: 0, sentAt: NOW, mailbox: 'zed@else.test', messageId: '<x@y>' },
          },
          {
            email: 'd@x.test',
            firstName: 'D',
            progress: { step: 0, sentAt: NOW, mailbox: 'anna@acme.test', messageId: 'no-brackets' },
          },
          { email: 'e@x.test' },
        ],
        sendLog: [row('r1', 'f@x.test', 10, { mailbox: undefined })],
      }),
    )
    expect(leads.map((l) => l.email)).toEqual(['a@x.test'])
    expect(report.issues.map((i) => [i.code, i.severity, i.email])).toEqual([
      ['invalid-lead', 'error', 'not-an-address'],
      ['duplicate-lead', 'error', 'A@x.test'],
      ['step-out-of-range', 'error', 'b@x.test'],
      ['unknown-mailbox', 'error', 'c@x.test'],
      ['invalid-lead', 'error', 'd@x.test'],
      // Step 0 uses {{firstName}}, which e@ lacks.
      ['invalid-lead', 'error', 'e@x.test'],
      ['log-without-lead', 'warning', 'f@x.test'],
    ])
    expect(report.issues[3]!.message).toContain('zed@else.test')
    expect(report.leads).toMatchObject({ total: 7, imported: 1, refused: 6 })
  })

  it('moves a lead already here forward to the progress the other system is ahead with, never back', () => {
    const here = (status: ExistingLead['status'], lastSentStep: number | null) => ({ status, lastSentStep })
    const sent1 = ago(60)
    const progress = (step: number, sentAt: Date) => ({
      step,
      sentAt,
      mailbox: 'anna@acme.test',
      messageId: `<m${step}@a>`,
      thread: Array.from({ length: step + 1 }, (_, i) => `<m${i}@a>`),
      threadSubject: 'Hi Jan',
    })
    const { leads, report } = plan(
      input({
        leads: [
          // Legacy sent step 1 (here: step 0 only): step 1 is recorded, step 2 follows it.
          { email: 'ahead@x.test', firstName: 'A', progress: progress(1, sent1) },
          // Legacy saw a reply: stopped here, nothing more planned.
          { email: 'replied@x.test', firstName: 'R', status: 'replied', progress: progress(0, ago(600)) },
          // Here got further than legacy: left as it is.
          { email: 'behind@x.test', firstName: 'B', progress: progress(0, ago(600)) },
          // Same progress on both sides: left as it is, with no warnings.
          { email: 'same@x.test', firstName: 'S', progress: progress(0, ago(600)) },
          // Stopped here: never revived, whatever legacy says.
          { email: 'stopped@x.test', firstName: 'T', progress: progress(2, ago(5)) },
        ],
      }),
      new Map([
        ['ahead@x.test', here('active', 0)],
        ['replied@x.test', here('active', 0)],
        ['behind@x.test', here('active', 1)],
        ['same@x.test', here('active', 0)],
        ['stopped@x.test', here('replied', 0)],
      ]),
    )
    expect(leads).toEqual([
      expect.objectContaining({
        emailKey: 'ahead@x.test',
        status: 'active',
        advance: { lastSentStep: 0 },
        history: [expect.objectContaining({ step: 1, sentAt: sent1, mailboxId: '1', messageId: '<m1@a>' })],
        next: {
          step: 2,
          scheduledAt: new Date(sent1.getTime() + 4 * DAY),
          mailboxId: '1',
          references: ['<m0@a>', '<m1@a>'],
          threadSubject: 'Hi Jan',
        },
      }),
      expect.objectContaining({
        emailKey: 'replied@x.test',
        status: 'replied',
        advance: { lastSentStep: 0 },
        history: [],
        next: null,
      }),
    ])
    expect(report.leads).toMatchObject({ total: 5, imported: 0, advanced: 2, existing: 3 })
    expect(report.advanced).toEqual([
      {
        email: 'ahead@x.test',
        from: { status: 'active', lastSentStep: 0 },
        status: 'active',
        sentSteps: [1],
        next: { step: 2, dueAt: new Date(sent1.getTime() + 4 * DAY) },
      },
      {
        email: 'replied@x.test',
        from: { status: 'active', lastSentStep: 0 },
        status: 'replied',
        sentSteps: [],
        next: null,
      },
    ])
    // Only what concerns the steps added: step 1 has no send-log row.
    expect(report.issues.map((i) => [i.code, i.email, i.step])).toEqual([
      ['progress-without-log', 'ahead@x.test', 1],
    ])
  })

  it('leaves out leads already here', () => {
    const { leads, report } = plan(input({ leads: [{ email: 'jan@x.test', firstName: 'Jan' }] }), [
      'jan@x.test',
    ])
    expect(leads).toEqual([])
    expect(report.leads).toMatchObject({ imported: 0, existing: 1 })
  })

  it('refuses a malformed send log at once, naming the field', () => {
    expect(() => plan(input({ sendLog: [{ id: 'r1', to: 'a@x.test', sentAt: new Date('nope') }] }))).toThrow(
      'sendLog[0].sentAt',
    )
    expect(() => plan(input({ sendLog: [{ id: '', to: 'a@x.test', sentAt: NOW }] }))).toThrow('sendLog[0].id')
  })
})

describe('planImport: today, limits and pacing', () => {
  it('counts today’s rows for the campaign and their mailboxes, keyed by row, and paces from the last', () => {
    const { sends, report } = plan(
      input({
        leads: [{ email: 'a@x.test', firstName: 'A' }],
        sendLog: [
          row('old', 'a@x.test', 60 * 24 * 3),
          row('r1', 'b@x.test', 120),
          row('r2', 'c@x.test', 1, { mailbox: 'ben@acme.test' }),
        ],
      }),
    )
    expect(sends).toEqual([
      { key: 'legacy-mailbox:r1', mailbox: { id: '1', dayKey: '2026-01-05' } },
      { key: 'legacy-campaign:r1', campaign: { dayKey: '2026-01-05', nextSlotAt: null } },
      { key: 'legacy-mailbox:r2', mailbox: { id: '2', dayKey: '2026-01-05' } },
      {
        key: 'legacy-campaign:r2',
        // 90 s × (1 + 0.2 × (2 × 0.5 − 1)) after the last send.
        campaign: { dayKey: '2026-01-05', nextSlotAt: new Date(ago(1).getTime() + 90_000) },
      },
    ])
    expect(report.counted).toEqual({ campaign: 2, mailboxes: { 'anna@acme.test': 1, 'ben@acme.test': 1 } })
    expect(report.nextSlotAt).toEqual(new Date(ago(1).getTime() + 90_000))
  })

  it('adds what sentToday reports beyond the log as the mailbox’s n-th sends up to its limit, and warns over it', () => {
    const { sends, report } = plan(
      input({
        sendLog: [row('r1', 'b@x.test', 5, { mailbox: 'ben@acme.test' })],
        sentToday: { 'BEN@acme.test': 4, 'anna@acme.test': 0 },
      }),
    )
    expect(sends.filter((s) => s.key.startsWith('legacy-mailbox-day:')).map((s) => s.key)).toEqual([
      'legacy-mailbox-day:2:2026-01-05:0',
      'legacy-mailbox-day:2:2026-01-05:1',
    ])
    // The fourth reported send is past ben's limit of 3: the mailbox is full with or without it.
    expect(report.counted.mailboxes).toEqual({ 'ben@acme.test': 4 })
    expect(report.issues).toEqual([
      expect.objectContaining({ code: 'log-without-lead' }),
      expect.objectContaining({ code: 'mailbox-over-limit', mailbox: 'ben@acme.test' }),
    ])
  })

  it('never plans a step the progress or the log says was sent (property)', () => {
    const lead = fc.record({
      progressStep: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      logged: fc.integer({ min: 0, max: 3 }),
    })
    fc.assert(
      fc.property(fc.array(lead, { minLength: 1, maxLength: 8 }), (specs) => {
        const leads = specs.map((s, i) => ({
          email: `l${i}@x.test`,
          firstName: 'L',
          ...(s.progressStep === undefined
            ? {}
            : {
                progress: {
                  step: s.progressStep,
                  sentAt: ago(1000),
                  mailbox: 'anna@acme.test',
                  messageId: `<p${i}@a>`,
                },
              }),
        }))
        const sendLog = specs.flatMap((s, i) =>
          Array.from({ length: s.logged }, (_, k) => row(`r${i}.${k}`, `l${i}@x.test`, 2000 - k)),
        )
        const { leads: planned } = plan(input({ leads, sendLog }))
        for (const [i, s] of specs.entries()) {
          const sentUpTo = Math.max(s.progressStep ?? -1, s.logged - 1)
          const p = planned.find((l) => l.email === `l${i}@x.test`)
          if (sentUpTo > 2) {
            expect(p).toBeUndefined() // more log rows than steps: refused
            continue
          }
          expect(p!.history.map((h) => h.step)).toEqual(Array.from({ length: sentUpTo + 1 }, (_, k) => k))
          expect(p!.next?.step ?? 3).toBe(sentUpTo + 1)
        }
      }),
    )
  })
})
