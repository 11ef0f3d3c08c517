import { expect, it } from 'vitest'
import { LATEST_PAUSE_MS } from '../../model/limits.js'
import type { Scheduler } from '../../scheduler/create.js'
import type { SchedulerEvent } from '../../scheduler/events.js'
import { supportsCounters, supportsInbox } from '../../store-kit/index.js'
import type { Transport } from '../../transport.js'
import {
  campaign,
  DAY,
  drain,
  type Env,
  type EnvFn,
  type EnvOptions,
  HOUR,
  MINUTE,
  mailbox,
} from './harness.js'

/** A hard bounce at send (the recipient does not exist). */
const HARD_BOUNCE = { responseCode: 550, response: '550 5.1.1 <x@example.com>: user unknown' }
const BAD_LOGIN = {
  code: 'EAUTH',
  responseCode: 535,
  response: '535 5.7.8 Authentication credentials invalid',
}

type GuardEvent = Extract<SchedulerEvent, { type: 'guard-tripped' }>

/** An environment recording guard events; the test is skipped on a store without counters. */
async function guarded(
  env: EnvFn,
  skip: (note: string) => void,
  options: EnvOptions = {},
): Promise<{ e: Env; trips: GuardEvent[] }> {
  const trips: GuardEvent[] = []
  const e = await env({ ...options, onEvent: (ev) => ev.type === 'guard-tripped' && trips.push(ev) })
  if (!supportsCounters(e.store)) skip('the store has no counters (CounterStore)')
  return { e, trips }
}

/** `count` leads `lead0…`; those at `bouncing` positions hard bounce at send. */
function leadsBouncingAt(e: Env, count: number, bouncing: readonly number[], prefix = 'lead') {
  for (const i of bouncing) e.transport.failFor(`${prefix}${i}@example.com`, HARD_BOUNCE)
  return Array.from({ length: count }, (_, i) => ({ email: `${prefix}${i}@example.com` }))
}

/** A started campaign over its own new mailboxes (one unless told), with these leads. */
async function running(
  s: Scheduler,
  leads: ReadonlyArray<{ email: string }>,
  overrides: Parameters<typeof campaign>[1] = {},
  mailboxes = 1,
) {
  const boxes = []
  for (let i = 0; i < mailboxes; i++) boxes.push(await s.createMailbox(mailbox()))
  const created = await s.createCampaign(
    campaign(
      boxes.map((b) => b.id),
      { maxEmailsPerDay: 1_000, ...overrides },
    ),
  )
  await s.addLeads(created.id, leads)
  await s.startCampaign(created.id)
  return { boxes, campaign: created }
}

const mailboxOf = async (e: Env, id: string) => (await e.store.getMailboxes([id]))[0]!

/**
 * Issue #14, guards: a mailbox or campaign whose hard bounces or complaints over the window pass
 * their limit (with enough sends), or a mailbox whose sends fail too many times in a row, is paused
 * until the host resumes it (invariant 12), with an event and explain() naming the guard. Rates are
 * per send cohort; after a resume only new sends count. Needs a store with counters.
 */
export function guardTests(env: EnvFn): void {
  it('49 sends with hard bounces never pause (fewer than minSends)', async ({ skip }) => {
    const { e, trips } = await guarded(env, skip)
    const { boxes, campaign: c } = await running(e.scheduler, leadsBouncingAt(e, 49, [3, 12, 20, 31, 44]))
    await drain(e.scheduler)
    expect(e.transport.attempts).toBe(49)
    expect(trips).toEqual([])
    expect((await mailboxOf(e, boxes[0]!.id)).pausedUntil).toBeNull()
    expect((await e.scheduler.getCampaign(c.id)).status).toBe('COMPLETED')
  })

  it('3 hard bounces in 50 sends pause the mailbox and the campaign at 5%; explain() names the guard', async ({
    skip,
  }) => {
    const { e, trips } = await guarded(env, skip)
    const { boxes, campaign: c } = await running(e.scheduler, leadsBouncingAt(e, 60, [9, 19, 29]))
    await drain(e.scheduler)
    // The 50th email handed trips it: nothing leaves after it.
    expect(e.transport.attempts).toBe(50)
    const box = await mailboxOf(e, boxes[0]!.id)
    expect(box.pausedUntil?.getTime()).toBe(LATEST_PAUSE_MS)
    expect(box.pauseReason).toBe('guard: hard bounces 3 of 50 (6.0%) over 7 days, limit 5%')
    expect((await e.scheduler.getCampaign(c.id)).status).toBe('PAUSED')
    const figures = { count: 3, handed: 50, rate: 0.06, limit: 0.05, windowDays: 7 }
    expect(trips).toHaveLength(2)
    expect(trips).toContainEqual(
      expect.objectContaining({ guard: 'bounce-rate', mailboxId: box.id, figures }),
    )
    expect(trips).toContainEqual(expect.objectContaining({ guard: 'bounce-rate', campaignId: c.id, figures }))

    const paused = await e.scheduler.explain(c.id)
    expect(paused.sending).toBe(false)
    expect(paused.reasons.map((r) => r.code)).toContain('guard')
    const campaignReason = paused.reasons.find((r) => r.code === 'guard')!
    expect(campaignReason.message).toContain('campaign paused by a guard: hard bounces 3 of 50 (6.0%)')

    // The campaign resumed, the mailbox still paused by its guard: explain() names that instead.
    await e.scheduler.resumeCampaign(c.id)
    const held = await e.scheduler.explain(c.id)
    expect(held.reasons.map((r) => r.code)).toEqual(['guard'])
    expect(held.reasons[0]!.message).toContain(`${box.email} (guard: hard bounces 3 of 50 (6.0%)`)
    expect((await e.scheduler.tick()).sent).toBe(0)
    expect(e.transport.attempts).toBe(50)
  })

  it('exactly the limit does not pause: 3 hard bounces in 60 sends are 5%', async ({ skip }) => {
    const { e, trips } = await guarded(env, skip)
    // The last one is the 60th send: 3 of 60 is 5%, not above it.
    const { boxes } = await running(e.scheduler, leadsBouncingAt(e, 60, [52, 55, 59]))
    await drain(e.scheduler)
    expect(e.transport.attempts).toBe(60)
    expect(trips).toEqual([])
    expect((await mailboxOf(e, boxes[0]!.id)).pausedUntil).toBeNull()
  })

  it('a complaint rate over 0.1% pauses; a complaint counts once per email, also through applyInbound', async ({
    skip,
  }) => {
    const { e, trips } = await guarded(env, skip, { guards: { maxComplaintRate: 0.03 } })
    if (!supportsInbox(e.store)) skip('the store has no inbox methods')
    // A follow-up a day later keeps the campaign running after the first emails.
    const { boxes, campaign: c } = await running(e.scheduler, leadsBouncingAt(e, 50, []), {
      steps: [
        { subject: 'Hi', text: 'Hello' },
        { delayDays: 1, text: 'Following up' },
      ],
    })
    await drain(e.scheduler)
    const [first, second] = e.transport.sent
    // 1 of 50 (2%) is under this test's 3%; the same email again still counts once.
    expect(await e.scheduler.recordComplaint(first!.messageId)).toMatchObject({
      email: first!.to,
      matched: true,
    })
    await e.scheduler.recordComplaint({ messageId: first!.messageId })
    expect(trips).toEqual([])
    // An address alone is suppressed, not counted.
    expect(await e.scheduler.recordComplaint('lead7@example.com')).toMatchObject({ matched: false })
    expect(trips).toEqual([])
    // A second email complained about, through the inbox: 2 of 50 (4%) pauses.
    const applied = await e.scheduler.applyInbound({
      messageId: '<arf-1@conformance.test>',
      kind: 'complaint',
      linkedMessageIds: [second!.messageId],
    })
    expect(applied.status).toBe('applied')
    const box = await mailboxOf(e, boxes[0]!.id)
    expect(box.pauseReason).toBe('guard: complaints 2 of 50 (4.0%) over 7 days, limit 3%')
    expect(trips.map((t) => [t.guard, t.mailboxId ?? t.campaignId])).toEqual(
      expect.arrayContaining([
        ['complaint-rate', box.id],
        ['complaint-rate', c.id],
      ]),
    )
  })

  it('one complaint in 50 sends passes the default 0.1% and pauses', async ({ skip }) => {
    const { e, trips } = await guarded(env, skip)
    if (!supportsInbox(e.store)) skip('the store has no inbox methods')
    const { boxes } = await running(e.scheduler, leadsBouncingAt(e, 50, []))
    await drain(e.scheduler)
    await e.scheduler.recordComplaint(e.transport.sent[10]!.messageId)
    expect((await mailboxOf(e, boxes[0]!.id)).pauseReason).toBe(
      'guard: complaints 1 of 50 (2.0%) over 7 days, limit 0.1%',
    )
    expect(trips.some((t) => t.guard === 'complaint-rate' && t.mailboxId === boxes[0]!.id)).toBe(true)
  })

  it('5 failed logins in a row pause that mailbox only; the others keep sending', async ({ skip }) => {
    const failing = new Set<string>()
    let badAttempts = 0
    const { e, trips } = await guarded(env, skip, {})
    // Sends from the failing mailbox are refused at login; the others go through.
    const inner = e.transport
    const transport: Transport = {
      async send(message, context) {
        if (failing.has(context.mailbox.id)) {
          badAttempts++
          throw Object.assign(new Error(BAD_LOGIN.response), BAD_LOGIN)
        }
        return inner.send(message, context)
      },
    }
    const s = e.another({ transport, onEvent: (ev) => ev.type === 'guard-tripped' && trips.push(ev) })
    // A send every 10 minutes; each failed login pauses the mailbox for an hour, then it is tried again.
    const { boxes, campaign: c } = await running(
      s,
      leadsBouncingAt(e, 60, []),
      { delayBetweenEmails: 600 },
      2,
    )
    const [bad, good] = boxes
    failing.add(bad!.id)
    for (let i = 0; i < 60; i++) {
      await s.tick()
      e.clock.advance(10 * MINUTE)
    }
    expect(badAttempts).toBe(5)
    const paused = await mailboxOf(e, bad!.id)
    expect(paused.pausedUntil?.getTime()).toBe(LATEST_PAUSE_MS)
    expect(paused.pauseReason).toMatch(/^guard: 5 consecutive failed sends, limit 5; last: .*535/)
    expect(trips).toEqual([
      expect.objectContaining({
        guard: 'consecutive-failures',
        mailboxId: bad!.id,
        figures: { count: 5, limit: 5 },
      }),
    ])
    expect((await mailboxOf(e, good!.id)).pausedUntil).toBeNull()
    expect((await s.getCampaign(c.id)).status).not.toBe('PAUSED')
    const trippedAt = trips[0]!.at.getTime()
    expect(
      inner.sent.filter((m) => m.at.getTime() > trippedAt && m.mailboxId === good!.id).length,
    ).toBeGreaterThan(0)
    expect(inner.sent.every((m) => m.mailboxId === good!.id)).toBe(true)
  })

  it('temporary answers (greylisting, throttling) are retried, not counted as consecutive failures', async ({
    skip,
  }) => {
    const { e, trips } = await guarded(env, skip, {
      retry: { maxAttempts: 20, baseDelayMs: MINUTE, maxDelayMs: MINUTE },
    })
    await running(e.scheduler, leadsBouncingAt(e, 1, []))
    e.transport.failNext(8, { responseCode: 451, response: '451 4.7.1 Greylisted, try again later' })
    for (let i = 0; i < 30; i++) {
      await e.scheduler.tick()
      e.clock.advance(20 * MINUTE)
    }
    expect(e.transport.sent).toHaveLength(1)
    expect(trips).toEqual([])
  })

  it('a hard bounce reported later through the inbox counts on its send day, once per email', async ({
    skip,
  }) => {
    const { e, trips } = await guarded(env, skip)
    if (!supportsInbox(e.store)) skip('the store has no inbox methods')
    const { boxes } = await running(e.scheduler, leadsBouncingAt(e, 50, [10]), {
      steps: [
        { subject: 'Hi', text: 'Hello' },
        { delayDays: 3, text: 'Following up' },
      ],
    })
    await drain(e.scheduler)
    // The next day, delivery reports of emails sent on Monday (two of them for one email).
    e.clock.advance(DAY)
    let reports = 0
    const dsn = (sent: number) => ({
      messageId: `<dsn-${++reports}@conformance.test>`,
      kind: 'bounce' as const,
      severity: 'hard' as const,
      linkedMessageIds: [e.transport.sent[sent]!.messageId],
    })
    await e.scheduler.applyInbound(dsn(5))
    await e.scheduler.applyInbound(dsn(5))
    // 2 of 50 (4%): the second report of one email did not count.
    expect(trips).toEqual([])
    await e.scheduler.applyInbound(dsn(6))
    expect((await mailboxOf(e, boxes[0]!.id)).pauseReason).toBe(
      'guard: hard bounces 3 of 50 (6.0%) over 7 days, limit 5%',
    )
    expect(trips.filter((t) => t.mailboxId === boxes[0]!.id)).toHaveLength(1)
  })

  it('a resumed mailbox and campaign are not paused again by old figures', async ({ skip }) => {
    const { e, trips } = await guarded(env, skip)
    const { boxes, campaign: c } = await running(e.scheduler, leadsBouncingAt(e, 50, [9, 19, 29]))
    await drain(e.scheduler)
    expect(trips).toHaveLength(2)
    const oldSend = e.transport.sent[0]!
    e.clock.advance(HOUR)
    await e.scheduler.resumeMailbox(boxes[0]!.id)
    await e.scheduler.resumeCampaign(c.id)
    // A late bounce of an email sent before the resume is an old figure too.
    if (supportsInbox(e.store))
      await e.scheduler.applyInbound({
        messageId: '<dsn-late@conformance.test>',
        kind: 'bounce',
        severity: 'hard',
        linkedMessageIds: [oldSend.messageId],
      })
    await e.scheduler.addLeads(c.id, leadsBouncingAt(e, 10, [4], 'more'))
    await drain(e.scheduler)
    // 1 bounce in the 10 sends since the resume: under minSends, nothing trips.
    expect(trips).toHaveLength(2)
    expect((await mailboxOf(e, boxes[0]!.id)).pausedUntil).toBeNull()
    expect((await e.scheduler.getCampaign(c.id)).status).toBe('COMPLETED')
    expect((await e.scheduler.explain(c.id)).reasons.map((r) => r.code)).not.toContain('guard')
  })

  it('a campaign guard pauses the campaign while its mailboxes, each under minSends, keep going', async ({
    skip,
  }) => {
    const { e, trips } = await guarded(env, skip)
    const { boxes, campaign: c } = await running(e.scheduler, leadsBouncingAt(e, 70, [5, 15, 25]), {}, 2)
    await drain(e.scheduler)
    // 25 sends from each mailbox: only the campaign reached minSends.
    expect(e.transport.attempts).toBe(50)
    expect((await e.scheduler.getCampaign(c.id)).status).toBe('PAUSED')
    for (const b of boxes) expect((await mailboxOf(e, b.id)).pausedUntil).toBeNull()
    expect(trips).toEqual([
      expect.objectContaining({
        guard: 'bounce-rate',
        campaignId: c.id,
        figures: { count: 3, handed: 50, rate: 0.06, limit: 0.05, windowDays: 7 },
        reason: 'guard: hard bounces 3 of 50 (6.0%) over 7 days, limit 5%',
      }),
    ])
    const explained = await e.scheduler.explain(c.id)
    expect(explained.reasons).toEqual([
      {
        code: 'guard',
        message:
          'campaign paused by a guard: hard bounces 3 of 50 (6.0%) over 7 days, limit 5% (call resumeCampaign)',
      },
    ])
    // Another campaign on the same mailboxes is not held back.
    const other = await e.scheduler.createCampaign(campaign(c.mailboxIds))
    await e.scheduler.addLeads(other.id, [{ email: 'someone@example.com' }])
    await e.scheduler.startCampaign(other.id)
    expect(await drain(e.scheduler)).toBe(1)
  })

  it('guards: false never pauses', async ({ skip }) => {
    const { e, trips } = await guarded(env, skip, { guards: false })
    const { boxes } = await running(e.scheduler, leadsBouncingAt(e, 60, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    await drain(e.scheduler)
    expect(e.transport.attempts).toBe(60)
    expect(trips).toEqual([])
    expect((await mailboxOf(e, boxes[0]!.id)).pausedUntil).toBeNull()
  })
}
