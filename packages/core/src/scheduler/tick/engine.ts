/**
 * What a tick's parts share: the engine, made once per scheduler (batchers, send slots, timeouts,
 * deliveries under way), and the run, made once per tick (its result, horizon, mailboxes).
 */
import type { Mailbox } from '../../model/types.js'
import type { KeyCalendars } from '../../policy/zones.js'
import type {
  CampaignDeferral,
  Completion,
  CompletionOutcome,
  CounterClaim,
  ReserveOutcome,
  ReserveRequest,
} from '../../store.js'
import { supportsCounters } from '../../store-kit/index.js'
import { createBatcher } from '../batcher.js'
import type { createCandidates } from '../candidates.js'
import type { Delivered } from '../deliver.js'
import type { TickResult, TickSkipReason } from '../events.js'
import type { ResolvedOptions } from '../options.js'
import { createSendTimeouts, type TIMED_OUT } from '../send-timeout.js'
import { createSlots } from '../slots.js'
import { claimTogether, type HourFull } from './limit-claims.js'
import { withStoreRetry } from './store-retry.js'

/** Store calls coalesce up to 200 elements; four such calls may be in flight at once. */
const BATCHING = { maxBatch: 200, maxInFlight: 4 }
/**
 * Reservations go one batch at a time: a store reserving a batch set-based locks the day counts of
 * the batch's mailboxes, so a second batch would only queue behind the first, while what waits
 * here goes out together as the next, larger, batch.
 */
const RESERVE_BATCHING = { maxBatch: 200, maxInFlight: 1 }

export interface TickEngine {
  options: ResolvedOptions
  /** Window keys, skip dates and holidays (policy/zones.ts), shared with explain(). */
  calendars: KeyCalendars
  reserve(request: ReserveRequest): Promise<ReserveOutcome>
  complete(completion: Completion): Promise<CompletionOutcome>
  /** After the batched call was refused: the same completion in a call of its own (deliver.ts). */
  completeAlone(completion: Completion): Promise<CompletionOutcome>
  slots: ReturnType<typeof createSlots>
  holdSlot(itemId: string): void
  releaseSlot(itemId: string): void
  sendWithin<T>(itemId: string, call: Promise<T>): Promise<T | typeof TIMED_OUT>
  sendTimeouts: ReturnType<typeof createSendTimeouts>
  /** Deliveries under way in this process, by item id, for a tick that gives some of them up. */
  delivering: Map<string, Promise<Delivered | 'held'>>
  /** Mailboxes this process saw at their hourly cap, until the hour ends (tick/limit-claims.ts). */
  hourFull: HourFull
  /**
   * `CounterStore.claimCounters` of one round's limits, coalesced with the other rounds' under way
   * (tick/limit-claims.ts `claimTogether`); null when the store has no counters.
   */
  claimRound: ((claims: CounterClaim[]) => Promise<boolean>) | null
}

/** One tick's shared state. */
export interface TickRun {
  result: TickResult
  /** No campaign waits inside the tick past this instant (ms): `lookahead` after it started. */
  horizon: number
  /** Instants something held back may send: the smallest is the result's `nextDueAt`. */
  dueTimes: Date[]
  /**
   * Campaigns whose window stays closed past the horizon: the store may leave them out of the next
   * ticks' lists until it opens (Store.deferCampaigns).
   */
  deferrals: CampaignDeferral[]
  mailboxes: Map<string, Mailbox>
  candidates: ReturnType<typeof createCandidates>
  skip(campaignId: string, reason: TickSkipReason, until?: Date | null): void
  completeIfDrained(campaignId: string): Promise<void>
}

export function createTickEngine(options: ResolvedOptions, calendars: KeyCalendars): TickEngine {
  const { store, clock } = options
  // A send slot is taken before reserving and given back when the delivery is done: at most
  // `concurrency` items are reserved by this process and not yet recorded, so a crash strands no
  // more than that many (recovery fails them as interrupted), whatever the number of campaigns.
  const slots = createSlots(options.concurrency)
  // A send's slot comes back as soon as the transport returns or is given up at `sendTimeout` (its
  // completion, a store call, may still be on its way), or when the delivery ends without calling
  // the transport.
  // Slots held per item id (more than one only if an item expired and was reserved again while
  // its first delivery was still out): each release gives back all of an item's, so none is lost.
  const holding = new Map<string, number>()
  // No transport call keeps its slot, or the tick, longer than `sendTimeout` (send-timeout.ts).
  const sendTimeouts = createSendTimeouts(options.sendTimeout, clock)
  return {
    options,
    calendars,
    reserve: createBatcher<ReserveRequest, ReserveOutcome>(
      (reqs) => store.reserveSends(reqs, clock.now()),
      RESERVE_BATCHING,
    ),
    complete: createBatcher<Completion, CompletionOutcome>(
      (items) => withStoreRetry(() => store.completeSends(items, clock.now())),
      BATCHING,
    ),
    async completeAlone(completion) {
      const [outcome] = await withStoreRetry(() => store.completeSends([completion], clock.now()))
      if (outcome === undefined) throw new Error('completeSends returned no result')
      return outcome
    },
    slots,
    holdSlot: (itemId) => holding.set(itemId, (holding.get(itemId) ?? 0) + 1),
    releaseSlot(itemId) {
      const held = holding.get(itemId)
      if (held === undefined) return
      holding.delete(itemId)
      slots.release(held)
    },
    sendWithin: (itemId, call) => sendTimeouts.within(itemId, call),
    sendTimeouts,
    delivering: new Map(),
    hourFull: new Map(),
    claimRound: supportsCounters(store)
      ? createBatcher<CounterClaim[], boolean>(
          (rounds) => claimTogether(store, rounds, clock.now()),
          // One at a time, as reservations: the rounds that wait meanwhile go out together, and one
          // statement locks a mailbox's hour counter once for all of them.
          RESERVE_BATCHING,
        )
      : null,
  }
}
