/**
 * The store's handle on the database: prepared statements cached by text, and the two kinds of
 * transaction every store method runs in.
 *
 * Atomicity comes from SQLite's single writer. A writing method runs in `BEGIN IMMEDIATE`, which
 * takes the database's write lock before reading anything, so what it reads cannot change before
 * it commits, in this process or any other on the file: every read-then-write is a compare-and-set.
 * A reading method runs in a plain `BEGIN`, a consistent snapshot (WAL lets it read while another
 * process writes). Every method is synchronous from `BEGIN` to `COMMIT`, so two calls of one store
 * never interleave inside a transaction either.
 */
import { isMailcadenceError, MailcadenceError } from '@mailcadence/core'
import type { SqliteDatabase, SqliteStatement, SqlValue } from './driver.js'

export type Row = Record<string, unknown>

export class Db {
  private readonly statements = new Map<string, SqliteStatement>()

  constructor(readonly handle: SqliteDatabase) {}

  /** Runs a statement; returns the rows changed and the last inserted row id. */
  run(sql: string, ...params: SqlValue[]): { changes: number; lastId: number } {
    const r = this.prepared(sql).run(...params)
    return { changes: Number(r.changes), lastId: Number(r.lastInsertRowid) }
  }

  get<T = Row>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.prepared(sql).get(...params) as T | undefined
  }

  all<T = Row>(sql: string, ...params: SqlValue[]): T[] {
    return this.prepared(sql).all(...params) as T[]
  }

  /** `fn` in a write transaction (`BEGIN IMMEDIATE`): atomic against every process on the file. */
  write<T>(fn: () => T): T {
    return this.transaction('BEGIN IMMEDIATE', fn)
  }

  /** `fn` in a read transaction: one consistent snapshot for all its statements. */
  read<T>(fn: () => T): T {
    return this.transaction('BEGIN', fn)
  }

  private transaction<T>(begin: string, fn: () => T): T {
    try {
      this.handle.exec(begin)
    } catch (error) {
      throw storeError(error)
    }
    try {
      const result = fn()
      this.handle.exec('COMMIT')
      return result
    } catch (error) {
      try {
        this.handle.exec('ROLLBACK')
      } catch {
        // SQLite already rolled back (some errors end the transaction themselves).
      }
      throw storeError(error)
    }
  }

  private prepared(sql: string): SqliteStatement {
    let statement = this.statements.get(sql)
    if (statement === undefined) {
      statement = this.handle.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }
}

/**
 * What the drivers throw, as the `Store` contract's codes. Both drivers name SQLite's result code
 * (`better-sqlite3`: `code: 'SQLITE_BUSY'`; `node:sqlite`: `errcode` 5 and `errstr`). Busy and
 * locked mean another process held the write lock longer than `busyTimeout`: retryable.
 */
export function storeError(error: unknown): Error {
  if (isMailcadenceError(error)) return error
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  const primary = typeof e.errcode === 'number' ? e.errcode & 0xff : -1
  const message = typeof e.message === 'string' ? e.message : String(error)
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || primary === 5 || primary === 6) {
    return new MailcadenceError('store-unavailable', `SQLite database is busy: ${message}`, { cause: error })
  }
  if (/no such table/i.test(message)) {
    // Someone dropped or renamed the store's tables after it opened the file (it creates them).
    return new MailcadenceError('store-misconfigured', `SQLite file lacks the store's tables: ${message}`, {
      cause: error,
    })
  }
  if (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    primary === 8 ||
    primary === 14
  ) {
    return new MailcadenceError('store-misconfigured', `SQLite cannot write the file: ${message}`, {
      cause: error,
    })
  }
  return new MailcadenceError('store-conflict', `SQLite refused the statement: ${message}`, { cause: error })
}

/** Epoch milliseconds of an instant, or null. */
export function ms(date: Date | null | undefined): number | null {
  return date === null || date === undefined ? null : date.getTime()
}

/** Ids are integer row ids in the database and decimal strings at the API. */
const DECIMAL = /^[1-9][0-9]{0,14}$/

/** The row id a string names, or undefined when it cannot name one (`'nope'`): "not found". */
export function rowId(id: unknown): number | undefined {
  return typeof id === 'string' && DECIMAL.test(id) ? Number(id) : undefined
}

/** The ids among `ids` that can be row ids, without repeats, as JSON for `json_each`. */
export function idList(ids: readonly unknown[]): string {
  return JSON.stringify([...new Set(ids.map(rowId).filter((id) => id !== undefined))])
}
