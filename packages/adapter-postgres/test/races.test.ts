/**
 * The race suite of `@mailcadence/core/testing` on PostgreSQL: two stores, each on a pool of its
 * own (separate connections, as two processes would have), over one fresh schema per race. Then
 * the completion race the suite found, made deterministic with a lock held by hand.
 */
import { runStoreRaces } from '@mailcadence/core/conformance'
import { afterAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

if (await databaseAvailable('store races')) {
  const admin = createTestPool(4)
  const schemas: string[] = []
  afterAll(async () => {
    await dropSchemas(admin, schemas)
    await admin.end()
  })
  // MAILCADENCE_RACE_ROUNDS=200 runs each race longer, to measure how often a rare failure happens.
  const rounds = Number(process.env.MAILCADENCE_RACE_ROUNDS) || undefined
  runStoreRaces(
    'postgres',
    async () => {
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
    },
    { rounds, timeout: rounds ? rounds * 5_000 : undefined },
  )

  describe('completeIfDrained waiting for the campaign row', () => {
    it('reads the queue after the lock, so a lead added while it waited keeps the campaign running', async () => {
      const schema = await freshSchema(admin, 'drain', schemas)
      const store = createPostgresStore({ pool: admin, schema })
      const now = new Date('2026-01-05T08:00:00Z')
      const box = await store.createMailbox(
        { email: 'a@sender.test', name: 'A', dailyEmailLimit: 10, timezone: 'UTC', skipDates: [] },
        now,
      )
      const campaign = await store.createCampaign(
        {
          name: 'drained',
          timezone: 'UTC',
          startHour: 0,
          startMinute: 0,
          endHour: 24,
          endMinute: 0,
          allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
          delayBetweenEmails: 0,
          jitter: 0,
          maxEmailsPerDay: 10,
          mailboxIds: [box.id],
          steps: [{ subject: 'Hi', text: 'Hello' }],
          variables: [],
          windowTimezone: 'campaign',
          skipDates: [],
        },
        now,
      )
      await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, now)
      // Another connection adds a lead (as addLeads does) and holds the campaign's row (as a
      // startCampaign or a reservation would) while completeIfDrained starts: it has to wait.
      const holder = await admin.connect()
      try {
        await holder.query('BEGIN')
        const [lead] = (
          await holder.query(
            `INSERT INTO "${schema}".leads (campaign_id, email, email_key, variables, status, created_at, updated_at)
             VALUES ($1, 'late@example.com', 'late@example.com', '{}', 'active', $2, $2) RETURNING id`,
            [campaign.id, now],
          )
        ).rows
        await holder.query(
          `INSERT INTO "${schema}".queue_items (campaign_id, lead_id, step, status, scheduled_at, created_at, updated_at)
           VALUES ($1, $2, 0, 'pending', $3, $3, $3)`,
          [campaign.id, lead.id, now],
        )
        await holder.query(`SELECT 1 FROM "${schema}".campaigns WHERE id = $1 FOR NO KEY UPDATE`, [
          campaign.id,
        ])
        const completing = store.completeIfDrained(campaign.id, now)
        await new Promise((resolve) => setTimeout(resolve, 200)) // it is waiting for the row now
        await holder.query('COMMIT')
        expect(await completing).toBe(false)
      } finally {
        holder.release()
      }
      expect((await store.getCampaign(campaign.id))?.status).toBe('IN_PROGRESS')
      expect((await store.queueStats(campaign.id)).pending).toBe(1)
    })
  })
} else {
  it.skip('store races: postgres (no PostgreSQL server)', () => {})
}
