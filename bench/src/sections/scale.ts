/**
 * Tick latency as campaigns and history grow: with nothing due, and with one email due per
 * campaign. The cost of an idle tick must not grow with history.
 */
import { createScheduler, type Scheduler } from '@mailcadence/core'
import type { Backend } from '../backends.js'
import type { BenchContext, Row } from '../context.js'
import { format, measure } from '../stats.js'
import { addLeadsChunked, createMailboxes, leads, noopTransport, openCampaign } from '../workload.js'

/** One finished campaign holding `history` sent rows. */
async function buildHistory(scheduler: Scheduler, mailboxIds: string[], history: number) {
  const past = await scheduler.createCampaign(openCampaign(mailboxIds, 'History'))
  await addLeadsChunked(scheduler, past.id, leads(history, 'past'))
  await scheduler.startCampaign(past.id)
  for (let sent = 0; sent < history; ) sent += (await scheduler.tick()).sent
  await scheduler.tick() // completes it
}

/** Adds running campaigns up to `count`, each with a follow-up due tomorrow: nothing due now. */
async function growCampaigns(scheduler: Scheduler, mailboxIds: string[], running: string[], count: number) {
  while (running.length < count) {
    const campaign = await scheduler.createCampaign({
      ...openCampaign(mailboxIds, `Running ${running.length}`),
      steps: [
        { subject: 'Hi', text: 'x' },
        { delayDays: 1, text: 'y' },
      ],
    })
    await scheduler.addLeads(campaign.id, [{ email: `first${running.length}@example.com` }])
    await scheduler.startCampaign(campaign.id)
    running.push(campaign.id)
  }
  while ((await scheduler.tick()).sent > 0) {}
}

/** Numbers the rounds of due emails, so every round adds fresh addresses. */
let round = 0

async function measureTicks(
  ctx: BenchContext,
  scheduler: Scheduler,
  running: string[],
  label: string,
): Promise<Row[]> {
  const idle = await measure(
    ctx.runs,
    async () => {
      const t0 = performance.now()
      const result = await scheduler.tick()
      if (result.sent !== 0) throw new Error('scale: an idle tick sent')
      return performance.now() - t0
    },
    { warmup: true },
  )
  const due = await measure(ctx.runs, async () => {
    round++
    for (const id of running) await scheduler.addLeads(id, [{ email: `due${round}-${id}@example.com` }])
    const t0 = performance.now()
    const result = await scheduler.tick()
    if (result.sent !== running.length)
      throw new Error(`scale: expected ${running.length} sends, got ${result.sent}`)
    return performance.now() - t0
  })
  return [
    {
      section: 'Scale',
      name: `${label}: idle tick`,
      value: format(idle, 'ms', 2),
      ...(running.length >= 10_000 ? { note: 'target ≤ 20 ms' } : {}),
    },
    { section: 'Scale', name: `${label}: one email due per campaign`, value: format(due, 'ms', 2) },
  ]
}

/**
 * Night: every running campaign has an email due but its window is closed for hours (the most
 * common idle tick of a real day). The first tick finds the windows closed; the ticks measured after
 * it must not pay for each campaign again.
 */
async function measureClosedWindows(
  ctx: BenchContext,
  scheduler: Scheduler,
  running: string[],
  label: string,
): Promise<Row> {
  // A one-hour window six hours from now (UTC), so it stays closed while this runs.
  const startHour = (new Date().getUTCHours() + 6) % 24
  round++
  for (const id of running) {
    await scheduler.updateCampaign(id, { startHour, endHour: startHour + 1 })
    await scheduler.addLeads(id, [{ email: `night${round}-${id}@example.com` }])
  }
  const idle = await measure(
    ctx.runs,
    async () => {
      const t0 = performance.now()
      const result = await scheduler.tick()
      if (result.sent !== 0) throw new Error('scale: a tick sent outside the window')
      return performance.now() - t0
    },
    { warmup: true },
  )
  return {
    section: 'Scale',
    name: `${label}: idle tick, windows closed with an email due in each`,
    value: format(idle, 'ms', 2),
    ...(running.length >= 10_000 ? { note: 'target ≤ 20 ms' } : {}),
  }
}

/** Lead zones of the campaigns in {@link measureLeadZonesClosed}: emails due in each. */
const LEAD_ZONES = ['Asia/Tokyo', 'Europe/Warsaw', 'America/New_York']

/**
 * Night with lead time zones on: every running campaign sends in its leads' hours, with emails due
 * for leads in three zones (and the one of its own zone, from the night before), and every zone's
 * window is closed for a while. The first tick reads each campaign's window keys; the ticks
 * measured after it must not pay for each campaign again.
 */
async function measureLeadZonesClosed(
  ctx: BenchContext,
  scheduler: Scheduler,
  running: string[],
  label: string,
): Promise<Row> {
  // A one-hour window (local) starting neither this hour nor the next in any zone: closed for the run.
  const now = new Date()
  const busy = new Set<number>()
  for (const timeZone of [...LEAD_ZONES, 'UTC']) {
    const hour = Number(
      new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' }).format(now),
    )
    busy.add(hour).add((hour + 1) % 24)
  }
  const startHour = Array.from({ length: 23 }, (_, h) => h).find((h) => !busy.has(h) && !busy.has(h + 1))!
  round++
  for (const id of running) {
    await scheduler.updateCampaign(id, { windowTimezone: 'lead', startHour, endHour: startHour + 1 })
    await scheduler.addLeads(
      id,
      LEAD_ZONES.map((timezone, z) => ({ email: `zone${round}-${z}-${id}@example.com`, timezone })),
    )
  }
  const idle = await measure(
    ctx.runs,
    async () => {
      const t0 = performance.now()
      const result = await scheduler.tick()
      if (result.sent !== 0) throw new Error('scale: a tick sent outside its leads’ windows')
      return performance.now() - t0
    },
    { warmup: true },
  )
  return {
    section: 'Scale',
    name: `${label}: idle tick, lead zones on, every zone's window closed with emails due in each`,
    value: format(idle, 'ms', 2),
    ...(running.length >= 10_000 ? { note: 'target ≤ 20 ms' } : {}),
  }
}

export async function scaleSection(ctx: BenchContext, backends: Backend[]): Promise<Row[]> {
  const campaignCounts = ctx.quick ? [10, 100] : [10, 1_000, 10_000]
  const histories = ctx.quick ? [1_000] : [10_000, 1_000_000]
  const rows: Row[] = []
  for (const backend of backends) {
    for (const history of histories) {
      const store = await backend.createStore()
      const scheduler = createScheduler({
        store,
        transport: noopTransport,
        lookahead: 0,
        concurrency: 50,
        maxSendsPerCampaignPerTick: 1_000,
      })
      const mailboxIds = await createMailboxes(scheduler, 10)
      if (backend.seedHistory) await backend.seedHistory(store, history, mailboxIds)
      else await buildHistory(scheduler, mailboxIds, history)
      const running: string[] = []
      for (const campaigns of campaignCounts) {
        await growCampaigns(scheduler, mailboxIds, running, campaigns)
        await backend.analyze?.(store)
        const label = `${backend.name}, ${campaigns.toLocaleString('en-US')} campaigns, ${history.toLocaleString('en-US')} rows of history`
        rows.push(...(await measureTicks(ctx, scheduler, running, label)))
        if (campaigns === campaignCounts.at(-1)) {
          rows.push(await measureClosedWindows(ctx, scheduler, running, label))
          rows.push(await measureLeadZonesClosed(ctx, scheduler, running, label))
        }
      }
      await scheduler.close()
    }
  }
  return rows
}
