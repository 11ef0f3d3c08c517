/**
 * The forecast made before the week (`scheduler.forecast()`), printed day by day beside what the
 * week actually sent.
 */
import type { Forecast, SchedulerEvent } from '@mailcadence/core'
import { localDateTime } from './report.js'

type SentEvent = Extract<SchedulerEvent, { type: 'sent' }>

const localDate = (date: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    date,
  )

export function printForecastBeside(forecast: Forecast, sent: readonly SentEvent[], timeZone: string): void {
  const actual = new Map<string, number>()
  for (const s of sent)
    actual.set(localDate(s.at, timeZone), (actual.get(localDate(s.at, timeZone)) ?? 0) + 1)
  console.log(
    `\nForecast made before the week (scheduler.forecast()) beside what the week sent (${timeZone})`,
  )
  console.log(`${'day'.padEnd(12)}${'forecast'.padStart(9)}${'sent'.padStart(7)}   what bound the day`)
  for (const day of forecast.days.slice(0, 7)) {
    const mailboxes = day.mailboxIds ? ` (${day.mailboxIds.length} mailboxes full)` : ''
    console.log(
      `${day.date.padEnd(12)}${String(day.sent).padStart(9)}${String(actual.get(day.date) ?? 0).padStart(7)}   ${day.bottleneck}${mailboxes}`,
    )
  }
  const finish = forecast.finishesAt
    ? `finishes ${localDateTime(forecast.finishesAt, timeZone)}`
    : `beyond the horizon (${forecast.sent} sent, ${forecast.remaining} left by ${localDateTime(forecast.horizonEnd, timeZone)})`
  console.log(`Forecast: ${forecast.sent} emails, ${finish}.`)
}
