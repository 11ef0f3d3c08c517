/**
 * The app's database: one SQLite file, one Prisma Client for the legacy models and mailcadence's.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import Database from 'better-sqlite3'
import { PrismaClient } from '../generated/prisma/client.js'

export type { PrismaClient }

const require = createRequire(import.meta.url)

/**
 * Creates the tables of a new database file: the legacy sender's (`prisma/sql/`), then every
 * numbered SQL file of the adapter's `migrations/sqlite/`, in order (`001_init.sql`,
 * `002_import.sql`, …). An app that runs `prisma migrate` gets the same from its migrations, since
 * mailcadence.prisma is part of its schema.
 */
export function migrate(file: string): void {
  const db = new Database(file)
  // WAL: the legacy cron and the mailcadence worker may be two processes on the same file.
  db.pragma('journal_mode = WAL')
  const done = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Campaign'").get()
  if (done === undefined) {
    const adapter = join(dirname(require.resolve('@mailcadence/adapter-prisma/package.json')), 'migrations')
    const files = [
      ...numbered(fileURLToPath(new URL('../prisma/sql/', import.meta.url))),
      ...numbered(join(adapter, 'sqlite')),
    ]
    db.transaction(() => {
      for (const path of files) db.exec(readFileSync(path, 'utf8'))
    })()
  }
  db.close()
}

/** `NNN_name.sql` files of a folder, in order. */
function numbered(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort()
    .map((f) => join(dir, f))
}

/** Opens the app's Prisma Client on the file (created and migrated if new). */
export function openDatabase(file: string): PrismaClient {
  migrate(file)
  return new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
}
