/**
 * `scheduler.forecast()` of the in-house campaign (three mailboxes of 50 a day, 09:00–17:00 on
 * weekdays in Warsaw, 90 s between sends, two steps) with 10,000 leads on the memory store: the
 * real engine over a copy of the campaign, on a simulated clock, to its finish some six months on.
 */

import { createScheduler, type Scheduler } from '@mailcadence/core'
import { createMemoryStore } from '@mailcadence/core/memory'
import { createFakeClock, createSeededRandom } from '@mailcadence/core/testing'
import type { BenchContext, Row } from '../context.js'
import { format, measure, summarize } from '../stats.js'

async function setUp(leadCount: number): Promise<{ scheduler: Scheduler; campaignId: string }> {
  const scheduler = createScheduler({
    store: createMemoryStore(),
    mode: 'shadow',
    clock: createFakeClock(new Date('2026-01-04T20:00:00Z')),
    random: createSeededRandom(1),
  })
  const mailboxIds: string[] = []
  for (let i = 0; i < 3; i++) {
    const box = await scheduler.createMailbox({
      email: `rep${i}@acme.test`,
      dailyEmailLimit: 50,
      timezone: 'Europe/Warsaw',
    })
    mailboxIds.push(box.id)
  }
  const campaign = await scheduler.createCampaign({
    name: 'Forecast',
    timezone: 'Europe/Warsaw',
    startHour: 9,
    endHour: 17,
    allowedDays: 'MON,TUE,WED,THU,FRI',
    delayBetweenEmails: 90,
    maxEmailsPerDay: 500,
    mailboxIds,
    steps: [
      { subject: 'Hi {{firstName|there}}', text: 'Hello {{firstName|there}}' },
      { delayDays: 2, text: 'Bumping this up.' },
    ],
  })
  const leads = Array.from({ length: leadCount }, (_, i) => ({
    email: `lead${i}@example.com`,
    firstName: `N${i}`,
  }))
  await scheduler.addLeads(campaign.id, leads)
  await scheduler.startCampaign(campaign.id)
  return { scheduler, campaignId: campaign.id }
}

export async function forecastSection(ctx: BenchContext): Promise<Row[]> {
  const leads = ctx.quick ? 1_000 : 10_000
  const { scheduler, campaignId } = await setUp(leads)
  let days = 0
  const once = async (options: { replyRate?: number }) => {
    const started = performance.now()
    const forecast = await scheduler.forecast(campaignId, options)
    if (forecast.beyondHorizon || forecast.sent === 0) throw new Error('forecast: no finish date')
    days = forecast.days.length
    return performance.now() - started
  }
  // The first call runs while the JIT has not yet optimized the engine's code: what a host that
  // only forecasts (never ticks) in a fresh process waits. Then the same call, warm.
  const first = await once({})
  const plain = await measure(ctx.runs, () => once({}))
  const withRates = await measure(ctx.quick ? 1 : 3, () => once({ replyRate: 0.1 }))
  await scheduler.close()
  const size = `${leads.toLocaleString('en-US')} leads × 2 steps, in-house campaign (memory store)`
  return [
    {
      section: 'Forecast',
      name: `scheduler.forecast(), ${size}, ${days} days`,
      value: format(plain, 'ms'),
      note: 'target < 1 s',
    },
    {
      section: 'Forecast',
      name: `scheduler.forecast(), ${size}: the first call in the process (JIT not yet warm)`,
      value: format(summarize([first]), 'ms'),
    },
    {
      section: 'Forecast',
      name: `scheduler.forecast({ replyRate: 0.1 }): 20 Monte Carlo runs, ${size}`,
      value: format(withRates, 'ms'),
    },
  ]
}
