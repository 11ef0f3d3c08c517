import { createDatabase, type Queryable } from './db.js'
import { MIGRATIONS } from './sql/migrations/index.js'
import { DEFAULT_SCHEMA, lockKey, quoteSchema } from './sql/schema.js'

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Schema to create or bring up to date. Default `mailcadence`. */
  schema?: string
}

/** What {@link migrate} did. */
export interface MigrateResult {
  schema: string
  /** Versions applied by this call, oldest first (empty when the schema was up to date). */
  applied: number[]
  /** The schema's version after the call. */
  version: number
}

/** Namespace of mailcadence's advisory locks (the first key of the two-key form). */
const LOCK_NAMESPACE = 0x6d63_6164 // "mcad"

/**
 * Creates the schema if needed and applies the migrations it lacks, each once, in one transaction.
 * Safe to call from every process at start-up: callers take a transaction-level advisory lock on
 * the schema, so one applies the migrations while the others wait and then find nothing to do.
 *
 * @param pool - a `pg` Pool or Client (or anything with its `query`); a Pool lends a connection.
 */
export async function migrate(pool: Queryable, options: MigrateOptions = {}): Promise<MigrateResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA
  const q = quoteSchema(schema)
  const db = createDatabase(pool)
  return db.session((session) =>
    session.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [
        LOCK_NAMESPACE,
        lockKey(schema, 'migrate'),
      ])
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${q}`)
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${q}.mailcadence_migrations (version integer PRIMARY KEY, name text NOT NULL)`,
      )
      const rows = await tx.query<{ version: number }>(`SELECT version FROM ${q}.mailcadence_migrations`)
      const done = new Set(rows.map((r) => r.version))
      const pending = MIGRATIONS.filter((m) => !done.has(m.version))
      if (pending.length > 0) {
        // Migrations name their tables without a schema; the host's search_path is restored after.
        const [previous] = await tx.query<{ path: string }>(`SELECT current_setting('search_path') AS path`)
        await tx.query(`SELECT set_config('search_path', $1, true)`, [q])
        for (const migration of pending) {
          await tx.query(migration.sql)
          await tx.query(`INSERT INTO ${q}.mailcadence_migrations (version, name) VALUES ($1, $2)`, [
            migration.version,
            migration.name,
          ])
        }
        await tx.query(`SELECT set_config('search_path', $1, true)`, [previous?.path ?? ''])
      }
      const version = Math.max(0, ...done, ...pending.map((m) => m.version))
      return { schema, applied: pending.map((m) => m.version), version }
    }),
  )
}
