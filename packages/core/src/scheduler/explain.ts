/**
 * `explain()`: the seed's "campaign does not send" checklist, answered by the engine itself.
 * Lists every condition that stops the campaign now, each with when it clears. It decides with the
 * tick's own rules (`due.ts`): the window, pacing and due checks, the candidate mailboxes, and which
 * due item can leave from which mailbox, so that when a tick sends nothing, explain() names why.
 */
import { formatInTimeZone } from 'date-fns-tz'
import type { Campaign, Mailbox, QueueStats } from '../model/types.js'
import { dayKey, isInWindow, nextWindowOpen, windowDayKey } from '../policy/calendar.js'
import type { DayCounts, DueCount } from '../store.js'
import {
  campaignLimitClears,
  type DueItemsVerdict,
  isPaused,
  mailboxLimitClears,
  whereDueItemsLeave,
} from './due.js'

export type ExplainCode =
  | 'not-running'
  | 'queue-empty'
  | 'not-due'
  | 'outside-window'
  | 'campaign-limit'
  | 'mailbox-limit'
  | 'pacing'
  | 'mailbox-paused'
  | 'mailbox-removed'
  /** Lead time zones: the due items' windows are closed in their leads' zones (`until` the first opens). */
  | 'lead-window'
  /** A skip date (a campaign's, a mailbox's, or a lead country's holiday) blocks the due items today. */
  | 'skip-date'

export interface ExplainReason {
  code: ExplainCode
  message: string
  /** When this reason stops holding, if known. */
  until?: Date
}

export interface MailboxState {
  id: string
  email: string
  /** Sends counted today, in the mailbox's own day. */
  currentDailySent: number
  dailyEmailLimit: number
  pausedUntil: Date | null
  pauseReason: string | null
}

export interface Explanation {
  /** True when nothing holds the campaign back: the next tick can send. */
  sending: boolean
  reasons: ExplainReason[]
  status: Campaign['status']
  queue: QueueStats
  /** Today's count and the daily cap of the campaign, in its window day. */
  campaignDailySent: number
  maxEmailsPerDay: number
  mailboxes: MailboxState[]
}

/** Builds the explanation from what the store returned. Pure. */
export function explainCampaign(input: {
  campaign: Campaign
  /** The campaign's mailboxes that exist. */
  mailboxes: readonly Mailbox[]
  queue: QueueStats
  counts: DayCounts
  /** The due pending items per mailbox (`Store.countDueByMailbox` at `now`). */
  due: readonly DueCount[]
  /** Mailboxes due items are tied to that are not among the campaign's, to name them. */
  otherMailboxes?: readonly Mailbox[]
  now: Date
}): Explanation {
  const { campaign, mailboxes, queue, counts, now } = input
  const reasons: ExplainReason[] = []
  const at = localTimeOf(campaign)

  if (campaign.status !== 'IN_PROGRESS') {
    const hint =
      campaign.status === 'DRAFT'
        ? ' (call startCampaign)'
        : campaign.status === 'PAUSED'
          ? ' (call resumeCampaign)'
          : ''
    reasons.push({ code: 'not-running', message: `campaign is ${campaign.status}${hint}` })
  }
  const itemsDue = queue.pending > 0 && !(queue.nextScheduledAt && queue.nextScheduledAt > now)
  if (queue.pending === 0) {
    const inFlight = queue.sending > 0 ? `; ${queue.sending} being sent` : ''
    reasons.push({
      code: 'queue-empty',
      message: `no pending emails (${queue.sent} sent, ${queue.failed} failed${inFlight})`,
    })
  } else if (!itemsDue && queue.nextScheduledAt) {
    reasons.push({
      code: 'not-due',
      message: `${queue.pending} pending, the first is due at ${at(queue.nextScheduledAt)}`,
      until: queue.nextScheduledAt,
    })
  }
  if (!isInWindow(campaign, now)) {
    const opens = nextWindowOpen(campaign, now)
    const window = `${hhmm(campaign.startHour, campaign.startMinute)}–${hhmm(campaign.endHour, campaign.endMinute)} ${campaign.allowedDays} ${campaign.timezone}`
    reasons.push({
      code: 'outside-window',
      message: `outside the window ${window}; opens ${at(opens)}`,
      until: opens,
    })
  }
  if (campaign.nextSlotAt && campaign.nextSlotAt > now) {
    reasons.push({
      code: 'pacing',
      message: `next send no earlier than ${at(campaign.nextSlotAt)} (delayBetweenEmails ${campaign.delayBetweenEmails}s ± ${Math.round(campaign.jitter * 100)}%)`,
      until: campaign.nextSlotAt,
    })
  }
  if (counts.campaign >= campaign.maxEmailsPerDay) {
    const until = campaignLimitClears(campaign, now)
    reasons.push({
      code: 'campaign-limit',
      message: `sent ${counts.campaign} of maxEmailsPerDay ${campaign.maxEmailsPerDay} today; resets ${at(until)}`,
      until,
    })
  }
  reasons.push(...mailboxReasons({ ...input, itemsDue }))

  const states: MailboxState[] = mailboxes.map((m) => ({
    id: m.id,
    email: m.email,
    currentDailySent: counts.mailboxes[m.id] ?? 0,
    dailyEmailLimit: m.dailyEmailLimit,
    pausedUntil: m.pausedUntil,
    pauseReason: m.pauseReason,
  }))
  return {
    sending: reasons.length === 0,
    reasons,
    status: campaign.status,
    queue,
    campaignDailySent: counts.campaign,
    maxEmailsPerDay: campaign.maxEmailsPerDay,
    mailboxes: states,
  }
}

/**
 * What the mailboxes hold back. With no mailbox usable, `mailbox-paused` (a tick skips for that
 * before it reserves). With items due, what keeps each of them from leaving, by the reservation's
 * own rule ({@link whereDueItemsLeave}): nothing when one can leave. With none due, whether every
 * usable mailbox is full, which will hold back the next one too.
 */
function mailboxReasons(
  input: Parameters<typeof explainCampaign>[0] & { itemsDue: boolean },
): ExplainReason[] {
  const { campaign, mailboxes, counts, due, now } = input
  const paused = mailboxes.filter((m) => isPaused(m, now))
  const active = mailboxes.filter((m) => !isPaused(m, now))
  if (active.length === 0) {
    const until = earliestPauseEnd(paused)
    const why = paused.map((m) => `${m.email}: ${m.pauseReason ?? 'paused'}`).join('; ')
    return [
      {
        code: 'mailbox-paused',
        message: `every mailbox is paused (${why || 'none configured'})`,
        ...(until ? { until } : {}),
      },
    ]
  }
  const everyMailboxFull = (): ExplainReason => {
    const until = mailboxLimitClears(campaign, [...active, ...paused], now)
    return {
      code: 'mailbox-limit',
      message: `every mailbox is at its dailyEmailLimit (${active.map((m) => usage(m, counts)).join(', ')})`,
      ...(until ? { until } : {}),
    }
  }
  // A due count read just before or after the queue stats may disagree with them: then the
  // mailboxes alone are looked at, as when nothing is due.
  if (!input.itemsDue || due.length === 0) {
    const full = active.filter((m) => (counts.mailboxes[m.id] ?? 0) >= m.dailyEmailLimit)
    return full.length === active.length ? [everyMailboxFull()] : []
  }
  const known = new Map<string, Mailbox>()
  for (const m of [...mailboxes, ...(input.otherMailboxes ?? [])]) known.set(m.id, m)
  const verdict = whereDueItemsLeave({ campaign, due, mailboxes: known, sent: counts.mailboxes, now })
  if (verdict.from.length > 0) return []
  return heldReasons(verdict, input, everyMailboxFull)
}

/** Why the due items wait, when none can leave: per kind of mailbox they wait for, naming them. */
function heldReasons(
  verdict: DueItemsVerdict,
  input: Parameters<typeof explainCampaign>[0],
  everyMailboxFull: () => ExplainReason,
): ExplainReason[] {
  const { campaign, counts, now } = input
  const at = localTimeOf(campaign)
  const reasons: ExplainReason[] = []
  const waiting = (held: ReadonlyArray<{ count: number }>) => {
    const n = held.reduce((total, h) => total + h.count, 0)
    return `${n === 1 ? '1 due email waits' : `${n} due emails wait`} for the mailbox of their thread`
  }
  const { full, paused, removed } = verdict
  if (verdict.unassignedHeld > 0) reasons.push(everyMailboxFull())
  else if (full.length > 0) {
    const until = mailboxLimitClears(
      campaign,
      full.map((h) => h.mailbox),
      now,
    )
    const which = full.map((h) => `${usage(h.mailbox, counts)} (${h.count})`).join(', ')
    reasons.push({
      code: 'mailbox-limit',
      message: `${waiting(full)}, at its dailyEmailLimit: ${which}; other mailboxes do not send them`,
      ...(until ? { until } : {}),
    })
  }
  if (paused.length > 0) {
    const until = earliestPauseEnd(paused.map((h) => h.mailbox))
    const which = paused.map(({ mailbox: m, count }) => {
      const ends = m.pausedUntil ? ` until ${at(m.pausedUntil)}` : ''
      return `${m.email} (${count}): ${m.pauseReason ?? 'paused'}${ends}`
    })
    reasons.push({
      code: 'mailbox-paused',
      message: `${waiting(paused)}, paused: ${which.join('; ')}`,
      ...(until ? { until } : {}),
    })
  }
  if (removed.length > 0) {
    const which = removed.map((h) => `${h.mailbox?.email ?? `mailbox ${h.mailboxId}`} (${h.count})`)
    reasons.push({
      code: 'mailbox-removed',
      message: `${waiting(removed)}, no longer among the campaign's mailboxIds: ${which.join(', ')}; they leave only if it is added back`,
    })
  }
  return reasons
}

/** Formats an instant in the campaign's time zone, as its window is written; `until` stays a Date. */
function localTimeOf(campaign: Campaign): (date: Date) => string {
  return (date) => formatInTimeZone(date, campaign.timezone, 'EEE yyyy-MM-dd HH:mm:ss zzz')
}

function usage(mailbox: Mailbox, counts: DayCounts): string {
  return `${mailbox.email} ${counts.mailboxes[mailbox.id] ?? 0}/${mailbox.dailyEmailLimit}`
}

function earliestPauseEnd(paused: readonly Mailbox[]): Date | null {
  return paused.reduce<Date | null>(
    (min, m) => (m.pausedUntil && (!min || m.pausedUntil < min) ? m.pausedUntil : min),
    null,
  )
}

/** The mailboxes due items are tied to that are not the campaign's: explain() names them. */
export function otherDueMailboxIds(campaign: Campaign, due: readonly DueCount[]): string[] {
  return due.flatMap((d) =>
    d.mailboxId !== null && !campaign.mailboxIds.includes(d.mailboxId) ? [d.mailboxId] : [],
  )
}

/** The day keys explain() counts on: today's window day (or the next window's), and each mailbox's day. */
export function explainDayKeys(campaign: Campaign, mailboxes: readonly Mailbox[], now: Date) {
  const campaignDayKey =
    windowDayKey(campaign, now) ??
    windowDayKey(campaign, nextWindowOpen(campaign, now)) ??
    dayKey(now, campaign.timezone)
  return {
    campaignId: campaign.id,
    campaignDayKey,
    mailboxes: mailboxes.map((m) => ({ mailboxId: m.id, dayKey: dayKey(now, m.timezone) })),
  }
}

function hhmm(hour: number, minute: number): string {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`
}
