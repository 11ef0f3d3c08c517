/**
 * The dashboard's campaign pages on 10,000 campaigns: keyset pages by status answer quickly on any
 * page, and read `campaigns` through an index on id, not by a sequential scan.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('campaign listing')
const suite = ready ? describe : describe.skip
const NOW = new Date('2026-01-05T10:00:00Z')

suite('listCampaigns on 10,000 campaigns', () => {
  let pool: pg.Pool
  let schema: string
  const schemas: string[] = []

  beforeAll(async () => {
    pool = createTestPool(3)
    schema = await freshSchema(pool, 'listing', schemas)
    const store = createPostgresStore({ pool, schema })
    const box = await store.createMailbox(
      { email: 'm@x.test', name: null, dailyEmailLimit: 10, timezone: 'UTC', skipDates: [] },
      NOW,
    )
    const first = await store.createCampaign(
      {
        name: 'c0',
        timezone: 'UTC',
        startHour: 9,
        startMinute: 0,
        endHour: 17,
        endMinute: 0,
        allowedDays: 'MON,TUE,WED,THU,FRI',
        delayBetweenEmails: 60,
        jitter: 0.2,
        maxEmailsPerDay: 100,
        mailboxIds: [box.id],
        steps: [{ subject: 's', text: 't' }],
        variables: [],
        windowTimezone: 'campaign',
        skipDates: [],
      },
      NOW,
    )
    // 9,999 copies of the first campaign's row, one in four running, in one statement.
    const { rows } = await pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'campaigns' AND column_name NOT IN ('id', 'name', 'status')
         AND is_generated = 'NEVER'`,
      [schema],
    )
    const cols = rows.map((r) => `"${r.column_name}"`).join(', ')
    await pool.query(
      `INSERT INTO "${schema}".campaigns (name, status, ${cols})
       SELECT 'c' || n, CASE WHEN n % 4 = 0 THEN 'IN_PROGRESS' ELSE 'DRAFT' END, ${cols}
       FROM "${schema}".campaigns, generate_series(1, 9999) AS n WHERE id = $1`,
      [first.id],
    )
    await pool.query(`ANALYZE "${schema}".campaigns`)
  })

  afterAll(async () => {
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  it('pages by status through an index on id, the last page as fast as the first', async () => {
    const store = createPostgresStore({ pool, schema })
    const page1 = await store.listCampaigns!({ status: 'IN_PROGRESS', limit: 50 })
    expect(page1.map((c) => c.name).slice(0, 3)).toEqual(['c4', 'c8', 'c12'])
    let seen = page1.length
    let after = page1[49]!.id
    let slowest = 0
    for (;;) {
      const started = performance.now()
      const page = await store.listCampaigns!({ status: 'IN_PROGRESS', after, limit: 50 })
      slowest = Math.max(slowest, performance.now() - started)
      expect(page.every((c) => c.status === 'IN_PROGRESS')).toBe(true)
      seen += page.length
      if (page.length < 50) break
      after = page[49]!.id
    }
    expect(seen).toBe(2499) // c4, c8, …, c9996
    expect(slowest).toBeLessThan(500)

    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id FROM "${schema}".campaigns c
       WHERE c.id > $1::bigint AND ($2::text IS NULL OR c.status = $2) ORDER BY c.id LIMIT $3`,
      [after, 'IN_PROGRESS', 51],
    )
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
    // campaigns_in_progress (a partial index on id) for running ones, the primary key otherwise.
    expect(plan).toMatch(/Index (Only )?Scan using campaigns_(pkey|in_progress)/)
    expect(plan).not.toMatch(/Seq Scan/)
  })
})
