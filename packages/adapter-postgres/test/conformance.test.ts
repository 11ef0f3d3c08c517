import { runStoreConformance, runStoreContract } from '@mailcadence/core/conformance'
import { afterAll, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

if (await databaseAvailable('store conformance')) {
  const pool = createTestPool(20)
  const schemas: string[] = []
  afterAll(async () => {
    await dropSchemas(pool, schemas)
    await pool.end()
  })
  // A fresh schema per test; the suite closes each store, which leaves our pool open.
  runStoreConformance(
    'postgres',
    async () => createPostgresStore({ pool, schema: await freshSchema(pool, 'conf', schemas) }),
    // A schema per fuzz scenario costs a migration: few, short scenarios (pnpm torture runs long ones).
    { timeout: 120_000, fuzzRuns: 5, fuzzLength: 20 },
  )
  runStoreContract('postgres', async () =>
    createPostgresStore({ pool, schema: await freshSchema(pool, 'unit', schemas) }),
  )
} else {
  it.skip('store conformance and contract: postgres (no PostgreSQL server)', () => {})
}
