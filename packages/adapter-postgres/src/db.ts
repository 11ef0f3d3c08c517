/**
 * How the store talks to PostgreSQL through whatever the host gave it: a `pg` Pool, a Client, or a
 * client already inside the host's transaction. Every store call runs in a *session*: a pool
 * client checked out for the call, or the host's single client behind a mutex (a client runs one
 * query at a time, and two calls interleaving their statements would mix their transactions).
 */
import { abortedByConflict, connectionLost, toStoreError } from './errors.js'

/** The result shape the store reads: pg's `QueryResult` fits. */
export interface QueryResultLike {
  rows: unknown[]
  rowCount?: number | null
}

/** Anything with pg's `query(text, values)`: a `Pool`, a `Client`, a `PoolClient`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<QueryResultLike>
}

/** A client checked out of a pool: pg's `PoolClient` fits. */
export interface PooledClientLike extends Queryable {
  release(error?: Error | boolean): void
  /** pg's clients are EventEmitters: an `'error'` with no listener would crash the process. */
  on?(event: 'error', listener: (error: Error) => void): unknown
  off?(event: 'error', listener: (error: Error) => void): unknown
}

/** A pool: pg's `Pool` fits. Recognised by `connect()` together with pg-pool's `totalCount`. */
export interface PoolLike extends Queryable {
  connect(): Promise<PooledClientLike>
  readonly totalCount: number
}

/** What one store call runs its statements through. */
export interface Session {
  /**
   * Runs one statement. With `prepared`, a `pg` client keeps the statement's plan (a named prepared
   * statement per connection) instead of planning it again each time: for the hot path's statements,
   * planning costs as much as running them. Other clients run it as an ordinary query.
   */
  query<Row>(text: string, values?: unknown[], options?: { prepared?: boolean }): Promise<Row[]>
  /** Runs `fn` in a transaction (or a savepoint, when the host's client is inside one). */
  transaction<T>(fn: (session: Session) => Promise<T>): Promise<T>
}

export interface Database {
  /** Runs `fn` with a session of its own; releases it afterwards, whatever happens. */
  session<T>(fn: (session: Session) => Promise<T>): Promise<T>
  /** Whether the store runs on the host's client inside the host's transaction (never on a pool). */
  insideHostTransaction(): Promise<boolean>
}

function isPool(value: Queryable): value is PoolLike {
  const candidate = value as Partial<PoolLike>
  return typeof candidate.connect === 'function' && typeof candidate.totalCount === 'number'
}

/** pg ≥ 8.14 reports the backend's transaction status on the client. */
function transactionStatus(client: Queryable): string | null | undefined {
  const getter = (client as { getTransactionStatus?: () => string | null }).getTransactionStatus
  return typeof getter === 'function' ? getter.call(client) : undefined
}

/** SQLSTATE 25P01: SAVEPOINT outside a transaction block. */
const NO_ACTIVE_TRANSACTION = '25P01'

let savepoints = 0

/**
 * Times a statement, or a transaction of ours, that PostgreSQL aborted to break a deadlock or a
 * serialization conflict is run again. The store's own writers take their locks in one order (see
 * the README, "Running several workers") and do not close cycles with each other; a host's own SQL
 * on the same rows can: PostgreSQL aborts one side, the other goes on, and the aborted one, rolled
 * back whole, can simply run again.
 */
const CONFLICT_RETRIES = 4

async function retryingConflicts<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (attempt > CONFLICT_RETRIES || !abortedByConflict(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, attempt * 2))
    }
  }
}

/** Names of prepared statements, by text: one per distinct statement, the same on every connection. */
const statementNames = new Map<string, string>()

function statementName(text: string): string {
  let name = statementNames.get(text)
  if (name === undefined) {
    // FNV-1a over the text, plus the length: distinct statements get distinct names.
    let hash = 0x811c9dc5
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i)
      hash = Math.imul(hash, 0x01000193)
    }
    name = `mailcadence_${(hash >>> 0).toString(36)}_${text.length.toString(36)}`
    statementNames.set(text, name)
  }
  return name
}

/** pg ≥ 8.14's clients (recognised as in transactionStatus) take `{ name, text, values }`. */
function takesPreparedStatements(client: Queryable): boolean {
  return typeof (client as { getTransactionStatus?: unknown }).getTransactionStatus === 'function'
}

function sessionOf(client: Queryable, ownsTransactions: boolean): Session {
  const prepares = takesPreparedStatements(client)
  // Inside a transaction of ours a statement aborted by a conflict cannot run again on its own: the
  // whole transaction does (see `transaction`).
  let inOwnTransaction = false
  const run = async <Row>(text: string, values?: unknown[], prepared?: boolean): Promise<Row[]> => {
    try {
      const result =
        prepared && prepares
          ? await (
              client as unknown as {
                query(config: { name: string; text: string; values?: unknown[] }): Promise<QueryResultLike>
              }
            ).query({ name: statementName(text), text, values })
          : await client.query(text, values)
      return result.rows as Row[]
    } catch (error) {
      throw toStoreError(error)
    }
  }
  const session: Session = {
    async query<Row>(text: string, values?: unknown[], options?: { prepared?: boolean }): Promise<Row[]> {
      // A pool's client outside our transactions runs each statement in a transaction of its own.
      if (ownsTransactions && !inOwnTransaction)
        return retryingConflicts(() => run<Row>(text, values, options?.prepared))
      return run<Row>(text, values, options?.prepared)
    },
    async transaction<T>(fn: (s: Session) => Promise<T>): Promise<T> {
      // A pool client is ours: BEGIN/COMMIT. The host's own client may be inside the host's
      // transaction, where BEGIN would be ignored and our COMMIT would commit the host's work:
      // there a savepoint makes the call atomic and leaves the decision to the host.
      const inHostTransaction = !ownsTransactions && (await insideTransaction(client))
      if (!inHostTransaction) {
        return retryingConflicts(async () => {
          inOwnTransaction = true
          try {
            return await runInTransaction(client, session, fn)
          } finally {
            inOwnTransaction = false
          }
        })
      }
      const name = `mailcadence_${++savepoints}`
      await session.query(`SAVEPOINT ${name}`)
      try {
        const result = await fn(session)
        await session.query(`RELEASE SAVEPOINT ${name}`)
        return result
      } catch (error) {
        await client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {})
        throw error
      }
    },
  }
  return session
}

async function runInTransaction<T>(client: Queryable, session: Session, fn: (s: Session) => Promise<T>) {
  await session.query('BEGIN')
  try {
    const result = await fn(session)
    await session.query('COMMIT')
    return result
  } catch (error) {
    // If the connection is gone the rollback fails too; the server rolls back on its own.
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** Whether the client is inside a transaction (pg ≥ 8.14 says so; older clients are probed). */
async function insideTransaction(client: Queryable): Promise<boolean> {
  const status = transactionStatus(client)
  return status === undefined ? probeTransaction(client) : status === 'T' || status === 'E'
}

/** For clients that do not report their status: a savepoint outside a transaction fails harmlessly. */
async function probeTransaction(client: Queryable): Promise<boolean> {
  try {
    await client.query('SAVEPOINT mailcadence_probe')
    await client.query('RELEASE SAVEPOINT mailcadence_probe')
    return true
  } catch (error) {
    if ((error as { code?: unknown }).code === NO_ACTIVE_TRANSACTION) return false
    throw toStoreError(error)
  }
}

/** A promise chain that lets one session at a time use the host's single client. */
function createMutex() {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => {})
    return run
  }
}

/** Wraps the host's pool or client. */
export function createDatabase(target: Queryable): Database {
  if (isPool(target)) {
    return {
      async session(fn) {
        let client: PooledClientLike
        try {
          client = await target.connect()
        } catch (error) {
          throw toStoreError(error)
        }
        let broken: Error | undefined
        // The server may drop a checked-out connection between two statements (a restart, an
        // admin's pg_terminate_backend): pg then emits 'error' on the client, which would crash
        // the host's process if nobody listened. The next query fails anyway; just remember it.
        const onError = () => {
          broken = new Error('mailcadence: connection lost')
        }
        client.on?.('error', onError)
        try {
          return await fn(sessionOf(client, true))
        } catch (error) {
          // A connection that failed mid-call may be in any state: do not hand it to the next caller.
          if (connectionLost(error)) broken = new Error('mailcadence: connection lost')
          throw error
        } finally {
          client.off?.('error', onError)
          client.release(broken)
        }
      },
      insideHostTransaction: async () => false,
    }
  }
  const exclusive = createMutex()
  const session = sessionOf(target, false)
  return {
    session: (fn) => exclusive(() => fn(session)),
    insideHostTransaction: () => exclusive(() => insideTransaction(target)),
  }
}
