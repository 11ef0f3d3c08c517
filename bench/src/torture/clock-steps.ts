/**
 * The clock stepping backwards and forwards by minutes between ticks (an NTP step), with three
 * schedulers sharing one store, a window, pacing and small daily limits.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport, createSeededRandom } from '@mailcadence/core/testing'
import { checkInvariants, type Delivery } from './invariants.js'

const MINUTE = 60_000

export async function clockStepsScenario(quick: boolean): Promise<string[]> {
  const random = createSeededRandom(7)
  const clock = createFakeClock(new Date('2026-01-05T07:00:00Z'))
  const store = createMemoryStore()
  const transport = createRecordingTransport()
  const make = () => createScheduler({ store, transport, clock, random, lookahead: 0, lease: 10 * MINUTE })
  const schedulers = [make(), make(), make()]
  const [first] = schedulers
  const mailboxes = await Promise.all(
    [0, 1, 2].map((i) =>
      first!.createMailbox({ email: `rep${i}@acme.test`, dailyEmailLimit: 15, timezone: 'Europe/Warsaw' }),
    ),
  )
  const campaign = await first!.createCampaign({
    name: 'Clock steps',
    timezone: 'Europe/Warsaw',
    startHour: 9,
    endHour: 17,
    delayBetweenEmails: 60,
    maxEmailsPerDay: 40,
    mailboxIds: mailboxes.map((m) => m.id),
    steps: [
      { subject: 'Hi', text: 'one' },
      { delayDays: 1, text: 'two' },
    ],
  })
  await first!.addLeads(
    campaign.id,
    Array.from({ length: quick ? 60 : 150 }, (_, i) => ({ email: `lead${i}@example.com` })),
  )
  await first!.startCampaign(campaign.id)
  const days = quick ? 4 : 10
  const end = clock.now().getTime() + days * 86_400_000
  while (clock.now().getTime() < end) {
    await Promise.all(schedulers.map((s) => s.tick()))
    // Mostly forward 30 s; now and then the clock steps back or jumps ahead by minutes.
    const r = random()
    const step =
      r < 0.1
        ? -(1 + Math.floor(random() * 10)) * MINUTE
        : r < 0.2
          ? (1 + Math.floor(random() * 10)) * MINUTE
          : 30_000
    clock.set(new Date(clock.now().getTime() + step))
    // Nights pass quickly.
    const hour = clock.now().getUTCHours()
    if (hour >= 17 || hour < 7) clock.set(new Date(clock.now().getTime() + 60 * MINUTE))
  }
  const finalCampaign = (await store.getCampaign(campaign.id)) ?? campaign
  const deliveries: Delivery[] = transport.sent.map((s) => ({ ...s }))
  const problems = await checkInvariants({ store, campaigns: [finalCampaign], mailboxes, deliveries })
  console.log(
    `  clock steps: ${transport.sent.length} sent across ${days} days with the clock stepping both ways`,
  )
  for (const s of schedulers) await s.close()
  return problems
}
