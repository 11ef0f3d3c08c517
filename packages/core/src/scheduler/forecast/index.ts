/**
 * `scheduler.forecast()`: when will a campaign be done, and what holds it back each day. It runs
 * the real engine over a copy of the campaign's state (simulate.ts), once or many times with replies
 * and bounces drawn at random, and never touches the live store or transport.
 */
import { invalidInput, MailcadenceError } from '../../errors.js'
import { checkFunction, checkInteger, checkNumber, checkObject } from '../../model/checks.js'
import type { Campaign } from '../../model/types.js'
import type { KeyCalendars } from '../../policy/zones.js'
import { createSeededRandom } from '../../testing/random.js'
import type { ResolvedOptions } from '../options.js'
import { readLive } from './copy.js'
import { type ForecastDay, perDay } from './days.js'
import { type SimRun, simulate } from './simulate.js'

export type { ForecastBottleneck, ForecastDay } from './days.js'

export interface ForecastOptions {
  /** Share of sends (0 to 1) whose lead replies, ending its sequence. Default 0. */
  replyRate?: number
  /** Share of sends (0 to 1) that bounce, ending the lead's sequence. Default 0. */
  bounceRate?: number
  /** Monte Carlo runs, 1 to 1000. Default 1 without rates, 20 with a reply or bounce rate. */
  runs?: number
  /** How far to look, in days (1 to 1830). Default 366. */
  horizonDays?: number
  /**
   * Random numbers in [0, 1), from which each run's jitter and attrition are seeded. Default: a
   * source seeded from the campaign id, so the same state gives the same answer.
   */
  random?: () => number
}

export interface Forecast {
  campaignId: string
  /** The instant the forecast starts from (the scheduler's clock). */
  from: Date
  /** The median run's last send; null when it does not finish within the horizon. */
  finishesAt: Date | null
  /** The 90th percentile of the runs' last sends (equal to `finishesAt` with one run); null when beyond. */
  finishesAtP90: Date | null
  /** True when the median run does not finish within the horizon: `finishesAt` is null, never a guess. */
  beyondHorizon: boolean
  /** The horizon's end. */
  horizonEnd: Date
  runs: number
  /** Emails the median run sends, and those it still had pending at its end (0 when finished). */
  sent: number
  remaining: number
  /** The median run, per local day of the campaign from `from` to its end. */
  days: ForecastDay[]
}

export interface ForecastDeps {
  options: ResolvedOptions
  calendars: KeyCalendars
}

const DAY_MS = 86_400_000

export async function runForecast(
  deps: ForecastDeps,
  campaign: Campaign,
  input: ForecastOptions = {},
): Promise<Forecast> {
  const opts = checkForecastOptions(input)
  if (campaign.status === 'CANCELLED')
    throw new MailcadenceError('invalid-state', `campaign ${campaign.id} is CANCELLED: nothing to forecast`)
  const { store, clock } = deps.options
  const from = clock.now()
  const until = from.getTime() + opts.horizonDays * DAY_MS
  const live = await readLive(store, campaign, from)
  const random = opts.random ?? createSeededRandom(hashOf(campaign.id))
  const runs: SimRun[] = []
  for (let i = 0; i < opts.runs; i++) {
    runs.push(
      await simulate({
        live,
        options: deps.options,
        calendars: deps.calendars,
        start: from,
        until,
        seed: Math.floor(random() * 2 ** 32),
        replyRate: opts.replyRate,
        bounceRate: opts.bounceRate,
      }),
    )
  }
  const finish = (r: SimRun) => r.finishedAt?.getTime() ?? Number.POSITIVE_INFINITY
  const sorted = [...runs].sort((a, b) => finish(a) - finish(b))
  const median = sorted[Math.ceil(sorted.length * 0.5) - 1]!
  const p90 = sorted[Math.ceil(sorted.length * 0.9) - 1]!
  const stats = await median.copy.store.queueStats(median.copy.campaignId)
  return {
    campaignId: campaign.id,
    from,
    finishesAt: median.finishedAt,
    finishesAtP90: p90.finishedAt,
    beyondHorizon: median.finishedAt === null,
    horizonEnd: new Date(until),
    runs: opts.runs,
    sent: median.sends.length,
    remaining: stats.pending + stats.sending,
    days: await perDay(median, campaign, from),
  }
}

function checkForecastOptions(input: ForecastOptions) {
  checkObject('options', input)
  const replyRate = input.replyRate === undefined ? 0 : checkNumber('replyRate', input.replyRate, 0, 1)
  const bounceRate = input.bounceRate === undefined ? 0 : checkNumber('bounceRate', input.bounceRate, 0, 1)
  if (replyRate + bounceRate > 1) throw invalidInput('replyRate', 'plus bounceRate must be at most 1')
  const attrition = replyRate + bounceRate > 0
  const runs = input.runs === undefined ? (attrition ? 20 : 1) : checkInteger('runs', input.runs, 1, 1000)
  const horizonDays =
    input.horizonDays === undefined ? 366 : checkInteger('horizonDays', input.horizonDays, 1, 1830)
  const random = input.random === undefined ? undefined : checkFunction<() => number>('random', input.random)
  return { replyRate, bounceRate, runs, horizonDays, random }
}

/** A 32-bit FNV-1a hash: the default seed, so one campaign's forecast is reproducible. */
function hashOf(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}
