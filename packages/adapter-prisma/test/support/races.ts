/**
 * The race suite of `@mailcadence/core/testing` on one database of a provider: two Prisma Clients,
 * each with its own connections (as two processes would have), on one database emptied before
 * each race.
 */
import { runStoreRaces } from '@mailcadence/core/conformance'
import { afterAll } from 'vitest'
import { createPrismaStore, type PrismaStoreOptions } from '../../src/index.js'
import { createTestDatabase, openClient, type TestClient, type TestDatabase } from './clients.js'
import { type TestProvider, withDatabase } from './databases.js'

/** MAILCADENCE_RACE_ROUNDS=200 runs each race longer, to measure how often a rare failure happens. */
const ROUNDS = Number(process.env.MAILCADENCE_RACE_ROUNDS) || undefined

export function prismaRaces(
  provider: TestProvider,
  name: string,
  options: {
    /** The two clients, on the test database; default: its own client and one more. */
    clients?: (db: TestDatabase) => Promise<[TestClient, TestClient]>
    store?: PrismaStoreOptions
  } = {},
) {
  return withDatabase(provider, `store races: prisma/${name}`, async () => {
    const db = await createTestDatabase(provider, { sqliteWal: true })
    const [first, second] = await (
      options.clients ?? (async (d) => [d.prisma, await openClient(d.location)])
    )(db)
    afterAll(async () => {
      for (const client of new Set([first, second])) if (client !== db.prisma) await client.$disconnect()
      await db.drop()
    })
    runStoreRaces(
      `prisma/${name}`,
      async () => {
        await db.reset()
        // The stores leave the clients open (they are the host's): disconnected after the file.
        return { a: createPrismaStore(first, options.store), b: createPrismaStore(second, options.store) }
      },
      { rounds: ROUNDS, timeout: ROUNDS ? ROUNDS * 10_000 : 120_000 },
    )
  })
}
