/**
 * When a lead who answered "out of office" should hear from us again: the morning after they are
 * back. Pure: the window and the instants come in, an instant goes out.
 */
import { dayKey, dayOfKey, nextLocalMidnight, nextWindowOpen, type WindowSpec } from './calendar.js'

const HOUR_MS = 3_600_000

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
 */
export function outOfOfficeResumeAt(returnDate: string, spec: WindowSpec): Date {
  const next = dayOfKey(returnDate)
  if (next === null) throw new Error(`not a date: ${returnDate}`)
  const dayAfter = new Date((next + 1) * 86_400_000).toISOString().slice(0, 10)
  const start = startOfLocalDate(dayAfter, spec.timezone)
  try {
    return nextWindowOpen(spec, start)
  } catch {
    return start
  }
}
