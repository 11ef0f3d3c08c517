/**
 * The forecast's shadow sends (`ResolvedOptions.shadowWithoutMessage`): no message is built, yet
 * every send reserves and completes as a shadow send with a message does, follow-ups included.
 */
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/memory/index.js'
import { createScheduler } from '../src/scheduler/create.js'
import type { SchedulerEvent } from '../src/scheduler/events.js'
import { type ResolvedOptions, resolveOptions, type SchedulerOptions } from '../src/scheduler/options.js'
import { createTick } from '../src/scheduler/tick.js'
import { createFakeClock } from '../src/testing/clock.js'
import { createSeededRandom } from '../src/testing/random.js'

const MONDAY_NINE = new Date('2026-01-05T08:00:00Z')

/** Three leads, two steps a day apart, ticked for three days in shadow mode; what was sent. */
async function run(without: boolean, extra: Partial<SchedulerOptions> = {}) {
  const store = createMemoryStore()
  const clock = createFakeClock(MONDAY_NINE)
  // Set up through the scheduler; ticked below by a tick of the test's own options.
  const setup = createScheduler({ store, mode: 'shadow', clock })
  const mailbox = await setup.createMailbox({
    email: 'rep@acme.test',
    dailyEmailLimit: 50,
    timezone: 'Europe/Warsaw',
  })
  const campaign = await setup.createCampaign({
    name: 'Shadow',
    timezone: 'Europe/Warsaw',
    startHour: 9,
    endHour: 17,
    allowedDays: 'MON,TUE,WED,THU,FRI',
    delayBetweenEmails: 60,
    jitter: 0,
    maxEmailsPerDay: 100,
    mailboxIds: [mailbox.id],
    steps: [
      { subject: 'Hello {{firstName}}', text: 'Hi' },
      { delayDays: 1, text: 'Following up' },
    ],
  })
  await setup.addLeads(
    campaign.id,
    ['ana', 'bo', 'cy'].map((name) => ({ email: `${name}@example.com`, firstName: name })),
  )
  await setup.startCampaign(campaign.id)
  const events: SchedulerEvent[] = []
  const resolved = resolveOptions({
    store,
    mode: 'shadow',
    clock,
    random: createSeededRandom(7),
    lookahead: 3_600_000,
    maxSendsPerCampaignPerTick: 100,
    onEvent: (e) => events.push(e),
    ...extra,
  })
  const options: ResolvedOptions = without ? { ...resolved, shadowWithoutMessage: true } : resolved
  const tick = createTick(options)
  const end = MONDAY_NINE.getTime() + 3 * 86_400_000
  while (clock.now().getTime() < end) {
    const result = await tick()
    const next = result.nextDueAt?.getTime() ?? clock.now().getTime() + 3_600_000
    clock.set(new Date(Math.min(Math.max(next, clock.now().getTime() + 1), end)))
  }
  const sent = events.flatMap((e) => (e.type === 'sent' ? [e] : []))
  return { store, campaignId: campaign.id, sent }
}

describe('shadow sends without a message (the forecast)', () => {
  it('reserve and complete every send, follow-ups included, as shadow sends with a message do', async () => {
    const built = await run(false)
    const bare = await run(true)
    const shape = (sent: typeof built.sent) => sent.map((e) => [e.at.toISOString(), e.to, e.step, e.shadow])
    expect(bare.sent).toHaveLength(6)
    expect(shape(bare.sent)).toEqual(shape(built.sent))
    expect(await bare.store.queueStats(bare.campaignId)).toEqual(
      await built.store.queueStats(built.campaignId),
    )
    // Nothing was built: no subject, where the built ones have the step's.
    expect(built.sent[0]!.subject).toBe('Hello ana')
    expect(bare.sent.every((e) => e.subject === '')).toBe(true)
  })

  it('still build the message when a hook reads it (beforeSend)', async () => {
    const seen: string[] = []
    const bare = await run(true, {
      beforeSend: ({ subject }) => {
        seen.push(subject)
        return true
      },
    })
    expect(bare.sent).toHaveLength(6)
    expect(seen[0]).toBe('Hello ana')
    expect(bare.sent[0]!.subject).toBe('Hello ana')
  })
})
