import { readFileSync } from 'node:fs'
import { isMailcadenceError } from '@mailcadence/core'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createPostgresStore, migrate } from '../src/index.js'
import { MIGRATIONS } from '../src/sql/migrations/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, uniqueSchema } from './support/db.js'

const ready = await databaseAvailable('migrations')
const suite = ready ? describe : describe.skip

/** Every migration's version, oldest first, and the newest. */
const versions = MIGRATIONS.map((m) => m.version)
const latest = Math.max(...versions)

suite('migrate', () => {
  const pool = ready ? createTestPool(10) : (undefined as unknown as pg.Pool)
  const schemas: string[] = []
  afterAll(async () => {
    if (!ready) return
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  it('applies each migration once when several processes start together', async () => {
    const schema = uniqueSchema('mig')
    schemas.push(schema)
    // Separate pools: separate connections, as separate processes would have.
    const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 1 }))
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, { schema })))
      expect(results.flatMap((r) => r.applied)).toEqual(versions)
      expect(results.every((r) => r.version === latest && r.schema === schema)).toBe(true)
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
    const again = await migrate(pool, { schema })
    expect(again).toEqual({ schema, applied: [], version: latest })
    const { rows } = await pool.query(
      `SELECT version, name FROM "${schema}".mailcadence_migrations ORDER BY version`,
    )
    expect(rows).toEqual([
      { version: 1, name: '001_init' },
      { version: 2, name: '002_import' },
      { version: 3, name: '003_next_due' },
      { version: 4, name: '004_settings_version' },
      { version: 5, name: '005_window_keys' },
      { version: 6, name: '006_inbox' },
      { version: 7, name: '007_variants' },
      { version: 8, name: '008_limits' },
    ])
  })

  it('brings a schema of the first release up to date, keeping its rows and their due times', async () => {
    const schema = uniqueSchema('upg')
    schemas.push(schema)
    // The schema as 001 left it, with one campaign in it.
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`CREATE SCHEMA "${schema}"`)
      await client.query(
        `CREATE TABLE "${schema}".mailcadence_migrations (version integer PRIMARY KEY, name text NOT NULL)`,
      )
      await client.query(`SET LOCAL search_path TO "${schema}"`)
      await client.query(MIGRATIONS[0]!.sql)
      await client.query(`INSERT INTO mailcadence_migrations VALUES (1, '001_init')`)
      await client.query(
        `INSERT INTO campaigns (name, status, mailbox_ids, steps, variables, timezone, start_hour, start_minute,
           end_hour, end_minute, allowed_days, delay_between_emails, jitter, max_emails_per_day, created_at, updated_at)
         VALUES ('old', 'DRAFT', '{}', '[]', '{}', 'UTC', 9, 0, 17, 0, 'MON', 60, 0.2, 10, $1, $1),
                ('running', 'IN_PROGRESS', '{}', '[{"subject":"s","text":"t"}]', '{}', 'UTC', 0, 0, 24, 0,
                 'MON,TUE,WED,THU,FRI,SAT,SUN', 0, 0, 10, $1, $1)`,
        [new Date('2025-01-06T09:00:00Z')],
      )
      await client.query(
        `INSERT INTO mailboxes (email, daily_email_limit, timezone, created_at, updated_at)
         VALUES ('old@sender.test', 40, 'UTC', $1, $1)`,
        [new Date('2025-01-06T09:00:00Z')],
      )
      // The running campaign has one item pending, due at 10:00.
      await client.query(
        `WITH l AS (
           INSERT INTO leads (campaign_id, email, email_key, variables, status, created_at, updated_at)
           SELECT id, 'a@x.test', 'a@x.test', '{}', 'active', $1, $1 FROM campaigns WHERE name = 'running'
           RETURNING id, campaign_id)
         INSERT INTO queue_items (campaign_id, lead_id, step, status, scheduled_at, created_at, updated_at)
         SELECT campaign_id, id, 0, 'pending', $2, $1, $1 FROM l`,
        [new Date('2025-01-06T09:00:00Z'), new Date('2025-01-06T10:00:00Z')],
      )
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    expect(await migrate(pool, { schema })).toEqual({ schema, applied: versions.slice(1), version: latest })
    const store = createPostgresStore({ pool, schema })
    const [old] = (await pool.query(`SELECT id::text AS id FROM "${schema}".campaigns WHERE name = 'old'`))
      .rows
    // 005's defaults mean "as before": the campaign's clock, no skip date, no lead zone, key ''.
    expect(await store.getCampaign(old.id)).toMatchObject({
      name: 'old',
      externalId: null,
      windowTimezone: 'campaign',
      skipDates: [],
      // 006's default: a reply stops the replier only.
      stopOnReply: 'lead',
      // 008's defaults: no recipient-domain limit, no provider matching.
      recipientDomainLimit: null,
      providerMatching: 'off',
    })
    // 008's defaults for a mailbox: no hourly limit, no ramp, provider unknown, no warm-up progress.
    expect(await store.listMailboxes!()).toMatchObject([
      {
        email: 'old@sender.test',
        dailyEmailLimit: 40,
        skipDates: [],
        hourlyLimit: null,
        rampUp: null,
        rampLevel: 0,
        rampDayKey: null,
        provider: null,
      },
    ])
    const [running] = (
      await pool.query(`SELECT id::text AS id FROM "${schema}".campaigns WHERE name = 'running'`)
    ).rows
    expect(await store.listQueueItems(running.id)).toMatchObject([{ status: 'pending', windowKey: '' }])
    expect(await store.listLeads(running.id)).toMatchObject([{ timezone: null, country: null }])
    expect(await store.listWindowKeys(running.id)).toEqual([
      { windowKey: '', nextAt: new Date('2025-01-06T10:00:00Z') },
    ])
    // 003 computed the running campaign's due time from its queue: listed at 10:00, not before.
    const before = await store.listDueCampaigns!(new Date(), { dueBefore: new Date('2025-01-06T09:59:59Z') })
    expect(before).toEqual({ campaigns: [], laterAt: new Date('2025-01-06T10:00:00Z') })
    const at = await store.listDueCampaigns!(new Date(), { dueBefore: new Date('2025-01-06T10:00:00Z') })
    expect(at.campaigns.map((r) => r.campaign.name)).toEqual(['running'])
  })

  it('upgrades a schema whose send-log index was built first with the README statement', async () => {
    const schema = uniqueSchema('fixmig_conc')
    schemas.push(schema)
    // The schema as 005 left it.
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`CREATE SCHEMA "${schema}"`)
      await client.query(
        `CREATE TABLE "${schema}".mailcadence_migrations (version integer PRIMARY KEY, name text NOT NULL)`,
      )
      await client.query(`SET LOCAL search_path TO "${schema}"`)
      for (const m of MIGRATIONS.filter((m) => m.version <= 5)) {
        await client.query(m.sql)
        await client.query('INSERT INTO mailcadence_migrations VALUES ($1, $2)', [m.version, m.name])
      }
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    // What the README tells the owner of a big send log to run before upgrading, word for word.
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const statement = /^CREATE INDEX CONCURRENTLY IF NOT EXISTS .*;$/m.exec(readme)![0]
    await pool.query(statement.replaceAll('<schema>', `"${schema}"`))
    expect(await migrate(pool, { schema })).toEqual({ schema, applied: [6, 7, 8], version: latest })
    const indexes = await pool.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'send_log' AND indexdef LIKE '%(message_id)'`,
      [schema],
    )
    expect(indexes.rows).toEqual([{ indexname: 'send_log_message_id' }])
  })

  it('leaves the search_path of a host connection as it was', async () => {
    const schema = uniqueSchema('path')
    schemas.push(schema)
    const client = new pg.Client({ connectionString: DATABASE_URL })
    await client.connect()
    try {
      const before = (await client.query('SHOW search_path')).rows[0].search_path
      await migrate(client, { schema })
      expect((await client.query('SHOW search_path')).rows[0].search_path).toBe(before)
    } finally {
      await client.end()
    }
  })

  it('refuses a schema name that is not a plain identifier, before touching the database', async () => {
    for (const schema of ['bad-name', '1abc', 'a"b', '', 'x'.repeat(64), 'public; DROP TABLE x']) {
      const error = await migrate(pool, { schema }).catch((e: unknown) => e)
      expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
      expect(() => createPostgresStore({ pool, schema })).toThrow(/schema/)
    }
  })

  it('says to run migrate() when the schema is missing', async () => {
    const store = createPostgresStore({ pool, schema: uniqueSchema('missing') })
    const error = await store.getCampaign('1').catch((e: unknown) => e)
    expect(isMailcadenceError(error, 'store-misconfigured')).toBe(true)
    expect((error as Error).message).toMatch(/migrate\(pool, \{ schema \}\)/)
  })
})

describe('connection failures', () => {
  it('are store-unavailable, and the message carries no credentials', async () => {
    const unreachable = new pg.Pool({
      connectionString: 'postgres://someone:s3cret-password@127.0.0.1:1/nowhere',
      connectionTimeoutMillis: 2000,
    })
    try {
      const store = createPostgresStore({ pool: unreachable, schema: 'mailcadence' })
      const error = await store.recoverExpiredLeases(new Date(), 'fail').catch((e: unknown) => e)
      expect(isMailcadenceError(error, 'store-unavailable')).toBe(true)
      const text = `${(error as Error).message} ${String((error as Error).cause)}`
      expect(text).not.toMatch(/s3cret|someone|nowhere/)
      const migrateError = await migrate(unreachable).catch((e: unknown) => e)
      expect(isMailcadenceError(migrateError, 'store-unavailable')).toBe(true)
    } finally {
      await unreachable.end()
    }
  })
})
