/**
 * The stores a benchmark runs against. Each backend makes fresh, empty stores and cleans up what
 * it made. Database backends can also seed sent history straight in SQL, since building a million
 * rows through the scheduler would measure the seeding, not the tick.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createPostgresStore, migrate } from '@mailcadence/adapter-postgres'
import { createSqliteStore } from '@mailcadence/adapter-sqlite'
import type { Store } from '@mailcadence/core'
import Database from 'better-sqlite3'
import pg from 'pg'
import { DATABASE_URL, dropSchema, schemaName } from './postgres.js'
import { migratePrismaSchema, openPrismaStore } from './prisma.js'

export interface Backend {
  name: string
  /** Connection details for worker processes, when several processes can share one store. */
  shared?: { kind: 'postgres' | 'prisma' | 'sqlite'; schemaOf(store: Store): string }
  /** Emails per throughput run when not the section's default (a slow store, measured on fewer). */
  emailsPerRun?: { quick: number; full: number }
  createStore(): Promise<Store>
  /**
   * Inserts `count` sent emails of one finished campaign, directly; absent when the backend can
   * only build history through the scheduler.
   */
  seedHistory?(store: Store, count: number, mailboxIds: string[]): Promise<void>
  /**
   * Brings the planner's statistics up to date after a bulk load, as autovacuum would within a
   * minute or two: measured right after thousands of campaigns appear, a database still planning
   * with the statistics of an empty table would measure that minute, not the steady state.
   */
  analyze?(store: Store): Promise<void>
  dispose(): Promise<void>
}

export function memoryBackend(): Backend {
  return { name: 'memory', createStore: async () => createMemoryStore(), dispose: async () => {} }
}

export function postgresBackend(): Backend {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 })
  const schemas = new Map<Store, string>()
  return {
    name: 'postgres',
    shared: { kind: 'postgres', schemaOf: (store) => schemas.get(store)! },
    async createStore() {
      const schema = schemaName('bench_mc')
      await migrate(pool, { schema })
      const store = createPostgresStore({ pool, schema })
      schemas.set(store, schema)
      return store
    },
    async seedHistory(store, count, mailboxIds) {
      const s = `"${schemas.get(store)}"`
      const now = new Date('2026-01-01T00:00:00Z')
      await pool.query(
        `WITH c AS (
           INSERT INTO ${s}.campaigns (name, status, timezone, start_hour, start_minute, end_hour, end_minute,
             allowed_days, delay_between_emails, jitter, max_emails_per_day, mailbox_ids, steps, variables,
             created_at, updated_at)
           VALUES ('History', 'COMPLETED', 'UTC', 0, 0, 24, 0, 'MON,TUE,WED,THU,FRI,SAT,SUN', 0, 0, 1000000,
             $3::text[], '[{"subject":"s","text":"t"}]', '{}', $1, $1)
           RETURNING id),
         l AS (
           INSERT INTO ${s}.leads (campaign_id, email, email_key, variables, status, created_at, updated_at)
           SELECT c.id, 'past' || g || '@example.com', 'past' || g || '@example.com', '{}', 'completed', $1, $1
           FROM generate_series(1, $2::int) g, c
           RETURNING id, campaign_id)
         INSERT INTO ${s}.queue_items (campaign_id, lead_id, step, status, scheduled_at, mailbox_id, message_id,
           sent_at, created_at, updated_at)
         SELECT l.campaign_id, l.id, 0, 'sent', $1, ($3::text[])[1 + l.id % cardinality($3::text[])]::bigint,
           '<' || l.id || '@acme.test>', $1, $1, $1
         FROM l`,
        [now, count, mailboxIds],
      )
      await pool.query(`ANALYZE ${s}.queue_items, ${s}.leads, ${s}.campaigns`)
    },
    async analyze(store) {
      await pool.query(`ANALYZE "${schemas.get(store)}".campaigns, "${schemas.get(store)}".queue_items`)
    },
    async dispose() {
      for (const schema of schemas.values()) await dropSchema(schema)
      schemas.clear()
      await pool.end()
    },
  }
}

/** `@mailcadence/adapter-prisma` on PostgreSQL through `@prisma/adapter-pg`, one schema per store. */
export function prismaBackend(): Backend {
  const opened = new Map<Store, { schema: string; close(): Promise<void> }>()
  return {
    name: 'prisma (PostgreSQL, @prisma/adapter-pg)',
    // About 150 emails/s: 20,000 per run would take over two minutes a run.
    emailsPerRun: { quick: 200, full: 2_000 },
    shared: { kind: 'prisma', schemaOf: (store) => opened.get(store)!.schema },
    async createStore() {
      const schema = schemaName('bench_prisma')
      await migratePrismaSchema(schema)
      const { store, close } = await openPrismaStore(schema, 20)
      opened.set(store, { schema, close })
      return store
    },
    async dispose() {
      for (const { schema, close } of opened.values()) {
        await close()
        await dropSchema(schema)
      }
      opened.clear()
    },
  }
}

/**
 * `@mailcadence/adapter-sqlite` on a fresh file per store in a temporary directory (its default
 * `synchronous: 'full'`, so every commit reaches the disk). Worker processes open the same file.
 */
export function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'mailcadence-bench-sqlite-'))
  const files = new Map<Store, string>()
  return {
    name: 'sqlite',
    shared: { kind: 'sqlite', schemaOf: (store) => files.get(store)! },
    async createStore() {
      const filename = join(dir, `store-${files.size + 1}.db`)
      const store = createSqliteStore({ filename })
      files.set(store, filename)
      return store
    },
    async seedHistory(store, count, mailboxIds) {
      // Straight into the file through a second connection, in one transaction.
      const db = new Database(files.get(store)!)
      const now = new Date('2026-01-01T00:00:00Z').getTime()
      try {
        db.exec('BEGIN IMMEDIATE')
        const { lastInsertRowid: campaignId } = db
          .prepare(
            `INSERT INTO mailcadence_campaigns (name, status, timezone, start_hour, start_minute, end_hour, end_minute,
               allowed_days, window_timezone, delay_between_emails, jitter, max_emails_per_day, mailbox_ids, steps,
               variables, created_at, updated_at)
             VALUES ('History', 'COMPLETED', 'UTC', 0, 0, 24, 0, 'MON,TUE,WED,THU,FRI,SAT,SUN', 'campaign', 0, 0,
               1000000, ?, '[{"subject":"s","text":"t"}]', '[]', ?, ?)`,
          )
          .run(JSON.stringify(mailboxIds), now, now)
        db.prepare(
          `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
           INSERT INTO mailcadence_leads (campaign_id, email, email_key, variables, status, created_at, updated_at)
           SELECT ?, 'past' || n || '@example.com', 'past' || n || '@example.com', '{}', 'completed', ?, ? FROM g`,
        ).run(count, campaignId, now, now)
        db.prepare(
          `INSERT INTO mailcadence_queue_items (campaign_id, lead_id, step, status, scheduled_at, mailbox_id, message_id,
             sent_at, created_at, updated_at)
           SELECT campaign_id, id, 0, 'sent', ?, json_extract(?, '$[' || (id % CAST(? AS INTEGER)) || ']'), '<' || id || '@acme.test>',
             ?, ?, ? FROM mailcadence_leads WHERE campaign_id = ?`,
        ).run(now, JSON.stringify(mailboxIds), mailboxIds.length, now, now, now, campaignId)
        db.exec('COMMIT')
      } finally {
        db.close()
      }
    },
    async dispose() {
      for (const store of files.keys()) await store.close()
      files.clear()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
