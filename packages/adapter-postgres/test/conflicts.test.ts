/**
 * A store call that PostgreSQL aborts to break a deadlock runs again, whole, instead of failing:
 * workers close such cycles now and then (see CONFLICT_RETRIES in src/db.ts).
 */
import { createScheduler } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('conflict retries')
const suite = ready ? describe : describe.skip

suite('a transaction aborted by a deadlock', () => {
  let pool: pg.Pool
  const schemas: string[] = []

  beforeAll(() => {
    pool = createTestPool(4)
  })
  afterAll(async () => {
    if (!pool) return
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  it('runs again and succeeds, while the other side goes on', async () => {
    const schema = await freshSchema(pool, 'conflicts', schemas)
    const store = createPostgresStore({ pool, schema })
    const scheduler = createScheduler({
      store,
      transport: { send: async () => undefined },
      clock: createFakeClock(),
    })
    const box = await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 10 })
    for (const name of ['one', 'two']) {
      const campaign = await scheduler.createCampaign({
        name,
        maxEmailsPerDay: 10,
        mailboxIds: [box.id],
        steps: [{ subject: 'Hi', text: 'Hello' }],
      })
      await scheduler.addLeads(campaign.id, [{ email: 'x@example.com' }])
    }
    const s = `"${schema}"`
    const [first, second] = (await pool.query(`SELECT id FROM ${s}.leads ORDER BY id`)).rows.map((r) => r.id)

    // The other side holds the second lead; suppress() locks the first and waits for the second;
    // then the other side asks for the first: a cycle. suppress() waited first, so PostgreSQL's
    // check finds the cycle on its side and aborts it.
    const other = await pool.connect()
    try {
      await other.query('BEGIN')
      await other.query(`SELECT 1 FROM ${s}.leads WHERE id = $1 FOR UPDATE`, [second])
      const suppressed = store.suppress('x@example.com', 'test', new Date())
      await new Promise((resolve) => setTimeout(resolve, 200))
      await other.query(`SELECT 1 FROM ${s}.leads WHERE id = $1 FOR UPDATE`, [first])
      await other.query('COMMIT')
      expect(await suppressed).toEqual({ cancelled: 2 })
    } finally {
      other.release()
    }
    const { rows } = await pool.query(`SELECT status FROM ${s}.leads ORDER BY id`)
    expect(rows.map((r) => r.status)).toEqual(['suppressed', 'suppressed'])
  })
})
