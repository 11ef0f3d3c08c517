import type { CampaignInput, MailboxInput } from '../../model/types.js'
import { createScheduler, type Scheduler } from '../../scheduler/create.js'
import type { SchedulerOptions } from '../../scheduler/options.js'
import type { Store } from '../../store.js'
import { createFakeClock, type FakeClock } from '../clock.js'
import { createSeededRandom } from '../random.js'
import { createRecordingTransport, type RecordingTransport } from '../transport.js'

/** Makes a fresh, empty store for one test. Called once per test. */
export type MakeStore = () => Store | Promise<Store>

export interface ConformanceOptions {
  /** Per-test timeout in ms (real databases are slower). Default 60 000. */
  timeout?: number
  /**
   * Scenarios each fuzz property runs (`fuzzing the public API`). Default 30: a few seconds on
   * the memory store; database stores pass fewer.
   */
  fuzzRuns?: number
  /** Most random actions per fuzz scenario. Default 30. */
  fuzzLength?: number
  /** fast-check seed, to replay a failure the suite printed. Default: random per run. */
  fuzzSeed?: number
}

export interface Env {
  store: Store
  clock: FakeClock
  transport: RecordingTransport
  scheduler: Scheduler
  /** Another scheduler on the same store, as a second process would have. */
  another(options?: Partial<SchedulerOptions>): Scheduler
}

export type EnvOptions = Partial<SchedulerOptions> & { start?: Date; seed?: number }
export type EnvFn = (options?: EnvOptions) => Promise<Env>

/** Monday 5 January 2026, 08:00 UTC (09:00 in Warsaw). */
export const MONDAY = new Date('2026-01-05T08:00:00.000Z')
export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

export function createHarness(makeStore: MakeStore) {
  const open: Scheduler[] = []

  async function env(options: EnvOptions = {}): Promise<Env> {
    const { start, seed, ...rest } = options
    const store = await makeStore()
    const clock = createFakeClock(start ?? MONDAY)
    const transport = createRecordingTransport()
    const make = (extra: Partial<SchedulerOptions> = {}) => {
      const scheduler = createScheduler({
        store,
        transport,
        clock,
        random: createSeededRandom(seed ?? 7),
        lookahead: 0,
        ...rest,
        ...extra,
      })
      return scheduler
    }
    const scheduler = make()
    open.push(scheduler)
    return { store, clock, transport, scheduler, another: make }
  }

  /** Closes the schedulers (and through them the stores) the test opened. */
  async function cleanup() {
    await Promise.all(open.splice(0).map((s) => s.close()))
  }

  return { env, cleanup }
}

let counter = 0
/** A mailbox input with a unique address. */
export function mailbox(overrides: Partial<MailboxInput> = {}): MailboxInput {
  counter++
  return {
    email: `sender${counter}@mail${counter}.test`,
    name: `Sender ${counter}`,
    dailyEmailLimit: 1000,
    ...overrides,
  }
}

/** A campaign that may send around the clock, every day, without pacing, unless overridden. */
export function campaign(mailboxIds: string[], overrides: Partial<CampaignInput> = {}): CampaignInput {
  return {
    name: 'Conformance',
    timezone: 'UTC',
    startHour: 0,
    startMinute: 0,
    endHour: 24,
    endMinute: 0,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    jitter: 0,
    maxEmailsPerDay: 100_000,
    mailboxIds,
    steps: [
      {
        subject: 'Hello {{firstName|there}}',
        text: 'Hi {{firstName|there}}, a note for {{company|your team}}.',
      },
    ],
    ...overrides,
  }
}

export function leads(
  count: number,
  prefix = 'lead',
): Array<{ email: string; firstName: string; company: string }> {
  return Array.from({ length: count }, (_, i) => ({
    email: `${prefix}${i}@example.com`,
    firstName: `Name${i}`,
    company: `Company ${i}`,
  }))
}

/** Ticks until a tick sends nothing and nothing is due at the current instant. */
export async function drain(scheduler: Scheduler, maxTicks = 10_000): Promise<number> {
  let sent = 0
  for (let i = 0; i < maxTicks; i++) {
    const result = await scheduler.tick()
    sent += result.sent
    if (result.sent === 0 && result.retried === 0 && result.failed === 0) return sent
  }
  throw new Error(`drain: still sending after ${maxTicks} ticks`)
}

/**
 * Runs a host that sleeps until each tick's `nextDueAt`, or `idleMs` when a tick reports none,
 * until `until`. It relies on `nextDueAt` being right: a late one would show as missing sends.
 */
export async function runFor(e: Env, until: Date, idleMs = HOUR, scheduler: Scheduler = e.scheduler) {
  while (e.clock.now() < until) {
    const result = await scheduler.tick()
    const now = e.clock.now().getTime()
    const next = result.nextDueAt ? Math.max(result.nextDueAt.getTime(), now + 1) : now + idleMs
    e.clock.set(new Date(Math.min(next, until.getTime())))
  }
}

/** Counts occurrences of each key. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}
