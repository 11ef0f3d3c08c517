import { expect, it } from 'vitest'
import type { Mailbox } from '../../model/types.js'
import type { SchedulerEvent, TickSkipReason } from '../../scheduler/events.js'
import type { ExplainCode, Explanation } from '../../scheduler/explain.js'
import { campaign, DAY, type Env, type EnvFn, HOUR, leads, MINUTE, MONDAY, mailbox } from './harness.js'

/**
 * The explain() codes a tick's skip reason stands for. The names are the same, with two legitimate
 * differences:
 * - a store refuses with `mailbox-limit` whenever no due email has a candidate mailbox with room.
 *   Core offers it only the campaign's mailboxes that are not paused, so it cannot tell an email
 *   waiting for its thread's paused mailbox (explain: `mailbox-paused`) or for a mailbox the
 *   campaign no longer has (`mailbox-removed`) from one waiting for its full mailbox;
 * - a mailbox on one of its skip dates is no candidate, like a paused one: an email waiting for its
 *   thread's mailbox on a skip date is refused as `mailbox-limit` too (explain: `skip-date`);
 * - `window-closed` is the store's word for the tick's `lead-window` or `skip-date` (the open keys'
 *   emails went between the tick's read of the keys and its reservation);
 * - `lease-expired` holds nothing back: a reservation's lease ran out before its send and the
 *   email is pending again, so explain() has no reason for it.
 */
export const EXPLAINED_BY: Record<TickSkipReason, readonly ExplainCode[]> = {
  // A guard's pause (of the campaign, or of the mailboxes) is explained as `guard`, with its figures.
  'not-running': ['not-running', 'guard'],
  pacing: ['pacing'],
  'campaign-limit': ['campaign-limit'],
  'queue-empty': ['queue-empty'],
  'window-closed': ['lead-window', 'skip-date'],
  'not-due': ['not-due'],
  'mailbox-limit': ['mailbox-limit', 'ramp-limit', 'mailbox-paused', 'mailbox-removed', 'skip-date', 'guard'],
  'hourly-limit': ['hourly-limit'],
  'domain-limit': ['domain-limit'],
  'outside-window': ['outside-window'],
  'mailbox-paused': ['mailbox-paused', 'guard'],
  'lead-window': ['lead-window'],
  'skip-date': ['skip-date'],
  'lease-expired': [],
  'provider-wait': ['provider-wait'],
}

interface Case {
  name: string
  /** Where the fake clock starts; Monday 08:00 UTC unless told. */
  start?: Date
  /** Builds the case; returns the campaign to explain and tick. */
  build(e: Env): Promise<string>
  /** explain()'s codes, in order; empty when it says `sending`. */
  explain: ExplainCode[]
  /** When each listed reason clears, where the case fixes it. */
  until?: Partial<Record<ExplainCode, Date>>
  /**
   * What the tick reports when it sends nothing: its skip reason, or null when it does not look at
   * the campaign (not running; drained; or, on a store with `listDueCampaigns`, nothing due).
   */
  tick: ReadonlyArray<TickSkipReason | null>
  /** Checks on the messages: each text must appear in the reason with that code. */
  messages?: Partial<Record<ExplainCode, string[]>>
}

const SOON = new Date(MONDAY.getTime() + HOUR)
const TUESDAY = new Date('2026-01-06T00:00:00.000Z')

/** The cases that hold a campaign back (and a few that do not), each built through the scheduler. */
const CASES: Case[] = [
  {
    name: 'a campaign not started',
    build: async (e) => (await started(e, { start: false })).id,
    explain: ['not-running'],
    tick: [null],
  },
  {
    name: 'a paused campaign',
    build: async (e) => {
      const c = await started(e)
      await e.scheduler.pauseCampaign(c.id)
      return c.id
    },
    explain: ['not-running'],
    tick: [null],
  },
  {
    name: 'an empty queue',
    build: async (e) => (await started(e, { leads: 0 })).id,
    explain: ['queue-empty'],
    tick: [null, 'queue-empty'],
  },
  {
    name: 'a first email due',
    build: async (e) => (await started(e)).id,
    explain: [],
    tick: [],
  },
  {
    name: 'the next email not due yet',
    build: async (e) => {
      const c = await started(e, { followUpAfter: DAY })
      await sendFirst(e, 1)
      return c.id
    },
    explain: ['not-due'],
    until: { 'not-due': new Date(MONDAY.getTime() + DAY) },
    tick: [null, 'not-due'],
  },
  {
    name: 'outside the window',
    build: async (e) => (await started(e, { overrides: { startHour: 9, endHour: 17 } })).id,
    explain: ['outside-window'],
    until: { 'outside-window': new Date('2026-01-05T09:00:00.000Z') },
    tick: ['outside-window'],
  },
  {
    name: 'outside a window crossing midnight',
    build: async (e) =>
      (await started(e, { overrides: { startHour: 22, endHour: 2, allowedDays: 'MON' } })).id,
    explain: ['outside-window'],
    until: { 'outside-window': new Date('2026-01-05T22:00:00.000Z') },
    tick: ['outside-window'],
  },
  {
    name: 'inside a window crossing midnight, after midnight',
    start: new Date('2026-01-06T01:00:00.000Z'),
    build: async (e) =>
      (await started(e, { overrides: { startHour: 22, endHour: 2, allowedDays: 'MON' } })).id,
    explain: [],
    tick: [],
  },
  {
    name: 'pacing',
    build: async (e) => {
      const c = await started(e, { leads: 2, overrides: { delayBetweenEmails: 600 } })
      await sendFirst(e, 1)
      return c.id
    },
    explain: ['pacing'],
    until: { pacing: new Date(MONDAY.getTime() + 10 * MINUTE) },
    tick: ['pacing'],
  },
  {
    // The tick used to report outside-window here, while the window was open.
    name: 'pacing past the end of the window',
    start: new Date('2026-01-05T16:55:00.000Z'),
    build: async (e) => {
      const c = await started(e, {
        leads: 2,
        overrides: { startHour: 8, endHour: 17, delayBetweenEmails: 600 },
      })
      await sendFirst(e, 1)
      return c.id
    },
    explain: ['pacing'],
    until: { pacing: new Date('2026-01-05T17:05:00.000Z') },
    tick: ['pacing'],
  },
  {
    name: 'the campaign at maxEmailsPerDay',
    build: async (e) => {
      const c = await started(e, { leads: 2, overrides: { maxEmailsPerDay: 1 } })
      await sendFirst(e, 1)
      return c.id
    },
    explain: ['campaign-limit'],
    until: { 'campaign-limit': TUESDAY },
    tick: ['campaign-limit'],
  },
  {
    name: 'every mailbox at its dailyEmailLimit',
    build: async (e) => {
      const c = await started(e, { leads: 3, limits: [1, 1] })
      await sendFirst(e, 2)
      return c.id
    },
    explain: ['mailbox-limit'],
    until: { 'mailbox-limit': TUESDAY },
    tick: ['mailbox-limit'],
  },
  {
    name: 'every mailbox paused',
    build: async (e) => {
      const c = await started(e, { limits: [100, 100] })
      await e.scheduler.pauseMailbox(c.boxes[0]!.id, { until: new Date(MONDAY.getTime() + 2 * HOUR) })
      await e.scheduler.pauseMailbox(c.boxes[1]!.id, { until: SOON, reason: 'throttled' })
      return c.id
    },
    explain: ['mailbox-paused'],
    until: { 'mailbox-paused': SOON },
    tick: ['mailbox-paused'],
  },
  {
    // The case: the tick said mailbox-limit, explain() said sending.
    name: "only follow-ups due, their thread's mailbox full, another mailbox with room",
    build: async (e) => (await followUpsDue(e, 'full')).id,
    explain: ['mailbox-limit'],
    until: { 'mailbox-limit': TUESDAY },
    messages: { 'mailbox-limit': ['1 due email waits for the mailbox of their thread', '2/2'] },
    tick: ['mailbox-limit'],
  },
  {
    name: "only follow-ups due, their thread's mailbox paused, another mailbox free",
    build: async (e) => (await followUpsDue(e, 'paused')).id,
    explain: ['mailbox-paused'],
    until: { 'mailbox-paused': new Date(SOON.getTime() + HOUR) },
    messages: { 'mailbox-paused': ['bounced off 421'] },
    tick: ['mailbox-limit'],
  },
  {
    name: "only follow-ups due, their thread's mailbox no longer the campaign's",
    build: async (e) => (await followUpsDue(e, 'removed')).id,
    explain: ['mailbox-removed'],
    tick: ['mailbox-limit'],
  },
  {
    // The store checks the campaign's cap first; explain() lists both.
    name: 'follow-ups waiting for their full mailbox while the campaign is at maxEmailsPerDay',
    build: async (e) => (await followUpsDue(e, 'full', { overrides: { maxEmailsPerDay: 1 } })).id,
    explain: ['campaign-limit', 'mailbox-limit'],
    until: { 'campaign-limit': TUESDAY, 'mailbox-limit': TUESDAY },
    tick: ['campaign-limit'],
  },
  {
    name: 'a follow-up due tomorrow, after the window has closed today',
    start: new Date('2026-01-05T16:00:00.000Z'),
    build: async (e) => {
      const c = await started(e, { followUpAfter: 18 * HOUR, overrides: { startHour: 8, endHour: 17 } })
      await sendFirst(e, 1)
      e.clock.set(new Date('2026-01-05T17:30:00.000Z'))
      return c.id
    },
    explain: ['not-due', 'outside-window'],
    until: {
      'not-due': new Date('2026-01-06T10:00:00.000Z'),
      'outside-window': new Date('2026-01-06T08:00:00.000Z'),
    },
    tick: [null, 'not-due', 'outside-window'],
  },
  {
    name: 'first emails due beside follow-ups waiting for their full mailbox',
    build: async (e) => {
      const c = await followUpsDue(e, 'full')
      await e.scheduler.addLeads(c.id, leads(1, 'late'))
      return c.id
    },
    explain: [],
    tick: [],
  },
  {
    name: 'a skip date of the campaign, inside its hours',
    build: async (e) =>
      (await started(e, { overrides: { startHour: 8, endHour: 17, skipDates: ['2026-01-05'] } })).id,
    explain: ['skip-date'],
    until: { 'skip-date': new Date('2026-01-06T08:00:00.000Z') },
    messages: { 'skip-date': ['2026-01-05'] },
    tick: ['skip-date'],
  },
  {
    name: "every lead's zone outside its window (lead time zones)",
    build: async (e) => {
      // Monday 08:00 UTC is 17:00 in Tokyo: its 09:00–17:00 has just closed.
      const c = await started(e, {
        leads: 0,
        start: false,
        overrides: { windowTimezone: 'lead', startHour: 9, endHour: 17 },
      })
      await e.scheduler.addLeads(c.id, [{ email: 'tokyo@example.com', timezone: 'Asia/Tokyo' }])
      await e.scheduler.startCampaign(c.id)
      return c.id
    },
    explain: ['lead-window'],
    until: { 'lead-window': new Date('2026-01-06T00:00:00.000Z') },
    messages: { 'lead-window': ['Asia/Tokyo'] },
    tick: ['lead-window'],
  },
  {
    name: 'the only mailbox on one of its skip dates',
    build: async (e) => {
      const c = await started(e)
      await e.scheduler.updateMailbox(c.boxes[0]!.id, { skipDates: ['2026-01-05'] })
      return c.id
    },
    explain: ['skip-date'],
    until: { 'skip-date': TUESDAY },
    tick: ['skip-date'],
  },
  {
    name: 'follow-ups waiting for their full mailbox beside emails of stopped leads',
    build: async (e) => {
      const c = await followUpsDue(e, 'full', { leads: 2 })
      // Lead 1's follow-up (on the mailbox with room) and a new lead's first email are cancelled.
      await e.scheduler.markReplied(c.id, 'lead1@example.com')
      await e.scheduler.addLeads(c.id, leads(1, 'late'))
      await e.scheduler.suppress('late0@example.com', 'unsubscribed')
      return c.id
    },
    explain: ['mailbox-limit'],
    until: { 'mailbox-limit': TUESDAY },
    tick: ['mailbox-limit'],
  },
  // Provider matching: consumer domains, whose provider needs no MX lookup.
  {
    name: 'strict provider matching, no mailbox of the recipients’ provider',
    build: async (e) => (await strictGmail(e, [['outlook.com', 100]])).id,
    explain: ['provider-wait'],
    messages: { 'provider-wait': ['google (2 emails)', 'none among the campaign'] },
    tick: ['provider-wait'],
  },
  {
    name: 'strict provider matching, the mailbox of the recipients’ provider full',
    build: async (e) => {
      const c = await strictGmail(e, [
        ['gmail.com', 1],
        ['outlook.com', 100],
      ])
      await sendFirst(e, 1)
      return c.id
    },
    explain: ['provider-wait'],
    until: { 'provider-wait': TUESDAY },
    messages: { 'provider-wait': ['google (1 email)', '1/1'] },
    tick: ['provider-wait'],
  },
  {
    name: 'prefer provider matching, the mailbox of the recipients’ provider full: sends',
    build: async (e) => {
      const c = await strictGmail(
        e,
        [
          ['gmail.com', 1],
          ['outlook.com', 100],
        ],
        'prefer',
      )
      await sendFirst(e, 1)
      return c.id
    },
    explain: [],
    tick: [],
  },
]

/** A matching campaign over mailboxes of the given domains and limits, with two gmail.com leads. */
async function strictGmail(
  e: Env,
  domains: ReadonlyArray<readonly [string, number]>,
  providerMatching: 'strict' | 'prefer' = 'strict',
): Promise<{ id: string }> {
  const boxes: Mailbox[] = []
  for (const [domain, limit] of domains)
    boxes.push(
      await e.scheduler.createMailbox(mailbox({ email: `sender@${domain}`, dailyEmailLimit: limit })),
    )
  const created = await e.scheduler.createCampaign(
    campaign(
      boxes.map((b) => b.id),
      { providerMatching },
    ),
  )
  await e.scheduler.addLeads(
    created.id,
    leads(2).map((l, i) => ({ ...l, email: `lead${i}@gmail.com` })),
  )
  await e.scheduler.startCampaign(created.id)
  return { id: created.id }
}

/**
 * explain() and tick() agree on every case below, on every store: when a tick sends nothing and
 * reports a reason, explain() (asked just before) said `sending: false` with that reason (see
 * {@link EXPLAINED_BY}); when a tick sends, explain() said `sending: true`.
 */
export function explainTests(env: EnvFn): void {
  it.each(CASES)('$name', async (c) => {
    const events: SchedulerEvent[] = []
    const e = await env({ onEvent: (event) => events.push(event), ...(c.start ? { start: c.start } : {}) })
    const campaignId = await c.build(e)
    events.length = 0
    const before = await e.scheduler.explain(campaignId)
    expect(codes(before)).toEqual(c.explain)
    for (const [code, until] of Object.entries(c.until ?? {}))
      expect(before.reasons.find((r) => r.code === code)?.until).toEqual(until)
    for (const [code, texts] of Object.entries(c.messages ?? {}))
      for (const text of texts) expect(before.reasons.find((r) => r.code === code)?.message).toContain(text)

    const result = await e.scheduler.tick()
    const skipped = events.flatMap((ev) =>
      ev.type === 'skipped' && ev.campaignId === campaignId ? [ev.reason] : [],
    )
    if (result.sent > 0) {
      expect(before.sending).toBe(true)
      return
    }
    expect(before.sending).toBe(false)
    for (const reason of skipped)
      expect(EXPLAINED_BY[reason].some((code) => codes(before).includes(code))).toBe(true)
    expect(c.tick).toContain(skipped[0] ?? null)
  })
}

const codes = (explanation: Explanation) => explanation.reasons.map((r) => r.code)

/** Sends the first `count` emails, one a tick (the default `maxSendsPerCampaignPerTick`). */
async function sendFirst(e: Env, count: number): Promise<void> {
  let sent = 0
  for (let i = 0; i < count; i++) sent += (await e.scheduler.tick()).sent
  expect(sent).toBe(count)
}

/** A campaign over new mailboxes (one, or one per limit), with leads, started unless told. */
async function started(
  e: Env,
  options: {
    leads?: number
    limits?: number[]
    start?: boolean
    followUpAfter?: number
    overrides?: Parameters<typeof campaign>[1]
  } = {},
): Promise<{ id: string; boxes: Mailbox[] }> {
  const boxes: Mailbox[] = []
  for (const limit of options.limits ?? [1000])
    boxes.push(await e.scheduler.createMailbox(mailbox({ dailyEmailLimit: limit })))
  const steps = [
    { subject: 'Hello {{firstName|there}}', text: 'First' },
    ...(options.followUpAfter === undefined
      ? []
      : [{ delayDays: options.followUpAfter / DAY, text: 'Again' }]),
  ]
  const created = await e.scheduler.createCampaign(
    campaign(
      boxes.map((b) => b.id),
      { steps, ...options.overrides },
    ),
  )
  const count = options.leads ?? 1
  if (count > 0) await e.scheduler.addLeads(created.id, leads(count))
  if (options.start !== false) await e.scheduler.startCampaign(created.id)
  return { id: created.id, boxes }
}

/**
 * Leads whose first emails left from the first (A, limit 2) and second (B) mailboxes in turn, an
 * hour ago; their follow-ups are due now. Lead 0's mailbox A is then made `full` (a send another
 * system made fills it), `paused` (until two hours from the start), or `removed` from the campaign.
 */
async function followUpsDue(
  e: Env,
  hold: 'full' | 'paused' | 'removed',
  options: { leads?: number; overrides?: Parameters<typeof campaign>[1] } = {},
): Promise<{ id: string; boxes: Mailbox[] }> {
  const count = options.leads ?? 1
  const c = await started(e, {
    leads: count,
    limits: [2, 1000],
    followUpAfter: HOUR,
    ...(options.overrides ? { overrides: options.overrides } : {}),
  })
  const [a, b] = c.boxes as [Mailbox, Mailbox]
  await sendFirst(e, count)
  expect(e.transport.sent.map((s) => s.mailboxId)).toEqual([a.id, b.id].slice(0, count))
  e.clock.set(SOON)
  if (hold === 'full')
    await e.scheduler.recordExternalSends([{ id: 'legacy-1', sentAt: SOON, mailboxId: a.id }])
  if (hold === 'paused')
    await e.scheduler.pauseMailbox(a.id, {
      until: new Date(SOON.getTime() + HOUR),
      reason: 'bounced off 421',
    })
  if (hold === 'removed') await e.scheduler.updateCampaign(c.id, { mailboxIds: [b.id] })
  return c
}
