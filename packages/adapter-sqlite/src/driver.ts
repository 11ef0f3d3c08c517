/**
 * The one thing the store needs from a SQLite driver: `exec` and prepared statements with
 * `run`/`get`/`all`. `node:sqlite`'s `DatabaseSync` (Node 22.13+) and `better-sqlite3`'s
 * `Database` both have exactly this shape, so either is used as is, without a wrapper per call.
 */
import { createRequire } from 'node:module'
import { MailcadenceError } from '@mailcadence/core'

/** A value SQLite binds: instants are epoch milliseconds, booleans 0/1, lists JSON text. */
export type SqlValue = string | number | bigint | null

export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint }
  get(...params: SqlValue[]): unknown
  all(...params: SqlValue[]): unknown[]
}

/**
 * An open database handle as the host passes it: a `node:sqlite` `DatabaseSync` or a
 * `better-sqlite3` `Database` (typed loosely, so both drivers' own declarations fit).
 */
export interface SqliteHandle {
  exec(sql: string): unknown
  prepare(sql: string): unknown
  close(): unknown
}

/** The same handle as the store uses it. */
export interface SqliteDatabase {
  exec(sql: string): unknown
  prepare(sql: string): SqliteStatement
  close(): unknown
}

/** Which driver opens the file: `auto` is `node:sqlite` where Node has it, else `better-sqlite3`. */
export type SqliteDriverName = 'auto' | 'node:sqlite' | 'better-sqlite3'

type Opener = (filename: string) => SqliteDatabase

/**
 * Opens `filename` with the chosen driver. Both are loaded synchronously (the store is created
 * synchronously): `node:sqlite` through `process.getBuiltinModule`, which answers undefined on a
 * Node without it instead of throwing at import time, and `better-sqlite3` through `require`.
 */
export function openDatabase(filename: string, driver: SqliteDriverName): SqliteDatabase {
  const open = driver === 'better-sqlite3' ? betterSqlite3() : (nodeSqlite() ?? undefined)
  if (open !== undefined) return openWith(open, filename)
  if (driver === 'node:sqlite') {
    throw new MailcadenceError(
      'invalid-input',
      `driver: this Node (${process.version}) has no node:sqlite; use Node 22.13+ or driver 'better-sqlite3'`,
      { field: 'driver' },
    )
  }
  return openWith(betterSqlite3(), filename)
}

/** Opens the file; one that cannot be opened (missing directory, no permission) names it. */
function openWith(open: Opener, filename: string): SqliteDatabase {
  try {
    return open(filename)
  } catch (error) {
    throw new MailcadenceError(
      'store-misconfigured',
      `cannot open the SQLite file ${JSON.stringify(filename)} (does its directory exist, may this process write it?): ${(error as Error).message}`,
      { cause: error },
    )
  }
}

function nodeSqlite(): Opener | undefined {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule
  let mod: { DatabaseSync?: new (path: string) => SqliteDatabase } | undefined
  try {
    mod = getBuiltin?.call(process, 'node:sqlite') as typeof mod
  } catch {
    // Node 22.5–22.12 without --experimental-sqlite: the module exists but may not be loaded.
    mod = undefined
  }
  const DatabaseSync = mod?.DatabaseSync
  return DatabaseSync === undefined ? undefined : (filename) => new DatabaseSync(filename)
}

function betterSqlite3(): Opener {
  let Database: new (path: string) => SqliteDatabase
  try {
    Database = createRequire(import.meta.url)('better-sqlite3') as typeof Database
  } catch (error) {
    throw new MailcadenceError(
      'invalid-state',
      'neither node:sqlite (Node 22.13+) nor better-sqlite3 is available: run `npm install better-sqlite3`, ' +
        'or upgrade Node',
      { cause: error },
    )
  }
  return (filename) => new Database(filename)
}
