import { runStoreConformance, runStoreContract } from '@mailcadence/core/conformance'
import { afterAll } from 'vitest'
import { createPrismaStore } from '../src/index.js'
import { createTestDatabase } from './support/clients.js'
import { withDatabase } from './support/databases.js'

// A database of its own through @prisma/adapter-mariadb; emptied before each test, dropped at the end.
await withDatabase('mysql', 'store conformance: prisma/mariadb', async () => {
  const db = await createTestDatabase('mysql')
  afterAll(() => db.drop())
  const makeStore = async () => {
    await db.reset()
    return createPrismaStore(db.prisma)
  }
  runStoreConformance('prisma/mariadb', makeStore, { timeout: 120_000, fuzzRuns: 5, fuzzLength: 20 })
  runStoreContract('prisma/mariadb', makeStore, { timeout: 120_000 })
})
