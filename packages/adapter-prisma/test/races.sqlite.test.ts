/**
 * The race suite on SQLite (WAL): two clients, each with its own better-sqlite3 connection, on one
 * file. In one process they cannot wait for each other: better-sqlite3 waits for a busy file
 * synchronously, blocking the event loop that the other connection needs to finish and let go. So
 * both wait 0 ms: a transaction that finds the file busy fails at once with SQLITE_BUSY and the
 * store runs it again after a short pause (`maxAttempts`, raised for this contention). Across
 * processes, where the busy timeout does wait, processes.test.ts runs eight workers on one file.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { clientClass, type TestClient } from './support/clients.js'
import { prismaRaces } from './support/races.js'

await prismaRaces('sqlite', 'sqlite', {
  async clients(db) {
    const { location } = db
    if (location.provider !== 'sqlite') throw new Error('not a SQLite database')
    const { file } = location
    const PrismaClient = await clientClass('sqlite')
    const open = (): TestClient =>
      new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}`, timeout: 0 }) })
    return [open(), open()]
  },
  store: { maxAttempts: 40 },
})
