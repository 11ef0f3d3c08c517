import { runStoreConformance, runStoreContract } from '@mailcadence/core/conformance'
import { afterAll } from 'vitest'
import { createPrismaStore } from '../src/index.js'
import { createTestDatabase } from './support/clients.js'
import { withDatabase } from './support/databases.js'

// A schema of its own through @prisma/adapter-pg; emptied before each test, dropped at the end.
await withDatabase('postgresql', 'store conformance: prisma/postgresql', async () => {
  const db = await createTestDatabase('postgresql')
  afterAll(() => db.drop())
  const makeStore = async () => {
    await db.reset()
    return createPrismaStore(db.prisma)
  }
  runStoreConformance('prisma/postgresql', makeStore, { timeout: 120_000, fuzzRuns: 5, fuzzLength: 20 })
  runStoreContract('prisma/postgresql', makeStore, { timeout: 120_000 })
})
