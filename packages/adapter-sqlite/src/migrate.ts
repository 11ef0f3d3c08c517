/**
 * Opening a file: pragmas, then the migrations it lacks. Both run every time a store opens, from
 * any number of processes at once: the migrations in one `BEGIN IMMEDIATE`, so exactly one process
 * applies each and the others find it recorded.
 */
import type { Db } from './db.js'
import { MIGRATIONS } from './sql/migrations/index.js'

export interface PragmaOptions {
  busyTimeout: number
  synchronous: 'full' | 'normal'
}

/**
 * WAL lets readers (other processes' idle ticks) go on while one process writes; `busy_timeout`
 * makes a writer wait for the lock instead of failing at once. Switching a new file to WAL needs a
 * moment alone with it, which SQLite does not wait for: a few tries cover processes opening a new
 * file together.
 */
export function applyPragmas(db: Db, options: PragmaOptions): void {
  db.handle.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeout))}`)
  for (let attempt = 0; ; attempt++) {
    try {
      db.handle.exec('PRAGMA journal_mode = WAL')
      break
    } catch (error) {
      if (attempt >= 50) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
    }
  }
  db.handle.exec(`PRAGMA synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
}

/** Applies the migrations the file lacks; returns the versions applied now. */
export function migrate(db: Db): number[] {
  return db.write(() => {
    db.handle.exec(
      'CREATE TABLE IF NOT EXISTS mailcadence_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)',
    )
    const done = new Set(
      db.all<{ version: number }>('SELECT version FROM mailcadence_migrations').map((r) => r.version),
    )
    const applied: number[] = []
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue
      db.handle.exec(m.sql)
      db.run('INSERT INTO mailcadence_migrations (version, name) VALUES (?, ?)', m.version, m.name)
      applied.push(m.version)
    }
    return applied
  })
}
