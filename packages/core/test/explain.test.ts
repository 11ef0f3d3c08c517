import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Campaign, CampaignStatus, Mailbox, QueueStats } from '../src/model/types.js'
import { campaignDueAt } from '../src/scheduler/due.js'
import { type ExplainCode, type Explanation, explainCampaign } from '../src/scheduler/explain.js'
import type { DayCounts, DueCount } from '../src/store.js'
import { makeCampaign, makeMailbox } from './support/model.js'

const at = (iso: string) => new Date(iso)
/** Wednesday noon UTC: inside the default 09:00–17:00 weekday window. */
const WED_NOON = at('2026-01-07T12:00:00Z')

function makeQueue(overrides: Partial<QueueStats> = {}): QueueStats {
  return {
    pending: 3,
    sending: 0,
    sent: 10,
    failed: 1,
    cancelled: 0,
    nextScheduledAt: at('2026-01-01T08:00:00Z'),
    ...overrides,
  }
}

/**
 * Explains with the given store reads. Unless `due` is given, the pending items, when due, are
 * first emails (no mailbox yet).
 */
function explain(
  input: {
    campaign?: Partial<Campaign>
    mailboxes?: Mailbox[]
    queue?: Partial<QueueStats>
    counts?: Partial<DayCounts>
    due?: DueCount[]
    otherMailboxes?: Mailbox[]
    now?: Date
  } = {},
): Explanation {
  const queue = makeQueue(input.queue)
  const now = input.now ?? WED_NOON
  const isDue = queue.pending > 0 && queue.nextScheduledAt !== null && queue.nextScheduledAt <= now
  const mailboxes = input.mailboxes ?? [makeMailbox('mb-1')]
  return explainCampaign({
    // The store reads the campaign's mailboxes: unless told, the campaign has those given.
    campaign: makeCampaign({ mailboxIds: mailboxes.map((m) => m.id), ...input.campaign }),
    mailboxes,
    queue,
    counts: { campaign: 0, mailboxes: {}, ...input.counts },
    due: input.due ?? (isDue ? [{ mailboxId: null, windowKey: '', count: queue.pending }] : []),
    ...(input.otherMailboxes ? { otherMailboxes: input.otherMailboxes } : {}),
    now,
  })
}

const codes = (explanation: Explanation) => explanation.reasons.map((r) => r.code)
const reason = (explanation: Explanation, code: ExplainCode) =>
  explanation.reasons.find((r) => r.code === code)
/** The reasons without their (human-oriented) messages. */
const brief = (explanation: Explanation) =>
  explanation.reasons.map((r) => ({ code: r.code, ...(r.until === undefined ? {} : { until: r.until }) }))

describe('explainCampaign', () => {
  it('reports sending, with no reason, when nothing holds the campaign back', () => {
    const explanation = explain({ counts: { campaign: 12, mailboxes: { 'mb-1': 7 } } })
    expect(explanation).toEqual({
      sending: true,
      reasons: [],
      status: 'IN_PROGRESS',
      queue: makeQueue(),
      campaignDailySent: 12,
      maxEmailsPerDay: 500,
      mailboxes: [
        {
          id: 'mb-1',
          email: 'mb-1@acme.test',
          currentDailySent: 7,
          dailyEmailLimit: 50,
          rampedLimit: 50,
          currentHourlySent: 0,
          hourlyLimit: null,
          provider: null,
          pausedUntil: null,
          pauseReason: null,
        },
      ],
    })
  })

  describe('not-running', () => {
    it.each([
      ['DRAFT', 'startCampaign'],
      ['PAUSED', 'resumeCampaign'],
      ['COMPLETED', 'COMPLETED'],
      ['CANCELLED', 'CANCELLED'],
    ] as const)('is the only reason for a %s campaign that could otherwise send', (status, message) => {
      const explanation = explain({ campaign: { status } })
      expect(explanation.sending).toBe(false)
      expect(explanation.status).toBe(status)
      expect(brief(explanation)).toEqual([{ code: 'not-running' }])
      expect(reason(explanation, 'not-running')?.message).toContain(message)
    })
  })

  describe('queue-empty and not-due', () => {
    it('reports an empty queue, with the in-flight count', () => {
      const explanation = explain({
        queue: { pending: 0, sending: 2, sent: 5, failed: 1, nextScheduledAt: null },
      })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'queue-empty' }])
      expect(reason(explanation, 'queue-empty')?.message).toMatch(/5 sent, 1 failed.*2 being sent/)
      const idle = explain({ queue: { pending: 0, sending: 0, sent: 5, failed: 0, nextScheduledAt: null } })
      expect(brief(idle)).toEqual([{ code: 'queue-empty' }])
      expect(reason(idle, 'queue-empty')?.message).not.toContain('being sent')
    })

    it('reports not-due until the first pending item is due', () => {
      const due = at('2026-01-07T14:30:00Z')
      const explanation = explain({ queue: { pending: 4, nextScheduledAt: due } })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'not-due', until: due }])
      expect(reason(explanation, 'not-due')?.message).toContain('4 pending')
    })

    it('is due when the first item is due now or earlier', () => {
      expect(explain({ queue: { nextScheduledAt: WED_NOON } }).sending).toBe(true)
      expect(explain({ queue: { nextScheduledAt: at('2026-01-01T00:00:00Z') } }).sending).toBe(true)
    })

    it('does not report not-due when the queue is empty', () => {
      const explanation = explain({ queue: { pending: 0, nextScheduledAt: at('2026-01-08T00:00:00Z') } })
      expect(codes(explanation)).toEqual(['queue-empty'])
    })
  })

  describe('outside-window', () => {
    it.each([
      ['after hours on a weekday', '2026-01-07T18:00:00Z', '2026-01-08T09:00:00.000Z'],
      ['before hours on a weekday', '2026-01-07T07:15:00Z', '2026-01-07T09:00:00.000Z'],
      ['at the window end (exclusive)', '2026-01-07T17:00:00Z', '2026-01-08T09:00:00.000Z'],
      ['on Friday evening', '2026-01-09T20:00:00Z', '2026-01-12T09:00:00.000Z'],
      ['on Saturday within hours', '2026-01-10T10:00:00Z', '2026-01-12T09:00:00.000Z'],
    ])('holds %s until the next window opens', (_label, now, opens) => {
      const explanation = explain({ now: at(now) })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'outside-window', until: at(opens) }])
      expect(reason(explanation, 'outside-window')?.message).toContain('09:00–17:00 MON,TUE,WED,THU,FRI UTC')
    })

    it('is inside at the window start', () => {
      expect(explain({ now: at('2026-01-07T09:00:00Z') }).sending).toBe(true)
      expect(explain({ now: at('2026-01-07T16:59:59Z') }).sending).toBe(true)
    })

    it('reads the window in the campaign time zone', () => {
      const campaign = { timezone: 'Europe/Warsaw', startHour: 8, startMinute: 30 }
      // 08:15 in Warsaw (UTC+1 in January): not open yet.
      const before = explain({ campaign, now: at('2026-01-07T07:15:00Z') })
      expect(codes(before)).toEqual(['outside-window'])
      expect(reason(before, 'outside-window')?.until).toEqual(at('2026-01-07T07:30:00Z'))
      expect(reason(before, 'outside-window')?.message).toContain(
        '08:30–17:00 MON,TUE,WED,THU,FRI Europe/Warsaw',
      )
      // 16:30 in Warsaw: open.
      expect(explain({ campaign, now: at('2026-01-07T15:30:00Z') }).sending).toBe(true)
    })

    it('handles a window that crosses midnight', () => {
      const campaign = { startHour: 22, endHour: 2, allowedDays: 'FRI' }
      // Saturday 01:00 belongs to Friday's window.
      expect(explain({ campaign, now: at('2026-01-10T01:00:00Z') }).sending).toBe(true)
      const after = explain({ campaign, now: at('2026-01-10T02:00:00Z') })
      expect(reason(after, 'outside-window')?.until).toEqual(at('2026-01-16T22:00:00Z'))
    })
  })

  describe('pacing', () => {
    it('holds the campaign until its next slot', () => {
      const slot = at('2026-01-07T12:01:30Z')
      const explanation = explain({ campaign: { nextSlotAt: slot } })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'pacing', until: slot }])
      expect(reason(explanation, 'pacing')?.message).toContain('delayBetweenEmails 90s ± 20%')
    })

    it('does not hold once the slot is reached', () => {
      expect(explain({ campaign: { nextSlotAt: WED_NOON } }).sending).toBe(true)
      expect(explain({ campaign: { nextSlotAt: at('2026-01-07T11:00:00Z') } }).sending).toBe(true)
    })
  })

  describe('campaign-limit', () => {
    it('holds a campaign at maxEmailsPerDay until the next window day opens', () => {
      const explanation = explain({ counts: { campaign: 500 } })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'campaign-limit', until: at('2026-01-08T09:00:00Z') }])
      expect(reason(explanation, 'campaign-limit')?.message).toContain(
        'sent 500 of maxEmailsPerDay 500 today',
      )
      expect(explanation.campaignDailySent).toBe(500)
    })

    it('resets on Monday when the cap is reached on Friday', () => {
      const explanation = explain({ counts: { campaign: 600 }, now: at('2026-01-09T15:00:00Z') })
      expect(reason(explanation, 'campaign-limit')?.until).toEqual(at('2026-01-12T09:00:00Z'))
    })

    it('is not reported below the cap', () => {
      expect(explain({ counts: { campaign: 499 } }).sending).toBe(true)
    })

    it('holds a campaign whose cap is 0', () => {
      expect(codes(explain({ campaign: { maxEmailsPerDay: 0 } }))).toEqual(['campaign-limit'])
    })

    it('outside the window, counts the next window day and clears after it', () => {
      const explanation = explain({ counts: { campaign: 500 }, now: at('2026-01-07T20:00:00Z') })
      expect(codes(explanation)).toEqual(['outside-window', 'campaign-limit'])
      expect(reason(explanation, 'outside-window')?.until).toEqual(at('2026-01-08T09:00:00Z'))
      expect(reason(explanation, 'campaign-limit')?.until).toEqual(at('2026-01-09T09:00:00Z'))
    })
  })

  describe('mailbox-limit', () => {
    it('holds when every mailbox is at its dailyEmailLimit, until the next local midnight inside the window', () => {
      const explanation = explain({
        mailboxes: [makeMailbox('mb-1'), makeMailbox('mb-2', { dailyEmailLimit: 20 })],
        counts: { mailboxes: { 'mb-1': 50, 'mb-2': 21 } },
      })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'mailbox-limit', until: at('2026-01-08T09:00:00Z') }])
      expect(reason(explanation, 'mailbox-limit')?.message).toMatch(
        /mb-1@acme\.test 50\/50.*mb-2@acme\.test 21\/20/,
      )
      expect(explanation.mailboxes.map((m) => m.currentDailySent)).toEqual([50, 21])
    })

    it('is not reported while one mailbox still has room', () => {
      const explanation = explain({
        mailboxes: [makeMailbox('mb-1'), makeMailbox('mb-2')],
        counts: { mailboxes: { 'mb-1': 50, 'mb-2': 49 } },
      })
      expect(explanation.sending).toBe(true)
    })

    it('uses the mailbox time zone for its reset', () => {
      // Midnight in Tokyo (UTC+9) is 15:00 UTC, inside the campaign window.
      const explanation = explain({
        mailboxes: [makeMailbox('mb-1'), makeMailbox('mb-2', { timezone: 'Asia/Tokyo' })],
        counts: { mailboxes: { 'mb-1': 50, 'mb-2': 50 } },
      })
      expect(reason(explanation, 'mailbox-limit')?.until).toEqual(at('2026-01-07T15:00:00Z'))
    })

    it('counts a mailbox with a limit of 0 as full', () => {
      const explanation = explain({ mailboxes: [makeMailbox('mb-1', { dailyEmailLimit: 0 })] })
      expect(codes(explanation)).toEqual(['mailbox-limit'])
    })

    it('considers only mailboxes that are not paused', () => {
      const explanation = explain({
        mailboxes: [
          makeMailbox('mb-1', { pausedUntil: at('2026-01-07T13:00:00Z'), pauseReason: '421 4.7.0' }),
          makeMailbox('mb-2'),
        ],
        counts: { mailboxes: { 'mb-2': 50 } },
      })
      expect(codes(explanation)).toEqual(['mailbox-limit'])
      expect(reason(explanation, 'mailbox-limit')?.message).toContain('mb-2@acme.test 50/50')
      expect(reason(explanation, 'mailbox-limit')?.message).not.toContain('mb-1@acme.test')
    })

    // At 13:00 mb-1 is active again with room, so the reason stops holding then, not tomorrow.
    it('clears the mailbox-limit when a paused mailbox with room comes back first', () => {
      const explanation = explain({
        mailboxes: [makeMailbox('mb-1', { pausedUntil: at('2026-01-07T13:00:00Z') }), makeMailbox('mb-2')],
        counts: { mailboxes: { 'mb-2': 50 } },
      })
      expect(codes(explanation)).toEqual(['mailbox-limit'])
      expect(reason(explanation, 'mailbox-limit')?.until).toEqual(at('2026-01-07T13:00:00Z'))
    })
  })

  describe('mailbox-paused', () => {
    it('holds when every mailbox is paused, until the first pause ends', () => {
      const explanation = explain({
        mailboxes: [
          makeMailbox('mb-1', {
            pausedUntil: at('2026-01-07T18:00:00Z'),
            pauseReason: '535 5.7.8 bad login',
          }),
          makeMailbox('mb-2', { pausedUntil: at('2026-01-07T12:15:00Z'), pauseReason: null }),
        ],
      })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'mailbox-paused', until: at('2026-01-07T12:15:00Z') }])
      expect(reason(explanation, 'mailbox-paused')?.message).toContain('mb-1@acme.test: 535 5.7.8 bad login')
      expect(reason(explanation, 'mailbox-paused')?.message).toContain('mb-2@acme.test')
      expect(explanation.mailboxes.map((m) => [m.pausedUntil, m.pauseReason])).toEqual([
        [at('2026-01-07T18:00:00Z'), '535 5.7.8 bad login'],
        [at('2026-01-07T12:15:00Z'), null],
      ])
    })

    it('does not report mailbox-limit for paused mailboxes that are also full', () => {
      const explanation = explain({
        mailboxes: [makeMailbox('mb-1', { pausedUntil: at('2026-01-07T13:00:00Z') })],
        counts: { mailboxes: { 'mb-1': 50 } },
      })
      expect(codes(explanation)).toEqual(['mailbox-paused'])
    })

    it('is not reported while one mailbox is active', () => {
      const explanation = explain({
        mailboxes: [makeMailbox('mb-1', { pausedUntil: at('2026-01-08T00:00:00Z') }), makeMailbox('mb-2')],
      })
      expect(explanation.sending).toBe(true)
    })

    it('treats a pause that ended (now or earlier) as no pause', () => {
      expect(explain({ mailboxes: [makeMailbox('mb-1', { pausedUntil: WED_NOON })] }).sending).toBe(true)
      expect(
        explain({ mailboxes: [makeMailbox('mb-1', { pausedUntil: at('2026-01-07T11:00:00Z') })] }).sending,
      ).toBe(true)
    })

    it('reports a campaign without mailboxes, with no until', () => {
      const explanation = explain({ mailboxes: [] })
      expect(brief(explanation)).toEqual([{ code: 'mailbox-paused' }])
      expect(reason(explanation, 'mailbox-paused')?.message).toContain('none configured')
      expect(explanation.mailboxes).toEqual([])
    })
  })

  describe('due emails tied to a mailbox', () => {
    const full = makeMailbox('mb-1', { dailyEmailLimit: 20 })
    const free = makeMailbox('mb-2')
    const counts = { mailboxes: { 'mb-1': 20, 'mb-2': 3 } }
    const mailboxes = [full, free]
    const campaign = {}

    // The case: tick() reported mailbox-limit while explain() said sending.
    it('holds follow-ups whose mailbox is full while the others have room: mailbox-limit until its midnight', () => {
      const explanation = explain({
        campaign,
        mailboxes,
        counts,
        due: [{ mailboxId: 'mb-1', windowKey: '', count: 3 }],
      })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'mailbox-limit', until: at('2026-01-08T09:00:00Z') }])
      const message = reason(explanation, 'mailbox-limit')!.message
      expect(message).toContain('3 due emails wait for the mailbox of their thread')
      expect(message).toContain('mb-1@acme.test 20/20 (3)')
      expect(message).not.toContain('mb-2@acme.test')
    })

    it("clears at the full mailbox's own local midnight, not another's", () => {
      const tokyo = makeMailbox('mb-1', { dailyEmailLimit: 20, timezone: 'Asia/Tokyo', skipDates: [] })
      const explanation = explain({
        campaign,
        mailboxes: [tokyo, free],
        counts,
        due: [{ mailboxId: 'mb-1', windowKey: '', count: 1 }],
      })
      expect(brief(explanation)).toEqual([{ code: 'mailbox-limit', until: at('2026-01-07T15:00:00Z') }])
      expect(reason(explanation, 'mailbox-limit')!.message).toContain('1 due email waits')
    })

    it('sends when a first email is due beside them, or a follow-up of a mailbox with room', () => {
      const mixed = explain({
        campaign,
        mailboxes,
        counts,
        due: [
          { mailboxId: 'mb-1', windowKey: '', count: 3 },
          { mailboxId: null, windowKey: '', count: 1 },
        ],
      })
      expect(mixed.sending).toBe(true)
      const ownRoom = explain({
        campaign,
        mailboxes,
        counts,
        due: [
          { mailboxId: 'mb-1', windowKey: '', count: 3 },
          { mailboxId: 'mb-2', windowKey: '', count: 1 },
        ],
      })
      expect(ownRoom.sending).toBe(true)
    })

    it('holds follow-ups whose mailbox is paused while the others are free: mailbox-paused until it resumes', () => {
      const paused = makeMailbox('mb-1', {
        pausedUntil: at('2026-01-07T12:15:00Z'),
        pauseReason: '421 4.7.0',
      })
      const explanation = explain({
        campaign,
        mailboxes: [paused, free],
        due: [{ mailboxId: 'mb-1', windowKey: '', count: 2 }],
      })
      expect(explanation.sending).toBe(false)
      expect(brief(explanation)).toEqual([{ code: 'mailbox-paused', until: at('2026-01-07T12:15:00Z') }])
      expect(reason(explanation, 'mailbox-paused')!.message).toMatch(
        /2 due emails wait for the mailbox of their thread, paused: mb-1@acme\.test \(2\): 421 4\.7\.0 until Wed 2026-01-07 12:15/,
      )
    })

    it('names each mailbox the due emails wait for, with one reason per kind', () => {
      const paused = makeMailbox('mb-3', { pausedUntil: at('2026-01-07T18:00:00Z') })
      const explanation = explain({
        campaign: { mailboxIds: ['mb-1', 'mb-2', 'mb-3'] },
        mailboxes: [full, free, paused],
        counts,
        due: [
          { mailboxId: 'mb-3', windowKey: '', count: 1 },
          { mailboxId: 'mb-1', windowKey: '', count: 2 },
          { mailboxId: 'gone', windowKey: '', count: 4 },
        ],
        otherMailboxes: [makeMailbox('gone', { email: 'old@acme.test' })],
      })
      expect(brief(explanation)).toEqual([
        { code: 'mailbox-limit', until: at('2026-01-08T09:00:00Z') },
        { code: 'mailbox-paused', until: at('2026-01-07T18:00:00Z') },
        { code: 'mailbox-removed' },
      ])
      expect(reason(explanation, 'mailbox-removed')!.message).toContain(
        "4 due emails wait for the mailbox of their thread, no longer among the campaign's mailboxIds: old@acme.test (4)",
      )
    })

    it("holds follow-ups whose mailbox is no longer the campaign's, by id when it is unknown", () => {
      const explanation = explain({
        campaign: { mailboxIds: ['mb-2'] },
        mailboxes: [free],
        due: [{ mailboxId: 'mb-1', windowKey: '', count: 1 }],
      })
      expect(brief(explanation)).toEqual([{ code: 'mailbox-removed' }])
      expect(reason(explanation, 'mailbox-removed')!.message).toContain('mailbox mb-1 (1)')
    })

    it('reports every mailbox full when first emails are due, whatever follow-ups wait for', () => {
      const explanation = explain({
        campaign,
        mailboxes: [full, makeMailbox('mb-2', { dailyEmailLimit: 3 })],
        counts,
        due: [
          { mailboxId: null, windowKey: '', count: 1 },
          { mailboxId: 'mb-1', windowKey: '', count: 1 },
        ],
      })
      expect(codes(explanation)).toEqual(['mailbox-limit'])
      expect(reason(explanation, 'mailbox-limit')!.message).toContain(
        'every mailbox is at its dailyEmailLimit',
      )
    })

    it('looks at the mailboxes alone when nothing is due, or the due read found nothing', () => {
      const later = explain({
        campaign,
        mailboxes,
        counts,
        queue: { nextScheduledAt: at('2026-01-07T13:00:00Z') },
        due: [],
      })
      expect(codes(later)).toEqual(['not-due'])
      expect(explain({ campaign, mailboxes, counts, due: [] }).sending).toBe(true)
    })
  })

  it('lists every reason that holds at once, in a stable order', () => {
    const explanation = explain({
      campaign: { status: 'PAUSED', nextSlotAt: at('2026-01-10T12:00:00Z') },
      queue: { pending: 0, nextScheduledAt: null },
      counts: { campaign: 500 },
      mailboxes: [makeMailbox('mb-1', { pausedUntil: at('2026-01-11T00:00:00Z') })],
      now: at('2026-01-10T10:00:00Z'),
    })
    expect(codes(explanation)).toEqual([
      'not-running',
      'queue-empty',
      'outside-window',
      'pacing',
      'campaign-limit',
      'mailbox-paused',
    ])
    expect(explanation.sending).toBe(false)
  })

  it('reports each mailbox state, defaulting a missing count to 0', () => {
    const paused = at('2026-01-07T13:00:00Z')
    const explanation = explain({
      mailboxes: [
        makeMailbox('mb-1', { dailyEmailLimit: 40 }),
        makeMailbox('mb-2', { pausedUntil: paused, pauseReason: 'throttled' }),
      ],
      counts: { campaign: 9, mailboxes: { 'mb-1': 17, other: 99 } },
    })
    expect(explanation.mailboxes).toEqual([
      {
        id: 'mb-1',
        email: 'mb-1@acme.test',
        currentDailySent: 17,
        dailyEmailLimit: 40,
        rampedLimit: 40,
        currentHourlySent: 0,
        hourlyLimit: null,
        provider: null,
        pausedUntil: null,
        pauseReason: null,
      },
      {
        id: 'mb-2',
        email: 'mb-2@acme.test',
        currentDailySent: 0,
        dailyEmailLimit: 50,
        rampedLimit: 50,
        currentHourlySent: 0,
        hourlyLimit: null,
        provider: null,
        pausedUntil: paused,
        pauseReason: 'throttled',
      },
    ])
    expect(explanation.campaignDailySent).toBe(9)
  })

  it('reports each code exactly when its condition holds (property)', () => {
    const instants = [
      { now: WED_NOON, inWindow: true },
      { now: at('2026-01-07T20:00:00Z'), inWindow: false },
      { now: at('2026-01-10T12:00:00Z'), inWindow: false },
      { now: at('2026-01-09T09:00:00Z'), inWindow: true },
    ]
    const statuses: CampaignStatus[] = ['DRAFT', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'CANCELLED']
    const offsetMs = fc.constantFrom(-3_600_000, 0, 3_600_000)
    const mailboxArb = fc.record({
      pausedBy: fc.option(offsetMs),
      sent: fc.integer({ min: 0, max: 3 }),
      /** Due emails tied to this mailbox. */
      tied: fc.integer({ min: 0, max: 2 }),
    })
    fc.assert(
      fc.property(
        fc.record({
          when: fc.constantFrom(...instants),
          status: fc.constantFrom(...statuses),
          pending: fc.integer({ min: 0, max: 2 }),
          dueBy: fc.option(offsetMs),
          slotBy: fc.option(offsetMs),
          campaignSent: fc.integer({ min: 0, max: 3 }),
          mailboxes: fc.array(mailboxArb, { minLength: 0, maxLength: 3 }),
          /** Due first emails, and due emails tied to a mailbox the campaign no longer has. */
          unassigned: fc.integer({ min: 0, max: 2 }),
          removed: fc.integer({ min: 0, max: 2 }),
        }),
        (c) => {
          const nowMs = c.when.now.getTime()
          const shift = (by: number | null) => (by === null ? null : new Date(nowMs + by))
          const mailboxes = c.mailboxes.map((m, i) =>
            makeMailbox(`mb-${i}`, { dailyEmailLimit: 2, pausedUntil: shift(m.pausedBy) }),
          )
          const itemsDue = c.pending > 0 && (c.dueBy === null || c.dueBy <= 0)
          const due: DueCount[] = !itemsDue
            ? []
            : [
                ...(c.unassigned > 0 ? [{ mailboxId: null, windowKey: '', count: c.unassigned }] : []),
                ...(c.removed > 0 ? [{ mailboxId: 'mb-gone', windowKey: '', count: c.removed }] : []),
                ...c.mailboxes.flatMap((m, i) =>
                  m.tied > 0 ? [{ mailboxId: `mb-${i}`, windowKey: '', count: m.tied }] : [],
                ),
              ]
          const explanation = explainCampaign({
            campaign: makeCampaign({
              status: c.status,
              nextSlotAt: shift(c.slotBy),
              maxEmailsPerDay: 2,
              mailboxIds: mailboxes.map((m) => m.id),
            }),
            mailboxes,
            queue: makeQueue({ pending: c.pending, nextScheduledAt: c.pending ? shift(c.dueBy) : null }),
            counts: {
              campaign: c.campaignSent,
              mailboxes: Object.fromEntries(c.mailboxes.map((m, i) => [`mb-${i}`, m.sent])),
            },
            due,
            now: c.when.now,
          })
          const isActive = (m: { pausedBy: number | null }) => m.pausedBy === null || m.pausedBy <= 0
          const active = c.mailboxes.filter(isActive)
          const withRoom = active.filter((m) => m.sent < 2)
          const expected: ExplainCode[] = []
          if (c.status !== 'IN_PROGRESS') expected.push('not-running')
          if (c.pending === 0) expected.push('queue-empty')
          else if (c.dueBy !== null && c.dueBy > 0) expected.push('not-due')
          if (!c.when.inWindow) expected.push('outside-window')
          if (c.slotBy !== null && c.slotBy > 0) expected.push('pacing')
          if (c.campaignSent >= 2) expected.push('campaign-limit')
          if (active.length === 0) expected.push('mailbox-paused')
          else if (due.length === 0) {
            if (withRoom.length === 0) expected.push('mailbox-limit')
          } else {
            const leaves = (c.unassigned > 0 && withRoom.length > 0) || withRoom.some((m) => m.tied > 0)
            const tiedTo = c.mailboxes.filter((m) => m.tied > 0)
            if (!leaves) {
              if (c.unassigned > 0 || tiedTo.some((m) => isActive(m) && m.sent >= 2))
                expected.push('mailbox-limit')
              if (tiedTo.some((m) => !isActive(m))) expected.push('mailbox-paused')
              if (c.removed > 0) expected.push('mailbox-removed')
            }
          }
          expect(codes(explanation)).toEqual(expected)
          expect(explanation.sending).toBe(expected.length === 0)
          for (const r of explanation.reasons) {
            if (r.until !== undefined) expect(r.until.getTime()).toBeGreaterThan(nowMs)
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  // The tick holds a campaign for one of these three reasons (campaignDueAt); explain() lists it.
  it("lists the window, pacing or due reason the tick's campaignDueAt holds a campaign for (property)", () => {
    const campaign = { startHour: 22, endHour: 2, allowedDays: 'MON,WED,THU' }
    const base = at('2026-01-07T00:00:00Z').getTime()
    const quarterHours = fc.integer({ min: 0, max: 4 * 24 * 3 }).map((q) => new Date(base + q * 900_000))
    fc.assert(
      fc.property(quarterHours, fc.option(quarterHours), quarterHours, (now, slot, nextItemAt) => {
        const made = makeCampaign({ ...campaign, nextSlotAt: slot })
        const { heldBy, at: dueAt } = campaignDueAt(made, nextItemAt, now)
        const explanation = explain({
          campaign: { ...campaign, nextSlotAt: slot },
          queue: { nextScheduledAt: nextItemAt },
          now,
        })
        const timeCodes = codes(explanation).filter((code) =>
          ['outside-window', 'pacing', 'not-due'].includes(code),
        )
        if (heldBy === null) expect(timeCodes).toEqual([])
        else expect(timeCodes).toContain(heldBy)
        expect(dueAt.getTime()).toBeGreaterThanOrEqual(now.getTime())
        // The tick's until is never earlier than when any reason explain() lists clears.
        for (const r of explanation.reasons)
          if (r.until) expect(dueAt.getTime()).toBeGreaterThanOrEqual(r.until.getTime())
      }),
      { numRuns: 500 },
    )
  })
})
