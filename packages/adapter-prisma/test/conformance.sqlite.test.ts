import { runStoreConformance, runStoreContract } from '@mailcadence/core/conformance'
import { afterAll } from 'vitest'
import { createPrismaStore } from '../src/index.js'
import { createTestDatabase } from './support/clients.js'

// A temporary file through @prisma/adapter-better-sqlite3; emptied before each test.
const db = await createTestDatabase('sqlite')
afterAll(() => db.drop())

const makeStore = async () => {
  await db.reset()
  return createPrismaStore(db.prisma)
}
runStoreConformance('prisma/sqlite', makeStore, { timeout: 120_000, fuzzRuns: 5, fuzzLength: 20 })
runStoreContract('prisma/sqlite', makeStore, { timeout: 120_000 })
