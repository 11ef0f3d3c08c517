/**
 * `explain()`: the seed's "campaign does not send" checklist, answered by the engine itself.
 * Lists every condition that stops the campaign now, each with when it clears. It decides with the
 * tick's own rules (`due.ts`): the window, pacing and due checks, the candidate mailboxes, and which
 * due item can leave from which mailbox, so that when a tick sends nothing, explain() names why.
 */
import { formatInTimeZone } from 'date-fns-tz'
import type { AutoWinner, Campaign, Mailbox, QueueStats } from '../model/types.js'
import { dayKey, isInWindow, nextLocalMidnight, nextWindowOpen, windowDayKey } from '../policy/calendar.js'
import { isGuardReason } from '../policy/guards.js'
import { dailyLimitOf } from '../policy/ramp.js'
import { type KeyCalendars, parseWindowKey } from '../policy/zones.js'
import type { DayCounts, DueCount, WindowKeyStat } from '../store.js'
import {
  campaignLimitClears,
  closedBySkipDate,
  type DueItemsVerdict,
  isPaused,
  leadCampaignLimitClears,
  mailboxLimitClears,
  mailboxSkipDate,
  whereDueItemsLeave,
} from './due.js'
import { domainLimitReason, hourlyLimitReason, isHourFull, type LimitFigures } from './explain-limits.js'
import { providerHeld } from './explain-providers.js'
import type { GuardTrip } from './guards.js'

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
  /** Every usable mailbox sent its `hourlyLimit` this clock hour (`until` the first hour ends). */
  | 'hourly-limit'
  /** Every due first email goes to a recipient domain that had its `recipientDomainLimit.perDay` today. */
  | 'domain-limit'
  /** Mailboxes are full at their warm-up limit of the day, below `dailyEmailLimit` (`rampUp`). */
  | 'ramp-limit'
  /**
   * Provider matching `'strict'`: the due first emails wait for a mailbox of their recipients'
   * provider with room (`until` the first may have one; absent when the campaign has none).
   */
  | 'provider-wait'
  /**
   * A guard paused the campaign, or the mailboxes the due items need (`SchedulerOptions.guards`):
   * the message gives the figures; it holds until the host resumes it (no `until`).
   */
  | 'guard'

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
  /** Today's limit: `dailyEmailLimit`, or lower while a warm-up (`rampUp`) ramps. */
  rampedLimit: number
  /** Sends counted this clock hour, in the mailbox's zone (0 without an `hourlyLimit`). */
  currentHourlySent: number
  hourlyLimit: number | null
  pausedUntil: Date | null
  pauseReason: string | null
  /** The mailbox's provider (provider matching); null until looked up. */
  provider: Mailbox['provider']
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
  /**
   * Steps with A/B variants (absent when the campaign has none): their variant ids, `autoWinner`
   * rule and winner (null while the test runs). Counts: `scheduler.variantStats`.
   */
  variants?: VariantState[]
}

/** One step's A/B test, as `explain()` shows it. */
export interface VariantState {
  step: number
  variantIds: string[]
  autoWinner: AutoWinner | null
  winner: string | null
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
  /** The scheduler's key calendars; with `keys`, for a keyed campaign (`KeyCalendars.isKeyed`). */
  calendars?: KeyCalendars
  /** A keyed campaign's pending window keys (`Store.listWindowKeys`). */
  keys?: readonly WindowKeyStat[]
  /** Hourly counts and domain-held first emails (explain-limits.ts); absent: none. */
  limits?: LimitFigures
  /** The guard that paused the campaign, if one did (`Guards.campaignTrip`). */
  guardTrip?: GuardTrip
  now: Date
}): Explanation {
  const { campaign, mailboxes, queue, counts, now } = input
  const reasons: ExplainReason[] = []
  const at = localTimeOf(campaign)
  const keyed =
    input.calendars !== undefined && input.keys !== undefined && input.calendars.isKeyed(campaign)
      ? { calendars: input.calendars, keys: input.keys }
      : null
  const leadHours = campaign.windowTimezone === 'lead'

  if (campaign.status === 'PAUSED' && input.guardTrip) {
    reasons.push({
      code: 'guard',
      message: `campaign paused by a guard: ${input.guardTrip.description} (call resumeCampaign)`,
    })
  } else if (campaign.status !== 'IN_PROGRESS') {
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
    if (input.limits && input.limits.domainHeld > 0)
      reasons.push(domainLimitReason(campaign, input.limits, queue.nextScheduledAt))
  }
  // In its leads' hours the campaign's own window does not gate: each key's does (below).
  const campaignWindowOpen = leadHours || isInWindow(campaign, now)
  if (!campaignWindowOpen) {
    const opens = nextWindowOpen(campaign, now)
    if (closedBySkipDate(campaign, now)) {
      reasons.push({
        code: 'skip-date',
        message: `${dayKey(now, campaign.timezone)} is one of the campaign's skipDates; opens ${at(opens)}`,
        until: opens,
      })
    } else {
      const window = `${hhmm(campaign.startHour, campaign.startMinute)}–${hhmm(campaign.endHour, campaign.endMinute)} ${campaign.allowedDays} ${campaign.timezone}`
      reasons.push({
        code: 'outside-window',
        message: `outside the window ${window}; opens ${at(opens)}`,
        until: opens,
      })
    }
  }
  if (campaign.nextSlotAt && campaign.nextSlotAt > now) {
    reasons.push({
      code: 'pacing',
      message: `next send no earlier than ${at(campaign.nextSlotAt)} (delayBetweenEmails ${campaign.delayBetweenEmails}s ± ${Math.round(campaign.jitter * 100)}%)`,
      until: campaign.nextSlotAt,
    })
  }
  const cap = keyed ? keyed.calendars.dailyCap(campaign, keyed.keys, now) : campaign.maxEmailsPerDay
  if (counts.campaign >= cap) {
    const until =
      keyed && leadHours
        ? leadCampaignLimitClears(keyed.calendars, campaign, keyed.keys, now)
        : campaignLimitClears(campaign, now)
    const share = cap < campaign.maxEmailsPerDay ? `its share so far (${cap}) of ` : ''
    reasons.push({
      code: 'campaign-limit',
      message: `sent ${counts.campaign} of ${share}maxEmailsPerDay ${campaign.maxEmailsPerDay} today; ${share ? 'rises or ' : ''}resets ${at(until)}`,
      until,
    })
  }
  let due = input.due
  let dueHere = itemsDue
  if (keyed && itemsDue && campaignWindowOpen) {
    // Only the due items of open keys can leave: the others are held by their keys' windows.
    const split = splitDueByKey(keyed.calendars, campaign, input.due, now)
    if (split.open.length === 0 && split.closed.length > 0) {
      reasons.push(...closedKeyReasons(campaign, split.closed, at))
      dueHere = false
    }
    due = split.open
  }
  if (dueHere && campaignWindowOpen) {
    // Strict provider matching: first emails whose provider has no mailbox with room wait.
    const matched = providerHeld({ campaign, mailboxes, counts, due, now })
    due = matched.due
    if (matched.wait) {
      reasons.push({ code: 'provider-wait', ...matched.wait })
      dueHere = false
    }
  }
  reasons.push(...mailboxReasons({ ...input, due, itemsDue: dueHere }))

  const states: MailboxState[] = mailboxes.map((m) => ({
    id: m.id,
    email: m.email,
    currentDailySent: counts.mailboxes[m.id] ?? 0,
    dailyEmailLimit: m.dailyEmailLimit,
    rampedLimit: dailyLimitOf(m),
    currentHourlySent: input.limits?.hourly[m.id] ?? 0,
    hourlyLimit: m.hourlyLimit,
    pausedUntil: m.pausedUntil,
    pauseReason: m.pauseReason,
    provider: m.provider,
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
  // A mailbox on one of its skip dates is no candidate today, like a paused one.
  const skipping = mailboxes.filter((m) => !isPaused(m, now) && mailboxSkipDate(m, now) !== null)
  const open = mailboxes.filter((m) => !isPaused(m, now) && mailboxSkipDate(m, now) === null)
  // A mailbox at its hourly cap sends nothing more this hour, like a paused one.
  const hourFull = open.filter((m) => isHourFull(m, input.limits))
  const active = open.filter((m) => !isHourFull(m, input.limits))
  if (active.length === 0 && hourFull.length > 0 && input.limits)
    return [hourlyLimitReason(hourFull, input.limits, now)]
  if (active.length === 0) {
    const reasons: ExplainReason[] = []
    const guarded = paused.filter((m) => isGuardReason(m.pauseReason))
    if (guarded.length > 0) reasons.push(guardReason(guarded))
    const hostPaused = paused.filter((m) => !isGuardReason(m.pauseReason))
    if (hostPaused.length > 0 || (guarded.length === 0 && skipping.length === 0)) {
      const until = earliestPauseEnd(hostPaused)
      const why = hostPaused.map((m) => `${m.email}: ${m.pauseReason ?? 'paused'}`).join('; ')
      const every =
        skipping.length === 0 && guarded.length === 0
          ? 'every mailbox is paused'
          : 'the other mailboxes are paused'
      reasons.push({
        code: 'mailbox-paused',
        message: `${every} (${why || 'none configured'})`,
        ...(until ? { until } : {}),
      })
    }
    if (skipping.length > 0) reasons.push(mailboxSkipReason(skipping, now, 'no mailbox can send today'))
    return reasons
  }
  const everyMailboxFull = (): ExplainReason => {
    const until = mailboxLimitClears(campaign, [...active, ...paused], now)
    // Held by a warm-up when one of them is full below its dailyEmailLimit.
    const ramping = active.some((m) => dailyLimitOf(m) < m.dailyEmailLimit)
    return {
      code: ramping ? 'ramp-limit' : 'mailbox-limit',
      message: `every mailbox is at its ${ramping ? 'warm-up limit of the day' : 'dailyEmailLimit'} (${active.map((m) => usage(m, counts)).join(', ')})`,
      ...(until ? { until } : {}),
    }
  }
  // A due count read just before or after the queue stats may disagree with them: then the
  // mailboxes alone are looked at, as when nothing is due.
  if (!input.itemsDue || due.length === 0) {
    const full = active.filter((m) => (counts.mailboxes[m.id] ?? 0) >= dailyLimitOf(m))
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
  const { full, paused, skipDate, removed } = verdict
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
  const guarded = paused.filter((h) => isGuardReason(h.mailbox.pauseReason))
  if (guarded.length > 0)
    reasons.push(
      guardReason(
        guarded.map((h) => h.mailbox),
        `${waiting(guarded)}, `,
      ),
    )
  const hostPaused = paused.filter((h) => !isGuardReason(h.mailbox.pauseReason))
  if (hostPaused.length > 0) {
    const until = earliestPauseEnd(hostPaused.map((h) => h.mailbox))
    const which = hostPaused.map(({ mailbox: m, count }) => {
      const ends = m.pausedUntil ? ` until ${at(m.pausedUntil)}` : ''
      return `${m.email} (${count}): ${m.pauseReason ?? 'paused'}${ends}`
    })
    reasons.push({
      code: 'mailbox-paused',
      message: `${waiting(hostPaused)}, paused: ${which.join('; ')}`,
      ...(until ? { until } : {}),
    })
  }
  if (skipDate.length > 0) {
    reasons.push(
      mailboxSkipReason(
        skipDate.map((h) => h.mailbox),
        now,
        `${waiting(skipDate)}, on its skip date`,
        skipDate.map((h) => h.count),
      ),
    )
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

/** Mailboxes a guard paused: each with its figures (its `pauseReason`); until the host resumes them. */
function guardReason(mailboxes: readonly Mailbox[], lead = ''): ExplainReason {
  const which = mailboxes.map((m) => `${m.email} (${m.pauseReason})`).join('; ')
  return {
    code: 'guard',
    message: `${lead}paused by a guard until resumed (call resumeMailbox): ${which}`,
  }
}

/** Mailboxes out for one of their skip dates: named with their local date; until the first is back. */
function mailboxSkipReason(
  skipping: readonly Mailbox[],
  now: Date,
  lead: string,
  counts?: readonly number[],
): ExplainReason {
  let until: Date | null = null
  const which = skipping.map((m, i) => {
    const back = nextLocalMidnight(now, m.timezone)
    if (!until || back < until) until = back
    const count = counts ? ` (${counts[i]})` : ''
    return `mailbox ${m.email}${count} skips ${mailboxSkipDate(m, now)} (${m.timezone})`
  })
  return { code: 'skip-date', message: `${lead}: ${which.join('; ')}`, ...(until ? { until } : {}) }
}

/** Where one key of a keyed campaign stands now, with its due items. */
interface KeyHeld {
  windowKey: string
  count: number
  opensAt: Date
  skipDate: string | null
  timezone: string
}

/** A keyed campaign's due items: those of keys open now, and per closed key how many wait. */
function splitDueByKey(
  calendars: KeyCalendars,
  campaign: Campaign,
  due: readonly DueCount[],
  now: Date,
): { open: DueCount[]; closed: KeyHeld[] } {
  const open: DueCount[] = []
  const closed = new Map<string, KeyHeld>()
  for (const d of due) {
    if (d.count <= 0) continue
    const state = calendars.keyState(campaign, d.windowKey, now)
    if (state.open) {
      open.push(d)
      continue
    }
    const held = closed.get(d.windowKey)
    if (held) held.count += d.count
    else closed.set(d.windowKey, { windowKey: d.windowKey, count: d.count, ...state })
  }
  return { open, closed: [...closed.values()] }
}

/**
 * Why the due items of closed keys wait: `lead-window` naming the zones whose hours are closed,
 * `skip-date` naming each date and whose it is (the campaign's, or a holiday of the lead's
 * country); each until its first key opens.
 */
function closedKeyReasons(
  campaign: Campaign,
  closed: readonly KeyHeld[],
  at: (date: Date) => string,
): ExplainReason[] {
  const reasons: ExplainReason[] = []
  const byWindow = closed.filter((k) => k.skipDate === null)
  const bySkip = closed.filter((k) => k.skipDate !== null)
  const first = (held: readonly KeyHeld[]) => new Date(Math.min(...held.map((k) => k.opensAt.getTime())))
  const emails = (n: number) => (n === 1 ? '1 due email' : `${n} due emails`)
  if (byWindow.length > 0) {
    const zones = byWindow.map((k) => `${k.timezone} (${emails(k.count)}, opens ${at(k.opensAt)})`)
    const until = first(byWindow)
    reasons.push({
      code: 'lead-window',
      message: `outside the window in the leads' time zones: ${zones.join('; ')}`,
      until,
    })
  }
  if (bySkip.length > 0) {
    const dates = bySkip.map((k) => {
      const { country } = parseWindowKey(k.windowKey)
      const whose =
        campaign.skipDates.includes(k.skipDate!) || country === null
          ? "one of the campaign's skipDates"
          : `a holiday of ${country}`
      return `${k.skipDate} in ${k.timezone} is ${whose} (${emails(k.count)}, opens ${at(k.opensAt)})`
    })
    reasons.push({ code: 'skip-date', message: dates.join('; '), until: first(bySkip) })
  }
  return reasons
}

/** Formats an instant in the campaign's time zone, as its window is written; `until` stays a Date. */
function localTimeOf(campaign: Campaign): (date: Date) => string {
  return (date) => formatInTimeZone(date, campaign.timezone, 'EEE yyyy-MM-dd HH:mm:ss zzz')
}

function usage(mailbox: Mailbox, counts: DayCounts): string {
  const limit = dailyLimitOf(mailbox)
  const ramp = limit < mailbox.dailyEmailLimit ? ` (warm-up; ${mailbox.dailyEmailLimit} at full)` : ''
  return `${mailbox.email} ${counts.mailboxes[mailbox.id] ?? 0}/${limit}${ramp}`
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
  // In its leads' hours the campaign counts the calendar days of its own zone (KeyCalendars.campaignDayKey).
  const campaignDayKey =
    (campaign.windowTimezone === 'lead' ? dayKey(now, campaign.timezone) : null) ??
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
