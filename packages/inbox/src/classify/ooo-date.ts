import { fold } from './normalise.js'

/**
 * The return date an out-of-office text gives, as `YYYY-MM-DD`. Pure: a date without a year is
 * placed by the message's own `Date` (the day the notice was written), never by a clock.
 */

/** A calendar day. */
export interface CalendarDay {
  year: number
  month: number
  day: number
}

/** Month names and common abbreviations, folded (see `fold`), in the five languages. */
const MONTHS: Record<string, number> = {}
const NAMES: readonly (readonly string[])[] = [
  ['january', 'jan', 'styczen', 'stycznia', 'sty', 'januar', 'janner', 'janvier', 'janv', 'enero', 'ene'],
  ['february', 'feb', 'luty', 'lutego', 'lut', 'februar', 'fevrier', 'fevr', 'fev', 'febrero'],
  ['march', 'mar', 'marzec', 'marca', 'marz', 'maerz', 'mars', 'marzo'],
  ['april', 'apr', 'kwiecien', 'kwietnia', 'kwi', 'avril', 'avr', 'abril', 'abr'],
  ['may', 'maj', 'maja', 'mai', 'mayo'],
  ['june', 'jun', 'czerwiec', 'czerwca', 'cze', 'juni', 'juin', 'junio'],
  ['july', 'jul', 'lipiec', 'lipca', 'lip', 'juli', 'juillet', 'juil', 'julio'],
  ['august', 'aug', 'sierpien', 'sierpnia', 'aout', 'agosto'],
  ['september', 'sept', 'sep', 'wrzesien', 'wrzesnia', 'wrz', 'septembre', 'septiembre', 'setiembre'],
  ['october', 'oct', 'pazdziernik', 'pazdziernika', 'paz', 'oktober', 'okt', 'octobre', 'octubre'],
  ['november', 'nov', 'listopad', 'listopada', 'lis', 'novembre', 'noviembre'],
  ['december', 'dec', 'grudzien', 'grudnia', 'gru', 'dezember', 'dez', 'decembre', 'diciembre', 'dic'],
]
NAMES.forEach((names, index) => {
  for (const name of names) MONTHS[name] = index + 1
})
const MONTH = `(${Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|')})\\.?(?![a-z])`
const DAY = '(\\d{1,2})(?:st|nd|rd|th|er|e|\\.)?'
const YEAR = '(\\d{4})'

interface Candidate {
  index: number
  end: number
  day: number
  month: number
  /** null when the text gives none. */
  year: number | null
  /** For "back on Monday": the weekday (0 Sunday … 6 Saturday); day, month and year are then unused. */
  weekday: number | null
}

type Reader = (match: RegExpMatchArray) => Omit<Candidate, 'index' | 'end' | 'weekday'> | null

/** Weekday names, folded, in the five languages (Polish in the cases "w …"/"do …" take). */
const WEEKDAYS: Record<string, number> = {}
const WEEKDAY_NAMES: readonly (readonly string[])[] = [
  ['sunday', 'niedziela', 'niedziele', 'niedzieli', 'sonntag', 'dimanche', 'domingo'],
  ['monday', 'poniedzialek', 'poniedzialku', 'montag', 'lundi', 'lunes'],
  ['tuesday', 'wtorek', 'wtorku', 'dienstag', 'mardi', 'martes'],
  ['wednesday', 'sroda', 'srode', 'srody', 'mittwoch', 'mercredi', 'miercoles'],
  ['thursday', 'czwartek', 'czwartku', 'donnerstag', 'jeudi', 'jueves'],
  ['friday', 'piatek', 'piatku', 'freitag', 'vendredi', 'viernes'],
  ['saturday', 'sobota', 'sobote', 'soboty', 'samstag', 'sonnabend', 'samedi', 'sabado'],
]
WEEKDAY_NAMES.forEach((names, index) => {
  for (const name of names) WEEKDAYS[name] = index
})
const WEEKDAY = new RegExp(`(?<![a-z])(${Object.keys(WEEKDAYS).join('|')})(?![a-z])`, 'g')

/**
 * The date shapes read, on folded text:
 * - ISO 8601 `2027-01-12`;
 * - numeric day first `12.01.2027`, `12.01.27`, `12/01/2027`, and `12.01.` without a year (the German
 *   habit); with a slash and a middle number over 12 it is read month first (`01/25/2027`);
 * - day then month name: "12 January", "12th of January 2027", "12. Januar", "1er février",
 *   "12 de enero de 2027", "5 stycznia 2027 r.";
 * - month name then day: "January 12", "Jan 12th, 2027";
 * - a weekday alone after a return or "until" word ("back on Monday", "wracam w poniedziałek",
 *   "ab Montag wieder", "de retour lundi", "regreso el lunes"): the first such day after the message.
 */
const SHAPES: readonly (readonly [RegExp, Reader])[] = [
  [/(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)/g, (m) => ({ year: +m[1]!, month: +m[2]!, day: +m[3]! })],
  [
    /(?<![\d./])(\d{1,2})([./])\s?(\d{1,2})(?:\2\s?(\d{4}|\d{2})(?!\d)|(\.)(?!\d))/g,
    (m) => {
      const [first, second] = [+m[1]!, +m[3]!]
      const year = m[4] === undefined ? null : m[4].length === 2 ? 2000 + +m[4] : +m[4]
      if (m[2] === '/' && second > 12 && first <= 12) return { year, month: first, day: second }
      return { year, month: second, day: first }
    },
  ],
  [
    new RegExp(`(?<!\\d)${DAY}\\s*(?:of\\s+|de\\s+)?${MONTH}(?:,?\\s*(?:de\\s+)?${YEAR}(?!\\d))?`, 'g'),
    (m) => ({ day: +m[1]!, month: MONTHS[m[2]!]!, year: m[3] === undefined ? null : +m[3] }),
  ],
  [
    new RegExp(`(?<![a-z])${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?!\\d)(?:,?\\s*${YEAR}(?!\\d))?`, 'g'),
    (m) => ({ month: MONTHS[m[1]!]!, day: +m[2]!, year: m[3] === undefined ? null : +m[3] }),
  ],
]

/** Words before a date saying it is the day of return (best), or the last day away. */
const RETURN_BEFORE =
  /\b(?:back|return|returning|returns|in the office|wracam|wroce|powrot|z powrotem|bede dostepn|wieder|zuruck|ab dem|ab|retour|reviens|reviendrai|regreso|regresare|regresa|vuelta|volvere|reincorporo)\b/
const UNTIL_BEFORE = /\b(?:until|till|til|through|thru|bis|do|jusqu'au|jusqu'a|au|hasta|al|to)\b/
/** German puts the verb after the date: "ab dem 12.01. wieder im Büro". */
const RETURN_AFTER = /^\W{0,3}(?:\w+\s){0,2}(?:wieder|zuruck|back|de retour|z powrotem)\b/
/** Words that make a date the first day away ("from 22 Dec", "vom 22.12.", "od 22 grudnia"). */
const START_BEFORE = /\b(?:from|since|vom|von|seit|od|du|depuis|desde|del)\s*$/

function score(text: string, candidate: Candidate, previousEnd: number): number {
  const windowStart = Math.max(previousEnd, candidate.index - 60, text.lastIndexOf('\n', candidate.index) + 1)
  const before = text.slice(windowStart, candidate.index)
  const after = text.slice(candidate.end, candidate.end + 30)
  if (START_BEFORE.test(before)) return 0
  if (RETURN_BEFORE.test(before)) return 4
  if (RETURN_AFTER.test(after)) return 3
  if (UNTIL_BEFORE.test(before)) return 3
  return 1
}

function candidatesIn(text: string): Candidate[] {
  const found: Candidate[] = []
  for (const [pattern, read] of SHAPES) {
    for (const match of text.matchAll(pattern)) {
      const date = read(match)
      const index = match.index ?? 0
      const end = index + match[0].length
      if (date === null || found.some((other) => index < other.end && end > other.index)) continue
      found.push({ ...date, index, end, weekday: null })
    }
  }
  // A weekday right before a date ("Monday, 12 January") names that date's day, not a date of its own.
  const dates = [...found]
  for (const match of text.matchAll(WEEKDAY)) {
    const index = match.index ?? 0
    const end = index + match[0].length
    if (dates.some((date) => date.index >= end && date.index <= end + 6)) continue
    found.push({ index, end, day: 0, month: 0, year: null, weekday: WEEKDAYS[match[1]!]! })
  }
  return found.sort((a, b) => a.index - b.index)
}

function isValid(day: CalendarDay): boolean {
  if (day.month < 1 || day.month > 12 || day.day < 1) return false
  return day.day <= new Date(Date.UTC(day.year, day.month, 0)).getUTCDate()
}

function compare(a: CalendarDay, b: CalendarDay): number {
  return a.year - b.year || a.month - b.month || a.day - b.day
}

/**
 * Places a candidate in time: a year given is kept (a date before the message is then no return
 * date: "out since 2 January"); a missing year is the next occurrence on or after the message's day.
 */
function resolve(candidate: Candidate, written: CalendarDay | null): CalendarDay | null {
  if (candidate.weekday !== null) return written === null ? null : nextWeekday(written, candidate.weekday)
  if (candidate.year !== null) {
    const day = { year: candidate.year, month: candidate.month, day: candidate.day }
    if (!isValid(day) || (written !== null && compare(day, written) < 0)) return null
    return day
  }
  if (written === null) return null
  for (const year of [written.year, written.year + 1, written.year + 2, written.year + 3, written.year + 4]) {
    const day = { year, month: candidate.month, day: candidate.day }
    if (isValid(day) && compare(day, written) >= 0) return day
  }
  return null
}

/** The first day after `from` that falls on `weekday` ("back on Monday" written on a Monday is a week later). */
function nextWeekday(from: CalendarDay, weekday: number): CalendarDay {
  const start = Date.UTC(from.year, from.month - 1, from.day)
  const ahead = (weekday - new Date(start).getUTCDay() + 7) % 7 || 7
  const next = new Date(start + ahead * 86_400_000)
  return { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }
}

/**
 * The return date in `text`, or null. Among the dates found, the one with the strongest cue
 * before it wins (a return word, then an "until" word, then none; a "from" word rules a date out),
 * the later one on a tie, so "from 22 December to 6 January" gives 6 January.
 *
 * @param written The calendar day the message was written (its `Date` header in the sender's own offset).
 */
export function returnDateOf(text: string, written: CalendarDay | null): string | null {
  const folded = fold(text)
  let best: { score: number; day: CalendarDay } | null = null
  let previousEnd = 0
  for (const candidate of candidatesIn(folded)) {
    const points = score(folded, candidate, previousEnd)
    previousEnd = candidate.end
    const day = resolve(candidate, written)
    // A bare weekday counts only after a return or "until" word ("back on Monday", not "I work Mondays").
    if (day === null || points === 0 || (candidate.weekday !== null && points < 3)) continue
    if (best === null || points > best.score || (points === best.score && compare(day, best.day) > 0)) {
      best = { score: points, day }
    }
  }
  return best === null ? null : formatDay(best.day)
}

export function formatDay({ year, month, day }: CalendarDay): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

const HEADER_MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/**
 * The calendar day in a `Date` header as the sender wrote it (RFC 5322 §3.3 `[day-of-week ","] day
 * month year time zone`), in the sender's own offset, which is the day the notice's "12 January"
 * is relative to. Two-digit years follow RFC 5322 §4.3 (00–49 → 2000s, 50–99 → 1900s).
 */
export function dayOfDateHeader(value: string | null): CalendarDay | null {
  if (value === null) return null
  const match = /(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\b/i.exec(value)
  if (!match) return null
  const month = HEADER_MONTHS.indexOf(match[2]!.toLowerCase()) + 1
  const short = +match[3]!
  const year = match[3]!.length === 2 ? (short < 50 ? 2000 + short : 1900 + short) : short
  const day = { year, month, day: +match[1]! }
  return month > 0 && isValid(day) ? day : null
}
