/**
 * The calendar: sending windows, local days and time zones, as pure functions of an instant.
 *
 * Everything here works on "wall" milliseconds: an instant plus the zone's UTC offset at that
 * instant, read as if it were UTC. Wall time is what a campaign's window is written in, and it
 * is linear between two offset transitions, so most questions reduce to arithmetic plus one or
 * two offset look-ups; only around a DST transition do we binary-search the transition instant.
 */
import { invalidInput } from '../errors.js'

/** Fields of a campaign that define its sending window. */
export interface WindowSpec {
  /** IANA time zone the window is written in, e.g. `Europe/Warsaw`. */
  timezone: string
  startHour: number
  startMinute: number
  /** May be 24 (with `endMinute` 0) for "until the end of the day". */
  endHour: number
  endMinute: number
  /** Comma-separated day names, e.g. `MON,TUE,WED,THU,FRI` (see {@link parseAllowedDays}). */
  allowedDays: string
  /**
   * Local dates (`YYYY-MM-DD`, in `timezone`) on which the window does not open: holidays and
   * blackout dates. A window crossing midnight is skipped by the date it opens on. Default none.
   */
  skipDates?: readonly string[]
}

/** Day names accepted in `allowedDays`, in weekday-number order (0 = Monday … 6 = Sunday). */
export const DAY_NAMES = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const

const SECOND_MS = 1000
const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
/** The largest instant a `Date` can hold; what {@link windowCloseAt} returns for a window that never closes. */
const MAX_INSTANT_MS = 8.64e15
/** How far the searches look before giving up: a week of days plus room for DST oddities. */
const SEARCH_HORIZON_MS = 15 * DAY_MS
/**
 * The longest stretch we assume holds at most one offset transition. Probing at this stride keeps
 * a search across a weekend to one or two look-ups while never jumping over a pair of transitions
 * that would cancel out (real zones keep months between them).
 */
const PROBE_STRIDE_MS = 4 * DAY_MS
/**
 * Before 1800 every zone is on its local mean time, so its offset no longer changes; clamping there
 * also keeps Intl away from years it writes ambiguously (BC years, two-digit years).
 */
const OLDEST_OFFSET_MS = Date.UTC(1800, 0, 1)
const DAY_NAME_LIST = DAY_NAMES.join(',')

// ---------------------------------------------------------------------------------------------
// Time zone offsets
// ---------------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>()
/**
 * Caches here are bounded: zone names may come from users (`isValidTimeZone` on input), and Intl
 * accepts every upper/lower-case spelling of a zone, so unbounded maps could be made to grow.
 */
const ZONE_CACHE_LIMIT = 512

/** One formatter per zone: building an Intl formatter costs far more than using one. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
    } catch {
      throw invalidInput('timezone', `unknown time zone "${timeZone}"`)
    }
    if (formatters.size >= ZONE_CACHE_LIMIT) formatters.clear()
    formatters.set(timeZone, formatter)
  }
  return formatter
}

const EN_US_DATE_TIME = /^(\d+)\/(\d+)\/(\d+)\D+(\d+):(\d+):(\d+)$/

/** The zone's offset at the second containing `ms`, straight from Intl (no cache). */
function exactOffset(formatter: Intl.DateTimeFormat, ms: number): number {
  const second = Math.floor(Math.max(ms, OLDEST_OFFSET_MS) / SECOND_MS) * SECOND_MS
  // format() plus a regex is about three times faster than formatToParts(), which stays as a fallback.
  const match = EN_US_DATE_TIME.exec(formatter.format(second))
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {}
  if (match !== null) {
    fields.month = Number(match[1])
    fields.day = Number(match[2])
    fields.year = Number(match[3])
    fields.hour = Number(match[4])
    fields.minute = Number(match[5])
    fields.second = Number(match[6])
  } else {
    for (const part of formatter.formatToParts(second)) fields[part.type] = Number(part.value)
  }
  const { year = Number.NaN, month = Number.NaN, day = Number.NaN, hour = 0, minute = 0 } = fields
  // Some ICU versions write midnight as 24 even with h23.
  const offset = Date.UTC(year, month - 1, day, hour % 24, minute, fields.second ?? 0) - second
  if (Number.isNaN(offset)) {
    throw new Error(`cannot read the time zone offset at ${new Date(second).toISOString()}`)
  }
  return offset
}

/**
 * Offsets per zone per UTC hour. An hour is cached only when its first and last millisecond share
 * an offset (no zone has ever changed twice within an hour); hours holding a transition are
 * remembered as `NaN` so that later look-ups in them skip straight to Intl.
 */
const offsetCache = new Map<string, Map<number, number>>()
/** Hours kept per zone: about a year, ample for a scheduler that keeps asking about "now". */
const OFFSET_CACHE_LIMIT = 8192

/**
 * The UTC offset of `timeZone` at instant `ms`, in milliseconds (positive east of Greenwich).
 *
 * Not date-fns-tz's `getTimezoneOffset`: that one reads its `Date` argument as a wall-clock time
 * (its fields in the process's zone), so around a transition it answers for the wrong instant.
 */
function offsetAt(timeZone: string, ms: number): number {
  let zoneCache = offsetCache.get(timeZone)
  if (zoneCache === undefined) {
    formatterFor(timeZone) // refuse an unknown zone before caching anything for it
    zoneCache = new Map()
    if (offsetCache.size >= ZONE_CACHE_LIMIT) offsetCache.clear()
    offsetCache.set(timeZone, zoneCache)
  }
  const hour = Math.floor(ms / HOUR_MS)
  const cached = zoneCache.get(hour)
  if (cached !== undefined && !Number.isNaN(cached)) return cached
  const formatter = formatterFor(timeZone)
  if (cached === undefined) {
    if (zoneCache.size >= OFFSET_CACHE_LIMIT) zoneCache.clear()
    const first = exactOffset(formatter, hour * HOUR_MS)
    const last = exactOffset(formatter, hour * HOUR_MS + HOUR_MS - 1)
    zoneCache.set(hour, first === last ? first : Number.NaN)
    if (first === last) return first
  }
  return exactOffset(formatter, ms)
}

/** The first instant in `(from, to]` whose offset is not `offset`; `to` must have a different offset. */
function transitionAfter(timeZone: string, from: number, to: number, offset: number): number {
  // Offsets are whole seconds and change on second boundaries, so search seconds, not milliseconds.
  let low = Math.floor(from / SECOND_MS) // offset here is `offset`
  let high = Math.floor(to / SECOND_MS) // offset here differs
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    if (offsetAt(timeZone, middle * SECOND_MS) === offset) low = middle
    else high = middle
  }
  return high * SECOND_MS
}

function checkedMs(instant: Date): number {
  const ms = instant.getTime()
  if (Number.isNaN(ms)) throw new RangeError('invalid Date (NaN)')
  return ms
}

// ---------------------------------------------------------------------------------------------
// Days
// ---------------------------------------------------------------------------------------------

/** Weekday of a day number (days since 1970-01-01, a Thursday), 0 = Monday. */
function weekdayOf(day: number): number {
  return (((day + 3) % 7) + 7) % 7
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

/** The day {@link keyOfDay} was last asked about, and its key: callers ask about the same day over and over. */
let lastKeyedDay = Number.NaN
let lastDayKey = ''

/** `YYYY-MM-DD` of a day number. */
function keyOfDay(day: number): string {
  if (day !== lastKeyedDay) {
    const date = new Date(day * DAY_MS)
    lastDayKey = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`
    lastKeyedDay = day
  }
  return lastDayKey
}

/** Wall milliseconds of an instant in a zone. */
function wallMs(timeZone: string, ms: number): number {
  return ms + offsetAt(timeZone, ms)
}

/** True when `timeZone` is an IANA zone name this runtime knows (`Europe/Warsaw`, `UTC`); false for `''` and junk. */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.trim() === '') return false
  try {
    formatterFor(tz)
    return true
  } catch {
    return false
  }
}

const maskCache = new Map<string, number>()
const MASK_CACHE_LIMIT = 1024

/** `allowedDays` as a bit mask (bit 0 = Monday), cached because every window question needs it. */
function allowedMask(spec: string): number {
  const cached = maskCache.get(spec)
  if (cached !== undefined) return cached
  let mask = 0
  for (const raw of spec.split(',')) {
    const name = raw.trim()
    // Tolerate stray commas ("MON,,TUE", "MON,"): they name no day but mean no harm.
    if (name === '') continue
    const index = (DAY_NAMES as readonly string[]).indexOf(name.toUpperCase())
    if (index < 0) throw invalidInput('allowedDays', `unknown day "${name}" (use ${DAY_NAME_LIST})`)
    mask |= 1 << index
  }
  if (mask === 0) throw invalidInput('allowedDays', 'must name at least one day')
  if (maskCache.size >= MASK_CACHE_LIMIT) maskCache.clear()
  maskCache.set(spec, mask)
  return mask
}

/**
 * Parses an `allowedDays` string (`"MON,TUE,WED,THU,FRI"`) into weekday numbers, 0 = Monday … 6 =
 * Sunday. Case-insensitive; spaces around commas and duplicates are fine.
 *
 * @throws `invalid-input` on field `allowedDays` for an unknown day name or when no day is named.
 */
export function parseAllowedDays(spec: string): ReadonlySet<number> {
  const mask = allowedMask(spec)
  const days = new Set<number>()
  for (let day = 0; day < 7; day++) if (mask & (1 << day)) days.add(day)
  return days
}

/** The local calendar date of `instant` in `timeZone`, as `YYYY-MM-DD` (the key of a mailbox's daily count). */
export function dayKey(instant: Date, timeZone: string): string {
  return keyOfDay(Math.floor(wallMs(timeZone, checkedMs(instant)) / DAY_MS))
}

/**
 * The local clock hour of `instant` in `timeZone`, as `YYYY-MM-DDTHH` (the key of a mailbox's
 * hourly count). Where a DST change repeats an hour, both share one key, so they share one cap.
 */
export function hourKey(instant: Date, timeZone: string): string {
  const wall = wallMs(timeZone, checkedMs(instant))
  const day = Math.floor(wall / DAY_MS)
  const hour = Math.floor((wall - day * DAY_MS) / HOUR_MS)
  return `${keyOfDay(day)}T${String(hour).padStart(2, '0')}`
}

/** The first instant of the next local clock hour after `instant` in `timeZone` (when an hourly count resets). */
export function nextLocalHour(instant: Date, timeZone: string): Date {
  const ms = checkedMs(instant)
  const intoHour = ((wallMs(timeZone, ms) % HOUR_MS) + HOUR_MS) % HOUR_MS
  return new Date(ms + HOUR_MS - intoHour)
}

/**
 * Local date, weekday (0 = Monday) and minute of the day (0–1439, seconds dropped) of `instant` in
 * `timeZone`.
 */
export function localTime(
  instant: Date,
  timeZone: string,
): { dayKey: string; weekday: number; minuteOfDay: number } {
  const wall = wallMs(timeZone, checkedMs(instant))
  const day = Math.floor(wall / DAY_MS)
  return {
    dayKey: keyOfDay(day),
    weekday: weekdayOf(day),
    minuteOfDay: Math.floor((wall - day * DAY_MS) / MINUTE_MS),
  }
}

/**
 * Length of the window in local minutes: `end − start`, or across midnight when the end is before
 * the start (22:00–02:00 = 240). 0 means a zero-length window, which never opens.
 */
export function windowLengthMinutes(
  spec: Pick<WindowSpec, 'startHour' | 'startMinute' | 'endHour' | 'endMinute'>,
): number {
  const start = spec.startHour * 60 + spec.startMinute
  const end = spec.endHour * 60 + spec.endMinute
  return end >= start ? end - start : 24 * 60 - start + end
}

// ---------------------------------------------------------------------------------------------
// Windows
// ---------------------------------------------------------------------------------------------

/**
 * A window spec reduced to numbers: each allowed day `d` opens the wall interval [d·DAY + start,
 * + length), except the day numbers in `skip`.
 */
interface Window {
  timeZone: string
  startMs: number
  lengthMs: number
  mask: number
  /** Day numbers of the skip dates, or null when there are none. */
  skip: ReadonlySet<number> | null
  /**
   * How many days past the usual bounds a search must look: a week per skip date, since with one
   * allowed weekday each skipped date pushes the next opening out by a whole week.
   */
  extraDays: number
}

function compile(spec: WindowSpec): Window {
  const skip = skipDays(spec.skipDates)
  return {
    timeZone: spec.timezone,
    startMs: (spec.startHour * 60 + spec.startMinute) * MINUTE_MS,
    lengthMs: windowLengthMinutes(spec) * MINUTE_MS,
    mask: allowedMask(spec.allowedDays),
    skip,
    extraDays: skip === null ? 0 : 7 * skip.size,
  }
}

/** Skip dates as day numbers, computed once per array (callers keep their arrays). */
const skipDayCache = new WeakMap<readonly string[], ReadonlySet<number> | null>()
function skipDays(dates: readonly string[] | undefined): ReadonlySet<number> | null {
  if (dates === undefined || dates.length === 0) return null
  let days = skipDayCache.get(dates)
  if (days === undefined) {
    const set = new Set<number>()
    for (const date of dates) {
      const day = dayOfKey(date)
      if (day === null) throw invalidInput('skipDates', `"${date.slice(0, 20)}" is not a date (YYYY-MM-DD)`)
      set.add(day)
    }
    days = set
    skipDayCache.set(dates, days)
  }
  return days
}

/** The day number of a `YYYY-MM-DD` key, or null when it is not a real date. */
export function dayOfKey(key: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key)
  if (match === null) return null
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const ms = Date.UTC(year, month - 1, day)
  const date = new Date(ms)
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null
  return ms / DAY_MS
}

function isAllowed(window: Window, day: number): boolean {
  return (window.mask & (1 << weekdayOf(day))) !== 0 && (window.skip === null || !window.skip.has(day))
}

/**
 * The day number whose window holds wall time `wall`, or null. A window is shorter than a day
 * unless it runs 00:00–24:00, so only the window of the wall date and of the date before can hold
 * it; the latter is how an overnight window belongs to the day it started on.
 */
function windowDayAtWall(window: Window, wall: number): number | null {
  const day = Math.floor(wall / DAY_MS)
  const sinceMidnight = wall - day * DAY_MS
  if (sinceMidnight >= window.startMs && sinceMidnight < window.startMs + window.lengthMs) {
    if (isAllowed(window, day)) return day
  }
  if (sinceMidnight + DAY_MS < window.startMs + window.lengthMs && isAllowed(window, day - 1)) return day - 1
  return null
}

/** The wall time at which the first allowed window after wall time `wall` opens. */
function nextStartWall(window: Window, wall: number): number {
  let day = Math.floor((wall - window.startMs) / DAY_MS) + 1
  for (let i = 0; i < 7 + window.extraDays && !isAllowed(window, day); i++) day++
  return day * DAY_MS + window.startMs
}

/**
 * If `instant` is inside the window, the `YYYY-MM-DD` of the day that window opened on (an
 * overnight window belongs to the day it starts on: Saturday 01:00 in a 22:00–02:00 window is
 * Friday's); otherwise null.
 */
export function windowDayKey(spec: WindowSpec, instant: Date): string | null {
  const window = compile(spec)
  const day = windowDayAtWall(window, wallMs(window.timeZone, checkedMs(instant)))
  return day === null ? null : keyOfDay(day)
}

/**
 * True when `instant` is inside the campaign's sending window: its local wall-clock time falls in
 * [start, end) on an allowed day (for a window crossing midnight, the part after midnight belongs
 * to the previous day). Local times skipped by DST never occur; both runs of a repeated hour count.
 */
export function isInWindow(spec: WindowSpec, instant: Date): boolean {
  const window = compile(spec)
  return windowDayAtWall(window, wallMs(window.timeZone, checkedMs(instant))) !== null
}

/**
 * The earliest instant at or after `from` that is inside the window: `from` itself (an equal `Date`)
 * when it is inside. When the start time falls in a DST gap, the window opens at the transition (the first
 * instant past the gap) if that is still before the window's end.
 *
 * @throws Error when the window does not open within 15 days (a zero-length window, say).
 */
export function nextWindowOpen(spec: WindowSpec, from: Date): Date {
  const window = compile(spec)
  const { timeZone } = window
  const fromMs = checkedMs(from)
  if (window.lengthMs > 0) {
    let t = fromMs
    // Skip dates push the opening out by up to a week each; probes then need a pass per stride more.
    const horizon = SEARCH_HORIZON_MS + window.extraDays * DAY_MS
    const passes = 64 + Math.ceil((window.extraDays * DAY_MS) / PROBE_STRIDE_MS) * 2
    // Each pass either returns, advances by a probe stride, or lands on a transition: bounded.
    for (let pass = 0; pass < passes && t - fromMs <= horizon; pass++) {
      const offset = offsetAt(timeZone, t)
      const wall = t + offset
      if (windowDayAtWall(window, wall) !== null) return new Date(t)
      // Between here and the next window start no window can hold the wall time, so if the offset
      // stays put the answer is the instant the wall clock reaches that start.
      const candidate = nextStartWall(window, wall) - offset
      const probe = Math.min(candidate, t + PROBE_STRIDE_MS)
      if (offsetAt(timeZone, probe) === offset) {
        if (probe === candidate) return new Date(candidate)
        t = probe
      } else {
        // The wall clock jumps before reaching the start: look again from the jump.
        t = transitionAfter(timeZone, t, probe, offset)
      }
    }
  }
  throw new Error(
    `window ${spec.startHour}:${pad(spec.startMinute, 2)}–${spec.endHour}:${pad(spec.endMinute, 2)} ` +
      `${spec.allowedDays} (${timeZone}) does not open within ${15 + window.extraDays} days of ${from.toISOString()}`,
  )
}

/**
 * For an instant inside the window, the first instant after it that is outside: the end of the
 * current window, or earlier when a DST jump moves the wall clock out of it. Windows that touch
 * (00:00–24:00 on consecutive days) count as one; see {@link nextWindowDayOpen} for where the window
 * day changes. Returns `instant` itself (an equal `Date`) when it is not inside, and the largest `Date`
 * (+275760-09-13) for a window that never closes (00:00–24:00 every day).
 */
export function windowCloseAt(spec: WindowSpec, instant: Date): Date {
  const window = compile(spec)
  const instantMs = checkedMs(instant)
  if (window.mask === 0x7f && window.lengthMs >= DAY_MS) {
    if (window.skip === null) return new Date(MAX_INSTANT_MS)
    // Open all day, every day but the skip dates: it closes at the start of the next one, which
    // may be too many days away to walk to day by day; start the walk the day before it.
    const today = Math.floor(wallMs(window.timeZone, instantMs) / DAY_MS)
    let next = Number.POSITIVE_INFINITY
    for (const day of window.skip) if (day >= today && day < next) next = day
    if (next === Number.POSITIVE_INFINITY) return new Date(MAX_INSTANT_MS)
    const dayBefore = (next - 1) * DAY_MS - offsetAt(window.timeZone, (next - 1) * DAY_MS)
    return new Date(leaveWindow(window, Math.max(instantMs, dayBefore), null))
  }
  return new Date(leaveWindow(window, instantMs, null))
}

/**
 * When the window day after the current one begins: the earliest instant after `instant` that is
 * inside a window of a later day (where a campaign's daily count resets, as sends are counted per
 * window day). From outside the window this is {@link nextWindowOpen}. Unlike {@link windowCloseAt}
 * it stops at midnight between two touching 00:00–24:00 windows.
 *
 * @throws Error when no window opens within 15 days.
 */
export function nextWindowDayOpen(spec: WindowSpec, instant: Date): Date {
  const window = compile(spec)
  const { timeZone } = window
  const instantMs = checkedMs(instant)
  const current = windowDayAtWall(window, wallMs(timeZone, instantMs))
  if (current === null) return nextWindowOpen(spec, instant)
  let t = instantMs
  // A fall-back can reopen the current day's window after it closed, or even an earlier day's
  // (a near-24-hour window): walk past every such re-run.
  for (let pass = 0; pass < 8; pass++) {
    t = leaveWindow(window, t, current)
    let day = windowDayAtWall(window, wallMs(timeZone, t))
    if (day === null) {
      t = nextWindowOpen(spec, new Date(t)).getTime()
      day = windowDayAtWall(window, wallMs(timeZone, t))
    }
    if (day !== null && day > current) return new Date(t)
  }
  throw new Error(`window in ${timeZone} keeps reopening on the same day after ${instant.toISOString()}`)
}

/**
 * Walks forward from `from` while it stays inside the window (and, with `untilAfterDay`, inside
 * windows of that day or earlier); returns the first instant where that stops, or `from` if it is
 * not inside.
 */
function leaveWindow(window: Window, from: number, untilAfterDay: number | null): number {
  const { timeZone } = window
  let t = from
  for (let pass = 0; pass < 64; pass++) {
    const offset = offsetAt(timeZone, t)
    const wall = t + offset
    const day = windowDayAtWall(window, wall)
    if (day === null || (untilAfterDay !== null && day > untilAfterDay)) return t
    // Where the wall clock leaves this window if the offset stays put; a jump may come first.
    const candidate = t + (day * DAY_MS + window.startMs + window.lengthMs - wall)
    t = offsetAt(timeZone, candidate) === offset ? candidate : transitionAfter(timeZone, t, candidate, offset)
  }
  throw new Error(`window in ${timeZone} does not close after ${new Date(from).toISOString()}`)
}

/**
 * The first instant of the next local day after `instant` (when a mailbox's daily count resets):
 * usually local midnight; where DST skips midnight (America/Santiago) the first instant after the
 * gap; where a day is skipped whole, the first instant of the day after.
 */
export function nextLocalMidnight(instant: Date, timeZone: string): Date {
  const instantMs = checkedMs(instant)
  const today = Math.floor(wallMs(timeZone, instantMs) / DAY_MS)
  let t = instantMs
  for (let pass = 0; pass < 16; pass++) {
    const offset = offsetAt(timeZone, t)
    const day = Math.floor((t + offset) / DAY_MS)
    if (day > today) return new Date(t)
    const candidate = (day + 1) * DAY_MS - offset
    // A backward jump may bring the wall clock back to today; the loop then looks for the next midnight.
    t = offsetAt(timeZone, candidate) === offset ? candidate : transitionAfter(timeZone, t, candidate, offset)
  }
  throw new Error(`no next local day found in ${timeZone} after ${instant.toISOString()}`)
}
