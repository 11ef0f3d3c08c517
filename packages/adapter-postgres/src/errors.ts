/**
 * Turns what `pg` throws into `MailcadenceError`s with the codes the `Store` contract names.
 *
 * Messages are built from the SQLSTATE, the driver's error code and constraint names only: a
 * driver's own message can carry a host name, a user name or, from a misconfigured URL, a
 * password, and hosts log error messages. The sanitized details stay available as the `cause`.
 */
import { isMailcadenceError, MailcadenceError } from '@mailcadence/core'

/** SQLSTATEs after which the same call may succeed if tried again. */
const RETRYABLE_STATES: Record<string, string> = {
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '55P03': 'lock not available',
  '57014': 'statement cancelled (timeout)',
  '57P01': 'server shutting down',
  '57P02': 'server crashed',
  '57P03': 'server not accepting connections yet',
}

/**
 * SQLSTATEs with which PostgreSQL aborted a transaction to break a conflict with another (a deadlock,
 * a serialization failure): nothing of it was kept, and running it again usually succeeds.
 */
const CONFLICT_ABORTS = new Set(['40001', '40P01'])

/** SQLSTATE classes that are retryable as a whole. */
const RETRYABLE_CLASSES: Record<string, string> = {
  '08': 'connection failure',
  '53': 'server out of resources',
  '58': 'server system error',
}

/** Node socket errors and pg's own messages for a connection that failed or timed out. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
])
const DRIVER_CONNECTION_MESSAGE = /connection terminated|not queryable|timeout exceeded|query read timeout/i

/** States that mean the schema is missing: the host has not run `migrate()`. */
const NOT_MIGRATED = new Set(['3F000', '42P01'])

interface DriverError {
  code?: unknown
  constraint?: unknown
  message?: unknown
}

/** The part of an error that is safe to show. */
export class PostgresErrorDetail extends Error {
  readonly sqlState: string | undefined
  readonly driverCode: string | undefined
  /** Whether the connection itself failed (it should not be reused). */
  readonly connectionLost: boolean

  constructor(summary: string, sqlState: string | undefined, driverCode: string | undefined, lost: boolean) {
    super(summary)
    this.name = 'PostgresErrorDetail'
    this.sqlState = sqlState
    this.driverCode = driverCode
    this.connectionLost = lost
  }
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/** Maps anything the driver threw to a `MailcadenceError`; mailcadence errors pass through. */
export function toStoreError(error: unknown): MailcadenceError {
  if (isMailcadenceError(error)) return error
  const e = (typeof error === 'object' && error !== null ? error : {}) as DriverError
  const code = typeof e.code === 'string' ? e.code : undefined
  const sqlState = code !== undefined && SQLSTATE.test(code) ? code : undefined
  const message = typeof e.message === 'string' ? e.message : ''

  if (sqlState !== undefined) {
    const retryable = RETRYABLE_STATES[sqlState] ?? RETRYABLE_CLASSES[sqlState.slice(0, 2)]
    if (retryable !== undefined) {
      const lost = sqlState.startsWith('08') || sqlState.startsWith('57P')
      return unavailable(`PostgreSQL: ${retryable} (SQLSTATE ${sqlState})`, sqlState, undefined, lost)
    }
    if (sqlState === '23505') {
      const constraint = typeof e.constraint === 'string' ? ` on ${e.constraint}` : ''
      const detail = new PostgresErrorDetail(`unique violation${constraint}`, sqlState, undefined, false)
      return new MailcadenceError(
        'store-conflict',
        `PostgreSQL: unexpected duplicate${constraint} (SQLSTATE 23505)`,
        { cause: detail },
      )
    }
    const hint = NOT_MIGRATED.has(sqlState) ? ': is the schema migrated? Run migrate() first' : ''
    const detail = new PostgresErrorDetail(`statement refused${hint}`, sqlState, undefined, false)
    return new MailcadenceError(
      'store-conflict',
      `PostgreSQL refused the statement${hint} (SQLSTATE ${sqlState})`,
      {
        cause: detail,
      },
    )
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return unavailable(`PostgreSQL unreachable (${code})`, undefined, code, true)
  }
  if (DRIVER_CONNECTION_MESSAGE.test(message)) {
    return unavailable('PostgreSQL connection lost or timed out', undefined, code, true)
  }
  // Not from the server and not a known network failure: the driver failed in a way we cannot
  // read. Retrying is the only thing a caller can do about it.
  return unavailable('PostgreSQL driver error', undefined, code, true)
}

function unavailable(message: string, sqlState: string | undefined, code: string | undefined, lost: boolean) {
  return new MailcadenceError('store-unavailable', message, {
    cause: new PostgresErrorDetail(message, sqlState, code, lost),
  })
}

/** Whether a store error means the connection it came from must not be reused. */
export function connectionLost(error: unknown): boolean {
  if (!isMailcadenceError(error)) return false
  const cause = (error as { cause?: unknown }).cause
  return cause instanceof PostgresErrorDetail && cause.connectionLost
}

/** Whether PostgreSQL aborted the statement's transaction to break a conflict (see CONFLICT_ABORTS). */
export function abortedByConflict(error: unknown): boolean {
  if (!isMailcadenceError(error)) return false
  const cause = (error as { cause?: unknown }).cause
  return cause instanceof PostgresErrorDetail && CONFLICT_ABORTS.has(cause.sqlState ?? '')
}
