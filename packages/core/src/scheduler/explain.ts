/**
 * `explain()`: the seed's "campaign does not send" checklist, answered by the engine itself.
 * Lists every condition that stops the campaign now, each with when it clears.
 */
import { formatInTimeZone } from 'date-fns-tz'
import type { Campaign, Mailbox, QueueStats } from '../model/types.js'
import { dayKey, isInWindow, nextWindowOpen, windowDayKey } from '../policy/calendar.js'
import type { DayCounts } from '../store.js'
import { campaignLimitClears, isPaused, mailboxLimitClears } from './due.js'

export type ExplainCode =
  | 'not-running'
  | 'queue-empty'
  | 'not-due'
  | 'outside-window'
  | 'campaign-limit'
  | 'mailbox-limit'
  | 'pacing'
  | 'mailbox-paused'

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
  mailboxes: readonly Mailbox[]
  queue: QueueStats
  counts: DayCounts
  now: Date
}): Explanation {
  const { campaign, mailboxes, queue, counts, now } = input
  const reasons: ExplainReason[] = []
  // Messages speak the campaign's local time, as its window is written; `until` stays a Date.
  const at = (date: Date) => formatInTimeZone(date, campaign.timezone, 'EEE yyyy-MM-dd HH:mm:ss zzz')

  if (campaign.status !== 'IN_PROGRESS') {
    const hint =
      campaign.status === 'DRAFT'
        ? ' (call startCampaign)'
        : campaign.status === 'PAUSED'
          ? ' (call resumeCampaign)'
          : ''
    reasons.push({ code: 'not-running', message: `campaign is ${campaign.status}${hint}` })
  }
  if (queue.pending === 0) {
    const inFlight = queue.sending > 0 ? `; ${queue.sending} being sent` : ''
    reasons.push({
      code: 'queue-empty',
      message: `no pending emails (${queue.sent} sent, ${queue.failed} failed${inFlight})`,
    })
  } else if (queue.nextScheduledAt && queue.nextScheduledAt > now) {
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

  const states: MailboxState[] = mailboxes.map((m) => ({
    id: m.id,
    email: m.email,
    currentDailySent: counts.mailboxes[m.id] ?? 0,
    dailyEmailLimit: m.dailyEmailLimit,
    pausedUntil: m.pausedUntil,
    pauseReason: m.pauseReason,
  }))
  const paused = mailboxes.filter((m) => isPaused(m, now))
  const active = mailboxes.filter((m) => !isPaused(m, now))
  if (active.length === 0) {
    const until = paused.reduce<Date | null>(
      (min, m) => (m.pausedUntil && (!min || m.pausedUntil < min) ? m.pausedUntil : min),
      null,
    )
    const why = paused.map((m) => `${m.email}: ${m.pauseReason ?? 'paused'}`).join('; ')
    reasons.push({
      code: 'mailbox-paused',
      message: `every mailbox is paused (${why || 'none configured'})`,
      ...(until ? { until } : {}),
    })
  } else {
    const full = active.filter((m) => (counts.mailboxes[m.id] ?? 0) >= m.dailyEmailLimit)
    if (full.length === active.length) {
      const until = mailboxLimitClears(campaign, [...full, ...paused], now)
      const which = full
        .map((m) => `${m.email} ${counts.mailboxes[m.id] ?? 0}/${m.dailyEmailLimit}`)
        .join(', ')
      reasons.push({
        code: 'mailbox-limit',
        message: `every mailbox is at its dailyEmailLimit (${which})`,
        ...(until ? { until } : {}),
      })
    }
  }

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
