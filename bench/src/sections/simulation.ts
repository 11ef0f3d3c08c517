/**
 * A 30-day campaign of 100,000 leads, three steps, 50 mailboxes, on the memory store with the
 * fake clock. The host sleeps until each tick's `nextDueAt`, as the sleep-until-due variant of a
 * host does; within a tick the scheduler waits for pacing slots up to its 30 s lookahead.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler } from '@mailcadence/core'
import { createFakeClock, createSeededRandom } from '@mailcadence/core/testing'
import type { BenchContext, Row } from '../context.js'
import { format, measure } from '../stats.js'

const DAY = 86_400_000

async function simulate(leadCount: number): Promise<{ ms: number; sent: number; ticks: number }> {
  const clock = createFakeClock(new Date('2026-01-05T00:00:00Z'))
  const scheduler = createScheduler({
    store: createMemoryStore(),
    transport: { send: async () => undefined },
    clock,
    random: createSeededRandom(1),
    maxSendsPerCampaignPerTick: 50,
  })
  const mailboxes = []
  for (let i = 0; i < 50; i++) {
    mailboxes.push(
      await scheduler.createMailbox({
        email: `rep${i}@acme.test`,
        dailyEmailLimit: 400,
        timezone: 'Europe/Warsaw',
      }),
    )
  }
  const campaign = await scheduler.createCampaign({
    name: 'Simulation',
    timezone: 'Europe/Warsaw',
    startHour: 8,
    endHour: 18,
    allowedDays: 'MON,TUE,WED,THU,FRI',
    delayBetweenEmails: 2,
    maxEmailsPerDay: 20_000,
    mailboxIds: mailboxes.map((m) => m.id),
    steps: [
      { subject: 'Hi {{firstName|there}}', text: 'Hello {{firstName|there}} at {{company|your company}}' },
      { delayDays: 3, text: 'Bumping this up.' },
      { delayDays: 4, text: 'Last note from me.' },
    ],
  })
  const started = performance.now()
  const leads = Array.from({ length: leadCount }, (_, i) => ({
    email: `lead${i}@example.com`,
    firstName: `N${i}`,
  }))
  await scheduler.addLeads(campaign.id, leads)
  await scheduler.startCampaign(campaign.id)
  const end = clock.now().getTime() + 30 * DAY
  let sent = 0
  let ticks = 0
  while (clock.now().getTime() < end) {
    const result = await scheduler.tick()
    ticks++
    sent += result.sent
    const now = clock.now().getTime()
    clock.set(new Date(Math.max(now + 1, result.nextDueAt?.getTime() ?? end)))
  }
  const ms = performance.now() - started
  await scheduler.close()
  if (sent !== leadCount * 3) throw new Error(`simulation sent ${sent} of ${leadCount * 3}`)
  return { ms, sent, ticks }
}

export async function simulationSection(ctx: BenchContext): Promise<Row[]> {
  const leads = ctx.quick ? 2_000 : 100_000
  let last = { sent: 0, ticks: 0 }
  const figure = await measure(ctx.runs, async () => {
    const run = await simulate(leads)
    last = run
    return run.ms / 1000
  })
  return [
    {
      section: 'Simulation',
      name: `30 days, ${leads.toLocaleString('en-US')} leads × 3 steps, 50 mailboxes (memory store, fake clock; ${last.sent.toLocaleString('en-US')} sends, ${last.ticks.toLocaleString('en-US')} ticks)`,
      value: format(figure, 's', 2),
      note: 'target ≤ 10 s',
    },
  ]
}
