/**
 * Turns what `pg` throws into `MailcadenceError`s with the codes the `Store` contract names.
 *
 * Messages are built from the SQLSTATE, the driver's error code, constraint names, the socket's
 * own address and port, and the one name PostgreSQL quotes in a few known messages (the user it
 * refused, the database or relation it lacks), so that a user can act on them. The driver's
 * message is never copied whole: it can carry a connection URL with its password, and hosts log
 * error messages. The sanitized details stay available as the `cause`.
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

/** Socket errors of a connection that never opened, which name where it went. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

interface DriverError {
  code?: unknown
  constraint?: unknown
  message?: unknown
  /** Node's socket errors: the address and port a connection was refused or timed out at. */
  address?: unknown
  port?: unknown
  /** Node's DNS errors: the host name that did not resolve. */
  hostname?: unknown
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
    const misconfigured = misconfiguration(sqlState, message)
    if (misconfigured !== undefined) {
      const detail = new PostgresErrorDetail(misconfigured, sqlState, undefined, false)
      return new MailcadenceError('store-misconfigured', `${misconfigured} (SQLSTATE ${sqlState})`, {
        cause: detail,
      })
    }
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
    const detail = new PostgresErrorDetail('statement refused', sqlState, undefined, false)
    return new MailcadenceError('store-conflict', `PostgreSQL refused the statement (SQLSTATE ${sqlState})`, {
      cause: detail,
    })
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return unavailable(`PostgreSQL unreachable${destination(code, e)} (${code})`, undefined, code, true)
  }
  if (DRIVER_CONNECTION_MESSAGE.test(message)) {
    return unavailable('PostgreSQL connection lost or timed out', undefined, code, true)
  }
  // Not from the server and not a known network failure: the driver failed in a way we cannot
  // read. Retrying is the only thing a caller can do about it.
  return unavailable('PostgreSQL driver error', undefined, code, true)
}

/** A name PostgreSQL quoted in its message (`user "bob"`), bounded and printable, or null. */
function quoted(message: string, pattern: RegExp): string | null {
  const name = pattern.exec(message)?.[1]
  // 63 bytes is PostgreSQL's longest identifier; anything else was not a name. JSON quoting
  // escapes control characters, so a name cannot break a log line.
  if (name === undefined || name.length > 63) return null
  return JSON.stringify(name)
}

/**
 * What the host must fix when the server refused the connection's settings or found no schema:
 * retrying cannot help (`store-misconfigured`). Undefined for other states.
 */
function misconfiguration(sqlState: string, message: string): string | undefined {
  if (sqlState === '28P01' || sqlState === '28000') {
    const user = quoted(message, /\buser "([^"]*)"/) ?? quoted(message, /\brole "([^"]*)"/)
    return `PostgreSQL rejected the credentials${user ? ` for user ${user}` : ''}: check the user and password of the connection settings (and pg_hba.conf)`
  }
  if (sqlState === '3D000') {
    const database = quoted(message, /\bdatabase "([^"]*)"/)
    return `PostgreSQL has no database${database ? ` ${database}` : ' of that name'}: create it, or fix the database of the connection settings`
  }
  if (sqlState === '3F000' || sqlState === '42P01') {
    const missing = quoted(message, /\b(?:relation|schema) "([^"]*)"/)
    return `PostgreSQL has no ${missing ? `${sqlState === '3F000' ? 'schema' : 'table'} ${missing}` : 'mailcadence schema'}: is the schema migrated? Run migrate(pool, { schema }) first`
  }
  return undefined
}

/** ` at host:port` for a connection that never opened, from the socket error's own fields. */
function destination(code: string, e: DriverError): string {
  const host = typeof e.address === 'string' ? e.address : typeof e.hostname === 'string' ? e.hostname : null
  if (host === null || host.length > 255 || !/^[\w.:%-]+$/.test(host)) return ''
  const port = typeof e.port === 'number' && CONNECT_CODES.has(code) ? `:${e.port}` : ''
  return ` at ${host}${port}`
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
