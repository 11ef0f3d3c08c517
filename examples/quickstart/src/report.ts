import type { Campaign, Explanation, Mailbox, SchedulerEvent } from '@mailcadence/core'
import type { ArrivedMail } from './sink.js'

type SentEvent = Extract<SchedulerEvent, { type: 'sent' }>

const pad = (value: string | number, width: number) => String(value).padStart(width)

function localDay(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: '2-digit',
    month: 'short',
  }).format(date)
}

function localTime(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(date)
}

/** A date and time on the campaign's clock, e.g. "Tue 06 Jan 09:00 Europe/Warsaw". */
export function localDateTime(date: Date, timeZone: string): string {
  const day = localDay(date, timeZone).replace(',', '')
  return `${day} ${localTime(date, timeZone).slice(-5)} ${timeZone}`
}

const hhmm = (hour: number, minute: number) =>
  `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`

/** The campaign's sending window as configured, e.g. "09:00–17:00". */
function windowOf(campaign: Campaign): string {
  return `${hhmm(campaign.startHour, campaign.startMinute)}–${hhmm(campaign.endHour, campaign.endMinute)}`
}

export function printWeek(input: {
  sent: SentEvent[]
  mailboxes: Mailbox[]
  campaign: Campaign
  skips: Map<string, number>
}) {
  const { sent, mailboxes, campaign } = input
  const timezone = campaign.timezone
  const days = [...new Set(sent.map((s) => localDay(s.at, timezone)))]
  const names = mailboxes.map((m) => m.email.split('@')[0]!)
  console.log(`\nSends per day (${timezone}) and mailbox`)
  console.log(
    `${'day'.padEnd(14)}${names.map((n) => pad(n, 8)).join('')}${pad('first', 8)}${pad('follow', 8)}${pad('total', 8)}   ${'window'.padEnd(13)}first–last send`,
  )
  for (const day of days) {
    const today = sent.filter((s) => localDay(s.at, timezone) === day)
    const perBox = mailboxes.map((m) => today.filter((s) => s.mailboxId === m.id).length)
    const first = today.filter((s) => s.step === 0).length
    const span = `${localTime(today[0]!.at, timezone).slice(-5)}–${localTime(today.at(-1)!.at, timezone).slice(-5)}`
    console.log(
      `${day.padEnd(14)}${perBox.map((n) => pad(n, 8)).join('')}${pad(first, 8)}${pad(today.length - first, 8)}${pad(today.length, 8)}   ${windowOf(campaign).padEnd(13)}${span}`,
    )
  }
  const gaps = sent.slice(1).map((s, i) => (s.at.getTime() - sent[i]!.at.getTime()) / 1000)
  const sameDay = gaps.filter((g) => g < 3600).sort((a, b) => a - b)
  if (sameDay.length > 0) {
    const median = sameDay[Math.floor(sameDay.length / 2)]!
    const offBeat = sameDay.filter((g) => g % 30 !== 0).length
    console.log(
      `\nGaps between sends (same day): min ${sameDay[0]!.toFixed(1)} s, median ${median.toFixed(1)} s, max ${sameDay.at(-1)!.toFixed(1)} s; ` +
        `${offBeat} of ${sameDay.length} off the host's 30 s beat`,
    )
  }
  const skips = [...input.skips.entries()].sort((a, b) => b[1] - a[1])
  console.log(
    `Ticks that did not send, by reason: ${skips.map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none'}`,
  )
}

/** explain()'s answer, its instants on the campaign's clock (`timeZone`). */
export function printExplain(title: string, explanation: Explanation, timeZone: string) {
  console.log(title)
  console.log(`  sending: ${explanation.sending ? 'yes' : 'no'}`)
  for (const reason of explanation.reasons) {
    console.log(
      `  - ${reason.code}: ${reason.message}${reason.until ? ` (until ${localDateTime(reason.until, timeZone)})` : ''}`,
    )
  }
  for (const m of explanation.mailboxes) {
    console.log(
      `    ${m.email}: ${m.currentDailySent}/${m.dailyEmailLimit} today${m.pausedUntil ? `, paused: ${m.pauseReason}` : ''}`,
    )
  }
}

/** What the SMTP sink received: counts, and one lead's thread as its inbox would show it. */
export function printArrivals(arrived: ArrivedMail[]) {
  console.log(`\nThe local SMTP sink received ${arrived.length} messages. One lead's thread:`)
  const first = arrived.find((m) => !m.inReplyTo)
  if (!first) return
  const thread = arrived.filter((m) => m.to === first.to)
  for (const mail of thread) {
    console.log(`  From: ${mail.from}\n  To: ${mail.to}\n  Subject: ${mail.subject}`)
    console.log(
      `  Message-ID: ${mail.messageId}${mail.inReplyTo ? `\n  In-Reply-To: ${mail.inReplyTo}` : ''}\n`,
    )
  }
}
