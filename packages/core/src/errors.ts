/**
 * Every error mailcadence throws on purpose is a `MailcadenceError` with a stable `code`.
 *
 * Check errors with {@link isMailcadenceError}, not `instanceof`: an app may end up with two
 * copies of core (an adapter resolving its own), and a brand shared through `Symbol.for`
 * still matches across them.
 */
export type ErrorCode =
  /** A value handed to the API is not acceptable; `field` names it. */
  | 'invalid-input'
  /** The campaign, mailbox or lead named does not exist. */
  | 'not-found'
  /** The operation does not apply in the current state (e.g. starting a cancelled campaign). */
  | 'invalid-state'
  /** The store failed (connection lost, timeout, …); the operation can be retried. */
  | 'store-unavailable'
  /** The store hit a conflict it could not resolve (e.g. a unique key) that is not a lost race. */
  | 'store-conflict'
  /**
   * The store cannot work as configured: the database refused its credentials, has no database of
   * that name, or lacks the schema (not migrated). Retrying cannot help until the host fixes it.
   */
  | 'store-misconfigured'
  /** The scheduler was closed. */
  | 'closed'

const BRAND = Symbol.for('mailcadence.error')

export class MailcadenceError extends Error {
  readonly code: ErrorCode
  /** The input field at fault, as a path (`steps[1].subject`), when there is one. */
  readonly field: string | undefined
  readonly [BRAND] = true

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'MailcadenceError'
    this.code = code
    this.field = options.field
  }
}

/** True for any mailcadence error, whichever copy of core created it. */
export function isMailcadenceError(value: unknown, code?: ErrorCode): value is MailcadenceError {
  if (typeof value !== 'object' || value === null) return false
  if ((value as Record<symbol, unknown>)[BRAND] !== true) return false
  return code === undefined || (value as MailcadenceError).code === code
}

/** An `invalid-input` error whose message starts with the field's name. */
export function invalidInput(field: string, problem: string): MailcadenceError {
  return new MailcadenceError('invalid-input', `${field}: ${problem}`, { field })
}
