/**
 * A run's sends per local day of the campaign, and per day the limit that bound it, read from
 * what the engine said during the run (its skip reasons: `campaign-limit`, `mailbox-limit`,
 * `skip-date`, `lead-window`, …) and from when each email was due and left (emails due but still
 * waiting when the day's sending ended), not from a second copy of the rules.
 */
import type { Campaign } from '../../model/types.js'
import { dayKey, nextLocalMidnight, nextWindowOpen } from '../../policy/calendar.js'
import type { TickSkipReason } from '../events.js'
import type { Departure, SimRun } from './simulate.js'

/**
 * What held a day's sends where they are:
 * - `campaign-limit`: the campaign's `maxEmailsPerDay` was reached;
 * - `mailbox-limit`: its mailboxes were full (`mailboxIds`: those at their `dailyEmailLimit`,
 *   counting every campaign's sends);
 * - `window`: the window closed with emails still due: its length × the pacing was the day's room;
 * - `lead-window`: emails were due only to leads whose window (their zone) was closed;
 * - `skip-date`: a skip date or holiday (the campaign's, the leads', or every mailbox's);
 * - `mailbox-paused`: every mailbox was paused;
 * - `outside-window`: not a sending day of the campaign (its allowed days);
 * - `nothing-due`: everything due was sent (follow-ups wait for their delay, or the campaign finished).
 */
export type ForecastBottleneck =
  | 'campaign-limit'
  | 'mailbox-limit'
  | 'window'
  | 'lead-window'
  | 'skip-date'
  | 'mailbox-paused'
  | 'outside-window'
  | 'nothing-due'

export interface ForecastDay {
  /** The campaign's local date, `YYYY-MM-DD` (its `timezone`). */
  date: string
  /** Emails the campaign sends that day. */
  sent: number
  bottleneck: ForecastBottleneck
  /** With `mailbox-limit`: the (live) ids of the campaign's mailboxes at their limit that day. */
  mailboxIds?: string[]
}

/** Skip reasons that name the day's bottleneck, the most telling first. */
const HOLDS: ReadonlyArray<[TickSkipReason, ForecastBottleneck]> = [
  ['campaign-limit', 'campaign-limit'],
  ['mailbox-limit', 'mailbox-limit'],
  ['skip-date', 'skip-date'],
  ['mailbox-paused', 'mailbox-paused'],
  ['lead-window', 'lead-window'],
  ['outside-window', 'outside-window'],
]

export async function perDay(run: SimRun, campaign: Campaign, from: Date): Promise<ForecastDay[]> {
  const waitingPast = waitingAfter(run.departures)
  const tz = campaign.timezone
  const days: ForecastDay[] = []
  let s = 0
  let k = 0
  const end = run.endedAt.getTime()
  for (let dayStart = from.getTime(); dayStart <= end; ) {
    const dayEnd = nextLocalMidnight(new Date(dayStart), tz).getTime()
    const date = dayKey(new Date(dayStart), tz)
    let sent = 0
    let last = 0
    while (s < run.sends.length && run.sends[s]! < dayEnd) {
      last = run.sends[s++]!
      sent++
    }
    const reasons = new Map<TickSkipReason, number>()
    while (k < run.skips.length && run.skips[k]!.at < dayEnd) {
      const skip = run.skips[k++]!
      if (!reasons.has(skip.reason)) reasons.set(skip.reason, skip.at)
    }
    const day: ForecastDay = { date, sent, bottleneck: 'nothing-due' }
    const held = HOLDS.find(([reason]) => reasons.has(reason))
    if (sent > 0) {
      if (held && (held[1] === 'campaign-limit' || held[1] === 'mailbox-limit')) day.bottleneck = held[1]
      else if (waitingPast(last)) day.bottleneck = reasons.has('lead-window') ? 'lead-window' : 'window'
    } else if (campaign.skipDates.includes(date)) day.bottleneck = 'skip-date'
    else if (held) day.bottleneck = held[1]
    else if (nextWindowOpen(campaign, new Date(dayStart)).getTime() >= dayEnd)
      day.bottleneck = 'outside-window'
    if (day.bottleneck === 'mailbox-limit')
      day.mailboxIds = await fullMailboxes(run, reasons.get('mailbox-limit')!)
    days.push(day)
    dayStart = dayEnd
  }
  return days
}

/**
 * Whether an email was due at `at` but left later (or not at all): the run's emails by due time,
 * with the latest departure among those due by then.
 */
function waitingAfter(departures: readonly Departure[]): (at: number) => boolean {
  const live = [...departures].sort((a, b) => a.due - b.due)
  const latest: number[] = []
  let max = Number.NEGATIVE_INFINITY
  for (const i of live) {
    max = Math.max(max, i.left)
    latest.push(max)
  }
  return (at) => {
    // The last item due at or before `at`.
    let lo = 0
    let hi = live.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (live[mid]!.due <= at) lo = mid + 1
      else hi = mid
    }
    return lo > 0 && latest[lo - 1]! > at
  }
}

/** The campaign's mailboxes at their limit on their day of `at`, by live id. */
async function fullMailboxes(run: SimRun, at: number): Promise<string[]> {
  const { copy } = run
  const campaign = await copy.store.getCampaign(copy.campaignId)
  const mailboxes = await copy.store.getMailboxes(campaign?.mailboxIds ?? [])
  const instant = new Date(at)
  const counts = await copy.store.dayCounts({
    campaignId: copy.campaignId,
    campaignDayKey: dayKey(instant, campaign?.timezone ?? 'UTC'),
    mailboxes: mailboxes.map((m) => ({ mailboxId: m.id, dayKey: dayKey(instant, m.timezone) })),
  })
  return mailboxes
    .filter((m) => (counts.mailboxes[m.id] ?? 0) >= m.dailyEmailLimit)
    .map((m) => copy.liveMailboxId.get(m.id) ?? m.id)
}
