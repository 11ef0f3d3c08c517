/**
 * How store calls reach the database: every write in an interactive transaction, retried a few
 * times when the database rolled it back for a write conflict, a deadlock or a lock timeout; every
 * error mapped to a store error code.
 */
import { asModels, type Models, type PrismaClientLike, type PrismaTransactionOptions } from './client.js'
import { isRetryable, toStoreError } from './errors.js'
import type { Provider } from './provider.js'

/**
 * Thrown inside a transaction to roll it back and return `value` as the call's result: a
 * reservation that found no room must leave nothing changed, including the pacing slot it took.
 */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/**
 * Thrown inside a transaction to roll it back and run it again (one more attempt, as for a
 * deadlock): what it read or locked so far is better let go than kept, as it would deadlock.
 */
export class RunAgain extends Error {
  constructor(reason: string) {
    super(`mailcadence: transaction run again: ${reason}`)
  }
}

export interface RunnerOptions {
  /** Most runs of one transaction (the first included) when the database asks to retry it. */
  maxAttempts: number
  /** Prisma's `maxWait`: ms to wait for a connection (or, on SQLite, for the client's one connection). */
  maxWait: number
  /** Prisma's `timeout`: ms a transaction may stay open. */
  timeout: number
}

export interface Runner {
  /** Runs `fn` in a transaction; retried as a whole on conflicts; a `Rollback` becomes the result. */
  write<T>(operation: string, fn: (tx: Models) => Promise<T>): Promise<T>
  /**
   * Runs reads. On PostgreSQL and MySQL straight on the client; on SQLite in a transaction too:
   * the better-sqlite3 adapter has one connection, and a query outside a transaction would run
   * inside whichever transaction is open on it (seeing, and being rolled back with, its writes).
   */
  read<T>(operation: string, fn: (db: Models) => Promise<T>): Promise<T>
}

export function createRunner(
  prisma: PrismaClientLike,
  provider: () => Promise<Provider>,
  options: RunnerOptions,
): Runner {
  async function transaction<T>(fn: (tx: Models) => Promise<T>): Promise<T> {
    const kind = await provider()
    const txOptions: PrismaTransactionOptions = { maxWait: options.maxWait, timeout: options.timeout }
    // Read committed: every statement sees what was committed before it, compare-and-set updates
    // re-check their condition on the latest row, and MySQL takes no gap locks. PostgreSQL's
    // default already is (asking again costs a round trip); MySQL's is REPEATABLE READ; SQLite's
    // transactions are serializable (the only level its adapter accepts).
    if (kind === 'mysql') txOptions.isolationLevel = 'ReadCommitted'
    try {
      return await prisma.$transaction((tx) => fn(asModels(tx)), txOptions)
    } catch (error) {
      if (error instanceof Rollback) return error.value as T
      throw error
    }
  }

  async function withRetries<T>(operation: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run()
      } catch (error) {
        const again = error instanceof RunAgain || isRetryable(error)
        if (attempt >= options.maxAttempts || !again) throw toStoreError(error, operation)
        await pause(attempt)
      }
    }
  }

  return {
    write: (operation, fn) => withRetries(operation, () => transaction(fn)),
    async read(operation, fn) {
      if ((await provider()) === 'sqlite') return withRetries(operation, () => transaction(fn))
      return withRetries(operation, () => fn(asModels(prisma)))
    },
  }
}

/** Backoff between attempts: 5 ms, 10 ms, 20 ms… up to 250 ms, each with random jitter. */
function pause(attempt: number): Promise<void> {
  const ms = Math.min(250, 5 * 2 ** (attempt - 1)) * (0.5 + Math.random())
  return new Promise((resolve) => setTimeout(resolve, ms))
}
