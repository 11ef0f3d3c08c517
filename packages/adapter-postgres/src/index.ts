/**
 * `@mailcadence/adapter-postgres`: the mailcadence store on PostgreSQL through `pg`, safe with any
 * number of processes ticking against one database.
 *
 * ```ts
 * import pg from 'pg'
 * import { createPostgresStore, migrate } from '@mailcadence/adapter-postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * await migrate(pool)
 * const store = createPostgresStore({ pool })
 * ```
 *
 * @packageDocumentation
 */
export type { PooledClientLike, PoolLike, Queryable, QueryResultLike } from './db.js'
export { type MigrateOptions, type MigrateResult, migrate } from './migrate.js'
export { createPostgresStore, type PostgresStoreOptions } from './store.js'
