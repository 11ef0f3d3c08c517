/**
 * One run of the forecast: the real tick (scheduler/tick.ts) over a copy of the live state in a
 * memory store, on a simulated clock that jumps to each tick's `nextDueAt` (as a host sleeping
 * until then would), in shadow mode: every email is accepted, no transport is called. Replies
 * and bounces are drawn per send from a seeded random source and applied as the host would
 * (`stopLead`).
 */
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
        if (event.campaignId === target) sends.push(event.at.getTime())
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
  const sim: ResolvedOptions = { ...resolved, shadowWithoutMessage: true }
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
  return {
    copy,
    sends,
    skips,
    finishedAt: completed ? last : null,
    endedAt: completed ? last : new Date(Math.min(clock.now().getTime(), until)),
  }
}
