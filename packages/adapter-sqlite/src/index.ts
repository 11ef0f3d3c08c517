/**
 * `@mailcadence/adapter-sqlite`: a durable embedded store on one SQLite file (`node:sqlite` or
 * `better-sqlite3`), in WAL mode, safe for several processes on one file.
 *
 * @packageDocumentation
 */
export type { SqliteDriverName, SqliteHandle } from './driver.js'
export { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './store.js'
