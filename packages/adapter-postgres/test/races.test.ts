/**
 * The race suite of `@mailcadence/core/testing` on PostgreSQL: two stores, each on a pool of its
 * own (separate connections, as two processes would have), over one fresh schema per race.
 */
import { runStoreRaces } from '@mailcadence/core/testing'
import { afterAll, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

if (await databaseAvailable('store races')) {
  const admin = createTestPool(2)
  const schemas: string[] = []
  afterAll(async () => {
    await dropSchemas(admin, schemas)
    await admin.end()
  })
  runStoreRaces('postgres', async () => {
    const schema = await freshSchema(admin, 'race', schemas)
    const pools = [createTestPool(6), createTestPool(6)] as const
    return {
      a: createPostgresStore({ pool: pools[0], schema }),
      b: createPostgresStore({ pool: pools[1], schema }),
      // The stores leave pools they were given open.
      cleanup: async () => {
        await Promise.all(pools.map((pool) => pool.end()))
      },
    }
  })
} else {
  it.skip('store races: postgres (no PostgreSQL server)', () => {})
}
