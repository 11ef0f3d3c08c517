/**
 * What the race suite (races.ts) runs on: two schedulers, each on its own store over its own
 * connections to one backend, sharing a fake clock and a recording transport; a log that orders
 * store calls of both sides in real time; and the checks' bookkeeping.
 */
import { isMailcadenceError } from '../../errors.js'
import type { Campaign, CampaignInput, LeadInput } from '../../model/types.js'
import { createScheduler, type Scheduler } from '../../scheduler/create.js'
import type { SchedulerOptions } from '../../scheduler/options.js'
import type { ReservedSend, ReserveOutcome, ReserveRequest, Store } from '../../store.js'
import type { Transport } from '../../transport.js'
import { createFakeClock, type FakeClock } from '../clock.js'
import { createSeededRandom } from '../random.js'
import { createRecordingTransport, type RecordingTransport } from '../transport.js'
import { campaign as campaignInput, MONDAY, mailbox } from './harness.js'

/** Two stores over separate connections to one backend; see `runStoreRaces`. */
export interface RaceStores {
  /** A store on its own connections (its own pool or client). */
  a: Store
  /** Another store on other connections to the same, empty, backend (schema, database or file). */
  b: Store
  /** Called after the test, once both stores are closed: drop the schema, end the pools. */
  cleanup?: () => Promise<void>
}

/** Makes two stores over one fresh, empty backend; called once per race. */
export type MakeRaceStores = () => Promise<RaceStores>

export interface RaceOptions {
  /** Per-race timeout in ms. Default 60 000. */
  timeout?: number
  /** Rounds of each race. Default 20. */
  rounds?: number
}

/** One `reserveSends` request of either side, with when its store call started and ended. */
export interface ReservationRecord {
  side: 'a' | 'b'
  /** Log position when the store call started (see `RaceLog.mark`). */
  start: number
  end: number
  request: ReserveRequest
  outcome: ReserveOutcome
}

/**
 * Orders events of both sides in real time: `mark()` returns a number larger than every one given
 * before. Marks are taken synchronously when a store call starts and after it returns, so "a call
 * started after X returned" is `call.start > markAfterX`.
 */
export interface RaceLog {
  mark(): number
  readonly reservations: ReservationRecord[]
  /** Successful reservations whose store call started after `mark`, for which `which` holds. */
  reservedAfter(mark: number, which: (send: ReservedSend) => boolean): ReservationRecord[]
}

function createRaceLog(): RaceLog {
  let position = 0
  const reservations: ReservationRecord[] = []
  return {
    mark: () => ++position,
    reservations,
    reservedAfter: (mark, which) =>
      reservations.filter((r) => r.start > mark && r.outcome.ok && which(r.outcome.send)),
  }
}

/** The store, with its `reserveSends` calls recorded in the log; every other method as it is. */
function observed(store: Store, side: 'a' | 'b', log: RaceLog): Store {
  const reserveSends: Store['reserveSends'] = async (requests, now) => {
    const start = log.mark()
    const outcomes = await store.reserveSends(requests, now)
    const end = log.mark()
    for (const [i, outcome] of outcomes.entries()) {
      log.reservations.push({ side, start, end, request: requests[i]!, outcome })
    }
    return outcomes
  }
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'reserveSends') return reserveSends
      const value: unknown = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** The recording transport, with each send yielding to other work first, so sends overlap store calls. */
function yielding(transport: RecordingTransport, random: () => number): Transport {
  return {
    async send(message, context) {
      const turns = Math.floor(random() * 4)
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
      return transport.send(message, context)
    },
  }
}

/** No wait, a wait for the next I/O turn, or 1–5 ms: how much later the second side of a race starts. */
async function lag(random: () => number): Promise<void> {
  const kind = Math.floor(random() * 3)
  if (kind === 0) return
  if (kind === 1) await new Promise((resolve) => setImmediate(resolve))
  else await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(random() * 5)))
}

export interface RaceEnv {
  clock: FakeClock
  /** Every email either scheduler sent. */
  transport: RecordingTransport
  log: RaceLog
  /** The scheduler on store `a`, and the one on store `b`. */
  a: Scheduler
  b: Scheduler
  /** The stores themselves (observed), for direct calls. */
  storeA: Store
  storeB: Store
  mailboxId: string
  /** A campaign over the race's mailbox with these leads, started unless told. */
  campaign(input?: Partial<CampaignInput>, leads?: LeadInput[], start?: boolean): Promise<Campaign>
  /**
   * Runs one side of a race. In each round one side starts at once and the other a moment later
   * (at once too, after the next I/O turn, or 1–5 ms later), which side alternating every two
   * rounds, so that over the rounds either side may win.
   */
  side<T>(round: number, which: 'a' | 'b', run: () => Promise<T>): Promise<T>
  /** A tick that, like a host, tries again after a `store-unavailable` error (counted in `outages`). */
  tick(scheduler: Scheduler): Promise<void>
  /** Ticks both schedulers at once until neither sends anything. */
  drain(): Promise<void>
  /** Records a broken promise (the race goes on, so that one run shows how often it breaks). */
  violation(round: number, message: string): void
  readonly violations: string[]
  /** Ticks that failed with `store-unavailable` and were run again. */
  readonly outages: string[]
}

/** Schedulers for races: several sends per campaign per tick (so a tick has sends in flight), no lookahead. */
const SCHEDULING: Partial<SchedulerOptions> = { maxSendsPerCampaignPerTick: 20, lookahead: 0, concurrency: 8 }

export async function createRaceEnv(stores: RaceStores, seed: number): Promise<RaceEnv> {
  const clock = createFakeClock(MONDAY)
  const transport = createRecordingTransport()
  const log = createRaceLog()
  const random = createSeededRandom(seed)
  const storeA = observed(stores.a, 'a', log)
  const storeB = observed(stores.b, 'b', log)
  const make = (store: Store, s: number) =>
    createScheduler({
      store,
      transport: yielding(transport, random),
      clock,
      random: createSeededRandom(s),
      ...SCHEDULING,
    })
  const a = make(storeA, seed + 1)
  const b = make(storeB, seed + 2)
  const box = await a.createMailbox(mailbox({ dailyEmailLimit: 100_000 }))
  const violations: string[] = []
  const outages: string[] = []

  const tick = async (scheduler: Scheduler) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await scheduler.tick()
        return
      } catch (error) {
        if (attempt >= 5 || !isMailcadenceError(error, 'store-unavailable')) throw error
        outages.push(error.message)
      }
    }
  }

  return {
    clock,
    transport,
    log,
    a,
    b,
    storeA,
    storeB,
    mailboxId: box.id,
    async campaign(input = {}, leads = [], start = true) {
      const created = await a.createCampaign(campaignInput([box.id], input))
      if (leads.length > 0) await a.addLeads(created.id, leads)
      return start ? a.startCampaign(created.id) : created
    },
    async side(round, which, run) {
      const second = Math.floor(round / 2) % 2 === 0 ? 'b' : 'a'
      if (which === second) await lag(random)
      return run()
    },
    tick,
    async drain() {
      for (let i = 0; i < 100; i++) {
        const before = transport.sent.length
        await Promise.all([tick(a), tick(b)])
        if (transport.sent.length === before) return
      }
      throw new Error('drain: still sending after 100 ticks')
    },
    violation(round, message) {
      violations.push(`round ${round}: ${message}`)
    },
    violations,
    outages,
  }
}
