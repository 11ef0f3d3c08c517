/**
 * The app's database: one SQLite file, one Prisma Client for the app's models and mailcadence's.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import Database from 'better-sqlite3'
import { PrismaClient } from '../generated/prisma/client.js'

const require = createRequire(import.meta.url)

/**
 * Creates the tables of a new database file. An app that runs `prisma migrate` gets them from its
 * migrations (mailcadence.prisma is part of its schema); this one applies SQL files, its own and
 * the adapter's numbered `migrations/sqlite/*.sql` in order, through the driver.
 */
export function migrate(file: string): void {
  const db = new Database(file)
  // WAL: several processes (a web app and a worker, say) can then use the file at once.
  db.pragma('journal_mode = WAL')
  const done = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Contact'").get()
  if (done === undefined) {
    const adapter = dirname(require.resolve('@mailcadence/adapter-prisma/package.json'))
    db.exec(readFileSync(new URL('../prisma/sql/001_app.sql', import.meta.url), 'utf8'))
    const migrations = join(adapter, 'migrations', 'sqlite')
    const numbered = readdirSync(migrations).filter((f) => /^\d+_.*\.sql$/.test(f))
    for (const name of numbered.sort()) db.exec(readFileSync(join(migrations, name), 'utf8'))
  }
  db.close()
}

/** Opens the app's Prisma Client on the file (created and migrated if new). */
export function openDatabase(file: string): PrismaClient {
  migrate(file)
  return new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
}
