import { afterEach, describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../src/errors.js'
import { createMemoryStore } from '../src/memory/index.js'
import type { CampaignInput } from '../src/model/types.js'
import { dayKey } from '../src/policy/calendar.js'
import { createScheduler, type Scheduler } from '../src/scheduler/create.js'
import type { Forecast } from '../src/scheduler/forecast/index.js'
import type { Store } from '../src/store.js'
import { createFakeClock, type FakeClock } from '../src/testing/clock.js'
import { createSeededRandom } from '../src/testing/random.js'
import { createRecordingTransport, type RecordingTransport } from '../src/testing/transport.js'

interface Env {
  store: Store
  clock: FakeClock
  transport: RecordingTransport
  scheduler: Scheduler
}

const open: Scheduler[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})

function env(start: Date, store: Store = createMemoryStore()): Env {
  const clock = createFakeClock(start)
  const transport = createRecordingTransport()
  const scheduler = createScheduler({
    store,
    transport,
    clock,
    random: createSeededRandom(2025),
    lookahead: 0,
  })
  open.push(scheduler)
  return { store, clock, transport, scheduler }
}

/** The in-house campaign (SEEDS.md, conformance week.ts): three mailboxes of 50, 09–17 weekdays in Warsaw. */
async function inHouse(e: Env, leadCount: number, over: Partial<CampaignInput> = {}) {
  const boxes = []
  for (let i = 0; i < 3; i++)
    boxes.push(
      await e.scheduler.createMailbox({
        email: `rep${i}@acme.test`,
        dailyEmailLimit: 50,
        timezone: 'Europe/Warsaw',
      }),
    )
  const campaign = await e.scheduler.createCampaign({
    name: 'Seed',
    timezone: 'Europe/Warsaw',
    startHour: 9,
    startMinute: 0,
    endHour: 17,
    endMinute: 0,
    allowedDays: 'MON,TUE,WED,THU,FRI',
    delayBetweenEmails: 90,
    maxEmailsPerDay: 500,
    mailboxIds: boxes.map((b) => b.id),
    steps: [
      { subject: 'Hello {{firstName}}', text: 'Hi {{firstName}}, …' },
      { delayDays: 2, text: 'Following up, {{firstName|there}}.' },
    ],
    ...over,
  })
  await e.scheduler.addLeads(campaign.id, leads(leadCount))
  await e.scheduler.startCampaign(campaign.id)
  return { campaign, boxes }
}

function leads(count: number, prefix = 'lead', extra: Record<string, string> = {}) {
  return Array.from({ length: count }, (_, i) => ({
    email: `${prefix}${i}@example.com`,
    firstName: `Name${i}`,
    ...extra,
  }))
}

/** A host sleeping until each tick's `nextDueAt` (an hour when none), until `until`. */
async function runFor(e: Env, until: Date) {
  while (e.clock.now() < until) {
    const result = await e.scheduler.tick()
    const now = e.clock.now().getTime()
    const next = result.nextDueAt ? Math.max(result.nextDueAt.getTime(), now + 1) : now + 3_600_000
    e.clock.set(new Date(Math.min(next, until.getTime())))
  }
}

/** The days with sends, as the forecast has them. */
const forecastDays = (f: Forecast) =>
  Object.fromEntries(f.days.filter((d) => d.sent > 0).map((d) => [d.date, d.sent]))

/** The days with sends of the real run, for one campaign, in its zone. */
function realDays(e: Env, campaignId: string, timezone: string) {
  const days: Record<string, number> = {}
  for (const s of e.transport.sent) {
    if (s.campaignId !== campaignId) continue
    const key = dayKey(s.at, timezone)
    days[key] = (days[key] ?? 0) + 1
  }
  return days
}

/** What the live store holds for a campaign: forecasting must leave it exactly as it was. */
async function liveState(e: Env, campaignId: string) {
  return {
    items: await e.store.listQueueItems(campaignId),
    log: await e.store.listSendLog(campaignId),
    campaign: await e.store.getCampaign(campaignId),
  }
}

const SUNDAY_EVENING = new Date('2026-01-04T20:00:00Z')

describe('scheduler.forecast', () => {
  it('equals a fake-clock run of the scheduler day by day for the in-house campaign, and touches nothing live', async () => {
    const e = env(SUNDAY_EVENING)
    const { campaign, boxes } = await inHouse(e, 300)
    const before = await liveState(e, campaign.id)
    const forecast = await e.scheduler.forecast(campaign.id)
    // Nothing reached the live transport; the live store is as it was.
    expect(e.transport.attempts).toBe(0)
    expect(await liveState(e, campaign.id)).toEqual(before)
    expect(e.clock.now()).toEqual(SUNDAY_EVENING)

    expect(forecastDays(forecast)).toEqual({
      '2026-01-05': 150,
      '2026-01-06': 150,
      '2026-01-07': 150,
      '2026-01-08': 150,
    })
    // Three mailboxes of 50 bound each day.
    const monday = forecast.days.find((d) => d.date === '2026-01-05')!
    expect(monday.bottleneck).toBe('mailbox-limit')
    expect(new Set(monday.mailboxIds)).toEqual(new Set(boxes.map((b) => b.id)))
    expect(forecast.days[0]).toMatchObject({ date: '2026-01-04', sent: 0 })
    expect(forecast.beyondHorizon).toBe(false)
    expect(forecast.sent).toBe(600)
    expect(forecast.remaining).toBe(0)

    await runFor(e, new Date('2026-01-11T20:00:00Z'))
    expect(realDays(e, campaign.id, 'Europe/Warsaw')).toEqual(forecastDays(forecast))
    const last = e.transport.sent.at(-1)!.at
    expect(dayKey(forecast.finishesAt!, 'Europe/Warsaw')).toBe(dayKey(last, 'Europe/Warsaw'))
  })

  it('starts from the live progress: sends made today count, follow-ups keep their due times', async () => {
    const e = env(SUNDAY_EVENING)
    const { campaign } = await inHouse(e, 400)
    // Into Tuesday afternoon: 150 sent Monday, some on Tuesday, follow-ups pending.
    await runFor(e, new Date('2026-01-06T13:00:00Z'))
    const forecast = await e.scheduler.forecast(campaign.id)
    const sentBefore = e.transport.sent.length
    expect(e.transport.attempts).toBe(sentBefore)
    await runFor(e, new Date('2026-01-16T20:00:00Z'))
    const real = realDays(e, campaign.id, 'Europe/Warsaw')
    // Today's sends made before the forecast are not in it; from then on, every day matches.
    const beforeToday = e.transport.sent
      .slice(0, sentBefore)
      .filter((s) => dayKey(s.at, 'Europe/Warsaw') === '2026-01-06').length
    real['2026-01-06'] = (real['2026-01-06'] ?? 0) - beforeToday
    if (real['2026-01-06'] === 0) delete real['2026-01-06']
    delete real['2026-01-05']
    expect(forecastDays(forecast)).toEqual(real)
  })

  it('equals the real run for leads in their own zones with skip dates and holidays', {
    timeout: 60_000,
  }, async () => {
    const start = new Date('2026-03-01T12:00:00Z')
    const holidays = (country: string, year: number) =>
      country === 'PL' && year === 2026 ? ['2026-03-05'] : []
    const store = createMemoryStore()
    const clock = createFakeClock(start)
    const transport = createRecordingTransport()
    const scheduler = createScheduler({
      store,
      transport,
      clock,
      random: createSeededRandom(11),
      lookahead: 0,
      holidays,
    })
    open.push(scheduler)
    const e: Env = { store, clock, transport, scheduler }
    const boxes = []
    for (const limit of [4, 6])
      boxes.push(
        await scheduler.createMailbox({
          email: `b${limit}@acme.test`,
          dailyEmailLimit: limit,
          timezone: 'America/Los_Angeles',
        }),
      )
    const campaign = await scheduler.createCampaign({
      name: 'Zones',
      timezone: 'UTC',
      windowTimezone: 'lead',
      startHour: 9,
      endHour: 11,
      allowedDays: 'MON,TUE,WED,THU,FRI',
      delayBetweenEmails: 600,
      jitter: 0,
      maxEmailsPerDay: 8,
      skipDates: ['2026-03-10'],
      mailboxIds: boxes.map((b) => b.id),
      steps: [
        { subject: 'Hello {{firstName}}', text: 'Hi' },
        { delayDays: 1, text: 'Following up' },
      ],
    })
    await scheduler.addLeads(campaign.id, [
      ...leads(12, 'tokyo', { timezone: 'Asia/Tokyo', country: 'JP' }),
      ...leads(12, 'warsaw', { timezone: 'Europe/Warsaw', country: 'PL' }),
      ...leads(12, 'ny', { timezone: 'America/New_York', country: 'US' }),
    ])
    await scheduler.startCampaign(campaign.id)
    const forecast = await scheduler.forecast(campaign.id)
    expect(transport.attempts).toBe(0)
    expect(forecast.beyondHorizon).toBe(false)
    await runFor(e, new Date('2026-04-15T00:00:00Z'))
    expect(transport.sent).toHaveLength(72)
    expect(forecastDays(forecast)).toEqual(realDays(e, campaign.id, 'UTC'))
    expect(forecast.days.find((d) => d.date === '2026-03-10')).toMatchObject({
      sent: 0,
      bottleneck: 'skip-date',
    })
    // A Saturday: in its leads' hours, the engine holds the campaign for its leads' windows.
    expect(forecast.days.find((d) => d.date === '2026-03-07')).toMatchObject({
      sent: 0,
      bottleneck: 'lead-window',
    })
  })

  it('names the campaign cap when three mailboxes of 50 send only 20 a day', async () => {
    const e = env(SUNDAY_EVENING)
    const { campaign } = await inHouse(e, 100, {
      maxEmailsPerDay: 20,
      steps: [{ subject: 'Hi', text: 'Hello' }],
    })
    const forecast = await e.scheduler.forecast(campaign.id)
    const sending = forecast.days.filter((d) => d.sent > 0)
    expect(sending.map((d) => d.sent)).toEqual([20, 20, 20, 20, 20])
    expect(sending.slice(0, 4).every((d) => d.bottleneck === 'campaign-limit')).toBe(true)
    expect(sending[4]!.bottleneck).toBe('nothing-due')
    await runFor(e, new Date('2026-01-11T20:00:00Z'))
    expect(realDays(e, campaign.id, 'Europe/Warsaw')).toEqual(forecastDays(forecast))
  })

  it('names the window and pacing when neither cap is reached', async () => {
    const e = env(SUNDAY_EVENING)
    // 09:00–10:00 with 5 minutes between sends: 12 a day, far below every limit.
    const { campaign } = await inHouse(e, 30, {
      endHour: 10,
      delayBetweenEmails: 300,
      jitter: 0,
      steps: [{ subject: 'Hi', text: 'Hello' }],
    })
    const forecast = await e.scheduler.forecast(campaign.id)
    const sending = forecast.days.filter((d) => d.sent > 0)
    expect(sending.map((d) => [d.sent, d.bottleneck])).toEqual([
      [12, 'window'],
      [12, 'window'],
      [6, 'nothing-due'],
    ])
  })

  it('counts the sends of another running campaign on a shared mailbox, as the real run does', async () => {
    const e = env(SUNDAY_EVENING)
    const shared = await e.scheduler.createMailbox({
      email: 'shared@acme.test',
      dailyEmailLimit: 10,
      timezone: 'UTC',
    })
    const input = (name: string): CampaignInput => ({
      name,
      timezone: 'UTC',
      startHour: 8,
      endHour: 16,
      allowedDays: 'MON,TUE,WED,THU,FRI',
      delayBetweenEmails: 120,
      maxEmailsPerDay: 100,
      mailboxIds: [shared.id],
      steps: [{ subject: 'Hi', text: 'Hello' }],
    })
    const other = await e.scheduler.createCampaign(input('Other'))
    await e.scheduler.addLeads(other.id, leads(25, 'other'))
    await e.scheduler.startCampaign(other.id)
    const mine = await e.scheduler.createCampaign(input('Mine'))
    await e.scheduler.addLeads(mine.id, leads(25, 'mine'))
    await e.scheduler.startCampaign(mine.id)
    const before = await liveState(e, other.id)
    const forecast = await e.scheduler.forecast(mine.id)
    expect(await liveState(e, other.id)).toEqual(before)
    expect(
      forecast.days.some((d) => d.bottleneck === 'mailbox-limit' && d.mailboxIds?.[0] === shared.id),
    ).toBe(true)
    await runFor(e, new Date('2026-01-20T00:00:00Z'))
    expect(realDays(e, mine.id, 'UTC')).toEqual(forecastDays(forecast))
    // Sharing shows: fewer than the mailbox's 10 a day go to this campaign while the other sends.
    expect(Math.max(...Object.values(forecastDays(forecast)))).toBeLessThan(10)
  })

  it('says beyondHorizon, never a date, for a campaign that runs for years', {
    timeout: 60_000,
  }, async () => {
    const e = env(SUNDAY_EVENING)
    const { campaign } = await inHouse(e, 500, { maxEmailsPerDay: 1 })
    const forecast = await e.scheduler.forecast(campaign.id)
    expect(forecast.beyondHorizon).toBe(true)
    expect(forecast.finishesAt).toBeNull()
    expect(forecast.finishesAtP90).toBeNull()
    expect(forecast.horizonEnd).toEqual(new Date(SUNDAY_EVENING.getTime() + 366 * 86_400_000))
    // One a weekday for a year: what it reached, and what is left.
    expect(forecast.sent).toBeGreaterThan(250)
    expect(forecast.sent).toBeLessThan(270)
    expect(forecast.remaining).toBeGreaterThan(200)
    expect(forecast.days.length).toBeGreaterThanOrEqual(366)
    const longer = await e.scheduler.forecast(campaign.id, { horizonDays: 1830 })
    expect(longer.beyondHorizon).toBe(false)
    expect(longer.finishesAt!.getUTCFullYear()).toBe(2029)
    expect(longer.sent).toBe(1_000)
  })

  it('draws replies and bounces from a seeded source: percentiles, reproducible', {
    timeout: 60_000,
  }, async () => {
    const e = env(SUNDAY_EVENING)
    const { campaign } = await inHouse(e, 300)
    const none = await e.scheduler.forecast(campaign.id)
    const rates = { replyRate: 0.3, bounceRate: 0.05 }
    const a = await e.scheduler.forecast(campaign.id, rates)
    const b = await e.scheduler.forecast(campaign.id, rates)
    expect(a).toEqual(b)
    expect(a.runs).toBe(20)
    expect(a.sent).toBeLessThan(none.sent)
    expect(a.finishesAt!.getTime()).toBeLessThanOrEqual(a.finishesAtP90!.getTime())
    expect(a.finishesAt!.getTime()).toBeLessThan(none.finishesAt!.getTime())
    const other = await e.scheduler.forecast(campaign.id, { ...rates, random: createSeededRandom(99) })
    expect(other.runs).toBe(20)
    expect(e.transport.attempts).toBe(0)
  })

  it('names paused mailboxes and never finishes while they stay paused', async () => {
    const e = env(SUNDAY_EVENING)
    const { campaign, boxes } = await inHouse(e, 10)
    for (const box of boxes) await e.scheduler.pauseMailbox(box.id)
    const forecast = await e.scheduler.forecast(campaign.id, { horizonDays: 30 })
    expect(forecast).toMatchObject({ beyondHorizon: true, finishesAt: null, sent: 0, remaining: 10 })
    expect(forecast.days.find((d) => d.date === '2026-01-05')!.bottleneck).toBe('mailbox-paused')
    // Paused or draft, a forecast starts it as if now: a draft campaign is forecast too.
    const draft = await e.scheduler.createCampaign({ ...campaign, name: 'Draft', mailboxIds: [boxes[0]!.id] })
    await e.scheduler.resumeMailbox(boxes[0]!.id)
    await e.scheduler.addLeads(draft.id, leads(5, 'draft'))
    const drafted = await e.scheduler.forecast(draft.id)
    expect(drafted).toMatchObject({ beyondHorizon: false, sent: 10 })
    expect((await e.scheduler.getCampaign(draft.id)).status).toBe('DRAFT')
  })

  it('refuses bad options naming the field', async () => {
    const e = env(SUNDAY_EVENING)
    const { campaign } = await inHouse(e, 1)
    for (const [options, field] of [
      [{ replyRate: 2 }, 'replyRate'],
      [{ bounceRate: -0.1 }, 'bounceRate'],
      [{ replyRate: 0.6, bounceRate: 0.6 }, 'replyRate'],
      [{ runs: 0 }, 'runs'],
      [{ horizonDays: 5000 }, 'horizonDays'],
    ] as const) {
      const error = await e.scheduler.forecast(campaign.id, options).catch((err: unknown) => err)
      expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
      expect((error as Error).message).toContain(field)
    }
  })
})
