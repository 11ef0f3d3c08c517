/**
 * When a lead who answered "out of office" should hear from us again: the morning after they are
 * back. Pure: the window and the instants come in, an instant goes out.
 */
import { dayKey, dayOfKey, nextLocalMidnight, nextWindowOpen, type WindowSpec } from './calendar.js'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
/** The latest return date believed: a year after now (a typo'd year, or 9999-12-31, waits no longer). */
export const MAX_AWAY_DAYS = 365

/**
 * The first instant of local date `date` (`YYYY-MM-DD`) in `timeZone` (local midnight, or the first
 * instant after a DST gap that skips it).
 */
export function startOfLocalDate(date: string, timeZone: string): Date {
  const day = dayOfKey(date)
  if (day === null) throw new Error(`not a date: ${date}`)
  // Noon UTC of the date falls on that local date, the day before or the day after (offsets run
  // from −12 to +14 hours); step by 12 hours until it is on the day before, then take the next
  // local midnight.
  let t = day * 86_400_000 + 12 * HOUR_MS
  for (let pass = 0; pass < 4 && dayKey(new Date(t), timeZone) >= date; pass++) t -= 12 * HOUR_MS
  return nextLocalMidnight(new Date(t), timeZone)
}

/**
 * The instant a lead back on `returnDate` (`YYYY-MM-DD`, the day the answer says they return) is
 * written to again: the window's first opening on or after the day after `returnDate`, in the
 * window's zone (`spec.timezone`), so the follow-up does not land in a full inbox on the first
 * morning back. A window that does not open within its search horizon gives that day's start.
 * A return date later than `MAX_AWAY_DAYS` after `now` (in the window's zone) is taken as that day:
 * capped before any date arithmetic, so a far date (year 9999) never leaves the dates a `Date` and a
 * `YYYY-MM-DD` key can hold.
 */
export function outOfOfficeResumeAt(returnDate: string, spec: WindowSpec, now: Date): Date {
  const latest = dayKey(new Date(now.getTime() + MAX_AWAY_DAYS * DAY_MS), spec.timezone)
  // Keys of four-digit years compare as dates.
  const back = returnDate > latest ? latest : returnDate
  const next = dayOfKey(back)
  if (next === null) throw new Error(`not a date: ${back}`)
  const dayAfter = new Date((next + 1) * DAY_MS).toISOString().slice(0, 10)
  const start = startOfLocalDate(dayAfter, spec.timezone)
  try {
    return nextWindowOpen(spec, start)
  } catch {
    return start
  }
}
