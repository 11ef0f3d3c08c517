/**
 * One run of the forecast: the real tick (scheduler/tick.ts) over a copy of the live state in a
 * memory store, on a simulated clock that jumps to each tick's `nextDueAt` (as a host sleeping
 * until then would), in shadow mode: every email is accepted, no message is built and no
 * transport is called (`ResolvedOptions.shadowWithoutMessage`), each still reserved and completed
 * in the store, so every limit counts it. Replies and bounces are drawn per send from a seeded
 * random source and applied as the host would (`stopLead`).
 */
import type { MemoryStore } from '../../memory/index.js'
import { emailKey } from '../../model/validate.js'
import type { KeyCalendars } from '../../policy/zones.js'
import { createFakeClock } from '../../testing/clock.js'
import { createSeededRandom } from '../../testing/random.js'
import type { TickSkipReason } from '../events.js'
import { type ResolvedOptions, resolveOptions } from '../options.js'
import { createTick } from '../tick.js'
import { copyIntoSim, type LiveSnapshot, type SimCopy } from './copy.js'

const DAY_MS = 86_400_000
/**
 * With one campaign in the sim, a tick may wait for its pacing slots for up to an hour and send
 * many emails: the same instants as one tick per email at each `nextDueAt`, in far fewer ticks.
 * With several campaigns, waits inside a tick would overlap on the simulated clock, so ticks do
 * not wait (lookahead 0), each campaign sends as many per tick as the live options say, and the
 * clock moves between ticks only.
 */
const FAST = { lookahead: 3_600_000, maxSendsPerCampaignPerTick: 10_000 }

export interface SimInput {
  live: LiveSnapshot
  options: ResolvedOptions
  calendars: KeyCalendars
  start: Date
  /** The horizon's end (ms): the run stops there if the campaign has not finished. */
  until: number
  seed: number
  replyRate: number
  bounceRate: number
}

export interface SimRun {
  copy: SimCopy
  /** Instants (ms) of the forecast campaign's sends, in order. */
  sends: number[]
  /** The engine's skip reasons for the forecast campaign, with their instants (ms). */
  skips: Array<{ at: number; reason: TickSkipReason }>
  /** When the campaign had nothing left to send, or null: not within the horizon. */
  finishedAt: Date | null
  /** When the run stopped (the finish, or the horizon's end). */
  endedAt: Date
  /**
   * The forecast campaign's emails sent or still waiting at the end: when each was due and when it
   * left (`Infinity`: it did not), as its queue items would say, for days.ts.
   */
  departures: Departure[]
}

export interface Departure {
  due: number
  left: number
}

export async function simulate(input: SimInput): Promise<SimRun> {
  const { live, options, start, until } = input
  const copy = await copyIntoSim(live, start)
  const target = copy.campaignId
  const clock = createFakeClock(start)
  const attrition = createSeededRandom(input.seed ^ 0x5bd1e995)
  const stopRate = input.replyRate + input.bounceRate
  const sends: number[] = []
  const skips: SimRun['skips'] = []
  const departures: Departure[] = []
  const dues = dueTimes(target, departures)
  let completed = false
  const single = live.campaigns.length === 1
  const resolved = resolveOptions({
    store: copy.store,
    // Shadow mode: every email is accepted and recorded as sent, no transport is called.
    mode: 'shadow',
    clock,
    random: createSeededRandom(input.seed),
    concurrency: options.concurrency,
    lookahead: single ? FAST.lookahead : 0,
    maxSendsPerCampaignPerTick: single ? FAST.maxSendsPerCampaignPerTick : options.maxSendsPerCampaignPerTick,
    lease: options.lease,
    retry: options.retry,
    ...(options.holidays ? { holidays: options.holidays } : {}),
    onEvent(event) {
      if (event.type === 'sent') {
        if (event.campaignId === target) {
          sends.push(event.at.getTime())
          dues.left(event.itemId, event.at.getTime())
        }
        if (stopRate > 0) {
          const draw = attrition()
          if (draw < stopRate) {
            // The memory store does its work before its promise settles: the stop holds at once.
            const status = draw < input.bounceRate ? 'bounced' : 'replied'
            void copy.store.stopLead(
              event.campaignId,
              emailKey(event.to),
              status,
              `forecast: ${status}`,
              event.at,
            )
          }
        }
      } else if (event.type === 'skipped') {
        if (event.campaignId === target) skips.push({ at: event.at.getTime(), reason: event.reason })
      } else if (event.type === 'campaign-completed' && event.campaignId === target) completed = true
    },
  })
  // The sim counts sends and reads none of their content: no message is built (options.ts).
  const sim: ResolvedOptions = {
    ...resolved,
    store: { ...copy.store, reserveSends: dues.noting(copy.store) },
    shadowWithoutMessage: true,
  }
  const tick = createTick(sim, input.calendars)
  while (!completed && clock.now().getTime() < until) {
    const result = await tick()
    if (completed) break
    const after = clock.now().getTime()
    // Nothing waiting anywhere: look again a day later (a paused mailbox, a campaign on hold).
    const next = result.nextDueAt ? Math.max(result.nextDueAt.getTime(), after + 1) : after + DAY_MS
    clock.set(new Date(Math.min(next, until)))
  }
  const last = sends.length > 0 ? new Date(sends[sends.length - 1]!) : start
  if (!completed) {
    // Emails still waiting at the horizon: only a run that did not finish has any.
    for (const item of await copy.store.listQueueItems(target)) {
      if (item.status === 'pending' || item.status === 'sending')
        departures.push({ due: item.scheduledAt.getTime(), left: Number.POSITIVE_INFINITY })
    }
  }
  return {
    copy,
    sends,
    skips,
    finishedAt: completed ? last : null,
    endedAt: completed ? last : new Date(Math.min(clock.now().getTime(), until)),
    departures,
  }
}

/**
 * When each of the campaign's emails was due and when it left, as its queue item would say (its
 * `scheduledAt` at its last reservation, which nothing changes after, and its `sentAt`), without
 * reading a copy of every item back at the end: the sim's `reserveSends` notes the due times, the
 * `sent` event the departure (its instant is the completion's: the sim's clock moves only between
 * ticks and in a campaign's own waits, never between a send and its record).
 */
function dueTimes(campaignId: string, departures: Departure[]) {
  const dueOf = new Map<string, number>()
  return {
    noting(store: MemoryStore): MemoryStore['reserveSends'] {
      return (requests, now) =>
        store.reserveSends(requests, now).then((outcomes) => {
          for (const outcome of outcomes) {
            if (outcome.ok && outcome.send.item.campaignId === campaignId)
              dueOf.set(outcome.send.item.id, outcome.send.item.scheduledAt.getTime())
          }
          return outcomes
        })
    },
    left(itemId: string, at: number): void {
      const due = dueOf.get(itemId)
      if (due === undefined) return
      dueOf.delete(itemId)
      departures.push({ due, left: at })
    },
  }
}
