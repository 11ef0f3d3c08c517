/**
 * Errors from Prisma and its driver adapters, read and mapped to the store error codes of core
 * (`store-conflict`, `store-misconfigured`, `store-unavailable`), so that no raw driver error
 * reaches the scheduler.
 */
import { isMailcadenceError, MailcadenceError } from '@mailcadence/core'

/** What an error from Prisma says about itself, wherever its layers put it. */
export interface ErrorFacts {
  /** Prisma's code (`P2002`, `P2034`, …) when it has one. */
  prismaCode: string | undefined
  /** The driver adapter's error kind (`UniqueConstraintViolation`, `TransactionWriteConflict`, …). */
  kind: string | undefined
  /** The database's own code (`40P01`, `1213`, `SQLITE_BUSY`, …). */
  databaseCode: string | undefined
  message: string
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return undefined
}

/** Reads the codes of a Prisma error (or of a driver adapter error thrown as it is). */
export function errorFacts(error: unknown): ErrorFacts {
  const prismaCode = [text(field(error, 'code')), text(field(error, 'errorCode'))].find(
    (code) => code !== undefined && /^P\d{4}$/.test(code),
  )
  // Prisma 7 keeps the driver adapter's error in meta.driverAdapterError, whose cause holds the kind.
  const adapterError = field(field(error, 'meta'), 'driverAdapterError') ?? error
  const cause = field(adapterError, 'cause') ?? field(error, 'cause')
  const kind = text(field(cause, 'kind'))
  const databaseCode =
    text(field(cause, 'originalCode')) ??
    text(field(cause, 'code')) ??
    (prismaCode === undefined ? text(field(error, 'code')) : undefined)
  const message = error instanceof Error ? error.message : String(error)
  return { prismaCode, kind, databaseCode, message }
}

/** Prisma codes of a constraint the data broke: not worth retrying. */
const CONFLICT_CODES = new Set(['P2000', 'P2002', 'P2003', 'P2004', 'P2011', 'P2014', 'P2020'])
const CONFLICT_KINDS = new Set([
  'UniqueConstraintViolation',
  'ForeignKeyConstraintViolation',
  'RestrictViolation',
  'NullConstraintViolation',
  'LengthMismatch',
  'ValueOutOfRange',
])

/**
 * Errors after which the whole transaction may simply run again: write conflicts and deadlocks
 * (P2034), a lock or busy wait that timed out, a transaction that could not start or expired while
 * waiting (P2028), a pool with no free connection in time (P2024), a server with no free
 * connection slot (P2037). The transaction was rolled back, or never began.
 */
const RETRY_CODES = new Set(['P2034', 'P2028', 'P1008', 'P2024', 'P2037'])
const RETRY_KINDS = new Set(['TransactionWriteConflict', 'SocketTimeout', 'TooManyConnections'])
/** PostgreSQL serialization failure, deadlock, lock timeout; MySQL deadlock, lock wait timeout. */
const RETRY_DATABASE_CODES = new Set(['40001', '40P01', '55P03', '1213', '1205'])

export function isRetryable(error: unknown): boolean {
  if (isMailcadenceError(error)) return false
  const { prismaCode, kind, databaseCode, message } = errorFacts(error)
  // P2028 also says a transaction outlived its timeout: the same work would again.
  if (prismaCode === 'P2028') return !/expired transaction/i.test(message)
  if (prismaCode !== undefined && RETRY_CODES.has(prismaCode)) return true
  if (kind !== undefined && RETRY_KINDS.has(kind)) return true
  if (databaseCode === undefined) return false
  return RETRY_DATABASE_CODES.has(databaseCode) || databaseCode.startsWith('SQLITE_BUSY')
}

/**
 * What the host must fix when the database refused the connection's settings or lacks the tables:
 * retrying cannot help (`store-misconfigured`). By Prisma's code or, for errors a driver adapter
 * threw as they are, its kind.
 */
const MISCONFIGURED: Record<string, string> = {
  P1000: 'the database rejected the credentials: check the user and password of the connection settings',
  AuthenticationFailed:
    'the database rejected the credentials: check the user and password of the connection settings',
  P1010: 'the database refused this user: check the user of the connection settings and its grants',
  DatabaseAccessDenied:
    'the database refused this user: check the user of the connection settings and its grants',
  P1003: 'the database does not exist: create it, or fix the database of the connection settings',
  DatabaseDoesNotExist:
    'the database does not exist: create it, or fix the database of the connection settings',
  P2021: "a table is missing: apply the adapter's migrations first (prisma migrate deploy)",
  TableDoesNotExist: "a table is missing: apply the adapter's migrations first (prisma migrate deploy)",
  P2022: "a column is missing: apply the adapter's newer migrations first (prisma migrate deploy)",
  ColumnNotFound: "a column is missing: apply the adapter's newer migrations first (prisma migrate deploy)",
}

/** The hint for a misconfiguration, or undefined when the error is not one. */
export function misconfiguration(error: unknown): string | undefined {
  const { prismaCode, kind } = errorFacts(error)
  return (prismaCode && MISCONFIGURED[prismaCode]) || (kind && MISCONFIGURED[kind]) || undefined
}

export function isConflict(error: unknown): boolean {
  const { prismaCode, kind } = errorFacts(error)
  return (
    (prismaCode !== undefined && CONFLICT_CODES.has(prismaCode)) ||
    (kind !== undefined && CONFLICT_KINDS.has(kind))
  )
}

/**
 * The error core sees for a failed store call: itself if it already is a `MailcadenceError`,
 * `store-conflict` for broken constraints (a unique key, …), `store-misconfigured` with a hint for
 * refused credentials, a missing database and missing tables or columns, `store-unavailable` for
 * everything else (connection lost or refused, timeouts, deadlocks that outlived the retries),
 * with the original error as `cause`.
 */
export function toStoreError(error: unknown, operation: string): MailcadenceError {
  if (isMailcadenceError(error)) return error
  const facts = errorFacts(error)
  const codes = [facts.prismaCode, facts.kind, facts.databaseCode].filter((c) => c !== undefined).join(' ')
  const detail = firstLine(facts.message)
  const message = `prisma store: ${operation} failed${codes ? ` (${codes})` : ''}: ${detail}`
  const hint = misconfiguration(error)
  if (hint !== undefined)
    return new MailcadenceError('store-misconfigured', `${message}; ${hint}`, { cause: error })
  return new MailcadenceError(isConflict(error) ? 'store-conflict' : 'store-unavailable', message, {
    cause: error,
  })
}

/** Prisma's messages start with where the call was made; the last non-empty line says what went wrong. */
function firstLine(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
  return lines.at(-1) ?? message
}

/** An `invalid-input` error naming the field at fault (as core's own validation does). */
export function invalidInput(field: string, problem: string): MailcadenceError {
  return new MailcadenceError('invalid-input', `${field}: ${problem}`, { field })
}
