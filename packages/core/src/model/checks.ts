/**
 * The checks every public input goes through: a type, a range every store holds, and a normal
 * form. Each throws an `invalid-input` error naming the field, whose message quotes at most a
 * short, escaped excerpt of the value (`describeValue`).
 */
import { invalidInput } from '../errors.js'
import { describeValue } from './describe.js'
import { EARLIEST_MS, INPUT_LIMITS, LATEST_MS } from './limits.js'

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Why a string cannot be stored as it is, or null: too long, a NUL (Postgres refuses it in
 * text), or a lone UTF-16 surrogate (not Unicode: Postgres refuses it, other stores mangle it).
 */
export function textProblem(value: string, maxLength: number): string | null {
  if (value.length > maxLength) return `is longer than ${maxLength} characters (${value.length})`
  if (value.includes('\0')) return 'must not contain NUL'
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)'
  return null
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * A string in normal form of at most `maxLength` characters; `nonEmpty` refuses a blank one, and
 * `singleLine` any control character (ids and addresses, which messages and reports quote).
 */
export function checkText(
  field: string,
  value: unknown,
  maxLength: number,
  { nonEmpty = false, singleLine = false }: { nonEmpty?: boolean; singleLine?: boolean } = {},
): string {
  if (typeof value !== 'string') throw invalidInput(field, `must be a string, got ${describeValue(value)}`)
  const problem = textProblem(value, maxLength)
  if (problem) throw invalidInput(field, problem)
  if (nonEmpty && value.trim() === '') throw invalidInput(field, 'must not be empty')
  if (singleLine && CONTROL.test(value))
    throw invalidInput(field, 'must not contain control characters (CR, LF, tab, …)')
  return value
}

/** An id handed to the API: a non-empty single-line string in normal form, at most `INPUT_LIMITS.idLength`. */
export function checkId(field: string, value: unknown): string {
  return checkText(field, value, INPUT_LIMITS.idLength, { nonEmpty: true, singleLine: true })
}

/** An integer in [min, max]. */
export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw invalidInput(field, `must be an integer, got ${describeValue(value)}`)
  if (value < min || value > max)
    throw invalidInput(field, `must be between ${min} and ${max}, got ${describeValue(value)}`)
  return value
}

/** A finite number in [min, max]. */
export function checkNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw invalidInput(field, `must be a number from ${min} to ${max}, got ${describeValue(value)}`)
  return value
}

/**
 * A valid `Date` between the earliest and the latest date every store holds (`latestMs` for
 * dates that nothing is added to), returned as a copy so a caller mutating theirs changes nothing.
 */
export function checkDate(field: string, value: unknown, latestMs = LATEST_MS): Date {
  if (!(value instanceof Date)) throw invalidInput(field, `must be a Date, got ${describeValue(value)}`)
  const time = value.getTime()
  if (Number.isNaN(time)) throw invalidInput(field, 'must be a valid Date, got an invalid Date')
  if (time < EARLIEST_MS || time > latestMs) {
    throw invalidInput(
      field,
      `must be between ${new Date(EARLIEST_MS).toISOString()} and ${new Date(latestMs).toISOString()}, got ${describeValue(value)}`,
    )
  }
  return new Date(time)
}

/** A plain object (not null, not an array). */
export function checkObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidInput(field, `must be an object, got ${describeValue(value)}`)
  return value as Record<string, unknown>
}

/**
 * An array of at most `maxLength` entries, copied without holes: a sparse array's holes become
 * `undefined` entries, so every later `map` and `for … of` sees (and checks) the same entries.
 */
export function checkArray(field: string, value: unknown, maxLength: number): unknown[] {
  if (!Array.isArray(value)) throw invalidInput(field, `must be an array, got ${describeValue(value)}`)
  if (value.length > maxLength)
    throw invalidInput(field, `must hold at most ${maxLength} entries (${value.length})`)
  return Array.from(value)
}

/** A function. */
export function checkFunction<F>(field: string, value: unknown): F {
  if (typeof value !== 'function')
    throw invalidInput(field, `must be a function, got ${describeValue(value)}`)
  return value as F
}
