/**
 * The store on a single `pg.Client` (calls are serialized on it) and inside the host's own
 * transaction (each store call becomes a savepoint; the host's rollback undoes everything).
 */
import { createScheduler } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('pg.Client and host transactions')
const suite = ready ? describe : describe.skip

suite('a Client instead of a Pool', () => {
  let pool: pg.Pool
  let client: pg.Client
  let schema: string
  const schemas: string[] = []

  beforeAll(async () => {
    pool = createTestPool(2)
    schema = await freshSchema(pool, 'client', schemas)
    client = new pg.Client({ connectionString: DATABASE_URL })
    await client.connect()
  })

  afterAll(async () => {
    await client?.end()
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  async function seed(store: ReturnType<typeof createPostgresStore>) {
    const transport = createRecordingTransport()
    const scheduler = createScheduler({ store, transport, clock: createFakeClock(), lookahead: 0 })
    const box = await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 50 })
    const campaign = await scheduler.createCampaign({
      name: 'client',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      maxEmailsPerDay: 50,
      mailboxIds: [box.id],
      steps: [{ subject: 'Hi', text: 'Hello' }],
    })
    await scheduler.addLeads(campaign.id, [{ email: 'x@example.com' }, { email: 'y@example.com' }])
    await scheduler.startCampaign(campaign.id)
    return { scheduler, transport, campaign }
  }

  it('serializes concurrent calls on one client', async () => {
    const store = createPostgresStore({ pool: client, schema })
    const { scheduler, transport, campaign } = await seed(store)
    await Promise.all([
      scheduler.tick(),
      scheduler.tick(),
      scheduler.tick(),
      scheduler.queueStats(campaign.id),
    ])
    await scheduler.tick()
    expect(transport.sent).toHaveLength(2)
    expect(await scheduler.queueStats(campaign.id)).toMatchObject({ sent: 2, pending: 0, sending: 0 })
  })

  it('joins the host transaction: the host rolls everything back', async () => {
    const store = createPostgresStore({ pool: client, schema })
    const before = (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".campaigns`)).rows[0].n
    await client.query('BEGIN')
    try {
      const { scheduler, transport, campaign } = await seed(store)
      await scheduler.stopCampaign(campaign.id) // a store transaction: a savepoint here
      expect((await scheduler.getCampaign(campaign.id)).status).toBe('CANCELLED')
      expect(transport.sent).toHaveLength(0)
      // Still inside the host's transaction: nothing is visible to other connections.
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".campaigns`)).rows[0].n).toBe(
        before,
      )
    } finally {
      await client.query('ROLLBACK')
    }
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".campaigns`)).rows[0].n).toBe(before)
  })
})
