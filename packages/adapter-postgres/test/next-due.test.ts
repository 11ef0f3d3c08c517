/**
 * `campaigns.next_due_at` (migration 003): a lower bound of each campaign's earliest pending item,
 * which lets `listDueCampaigns` skip every campaign not due. Proven here:
 * - an idle listing never reads the queue, however many campaigns run;
 * - through every writer of the queue (intake, reservation, sent and failed completions, retries,
 *   replies, suppression, pause, stop, lease recovery), from several pools at once, the bound never
 *   runs ahead of the queue, and the listing returns exactly the campaigns the queue says are due;
 * - raising a stale bound never waits for a lock, and an item made pending while a raise holds the
 *   campaign lowers the bound again after it.
 */
import { createScheduler, type Scheduler, type Store } from '@mailcadence/core'
import { createFakeClock, createSeededRandom } from '@mailcadence/core/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { dueSql } from '../src/sql/campaigns.js'
import { tablesOf } from '../src/sql/schema.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('next due bound')
const suite = ready ? describe : describe.skip

const T0 = new Date('2026-01-05T08:00:00Z') // a Monday
const MINUTE = 60_000
const HOUR = 60 * MINUTE

const open = (mailboxIds: string[], name: string, steps = 1) => ({
  name,
  startHour: 0,
  endHour: 24,
  allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
  delayBetweenEmails: 0,
  maxEmailsPerDay: 100_000,
  mailboxIds,
  steps: [
    { subject: 'Hi', text: 'Hello' },
    ...Array.from({ length: steps - 1 }, (_, i) => ({ delayDays: i + 1, text: `Follow-up ${i + 1}` })),
  ],
})

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Actual Loops'?: number
  Plans?: PlanNode[]
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)]

suite('next_due_at, the bound listDueCampaigns reads', () => {
  let pool: pg.Pool
  const schemas: string[] = []

  beforeAll(() => {
    pool = createTestPool(12)
  })
  afterAll(async () => {
    if (!pool) return
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  /** Campaigns whose bound runs ahead of their queue (must be none), with both sides. */
  async function boundsAhead(schema: string) {
    const { rows } = await pool.query(
      `SELECT c.id::text AS id, c.next_due_at, p.earliest FROM "${schema}".campaigns c
       JOIN LATERAL (SELECT min(q.scheduled_at) AS earliest FROM "${schema}".queue_items q
                     WHERE q.campaign_id = c.id AND q.status = 'pending') p ON true
       WHERE p.earliest IS NOT NULL AND (c.next_due_at IS NULL OR c.next_due_at > p.earliest)`,
    )
    return rows
  }

  /** The running campaigns the queue itself says are due before `dueBefore`. */
  async function dueByQueue(schema: string, dueBefore: Date): Promise<string[]> {
    const { rows } = await pool.query(
      `SELECT c.id::text AS id FROM "${schema}".campaigns c
       WHERE c.status = 'IN_PROGRESS' AND (
         EXISTS (SELECT 1 FROM "${schema}".queue_items q
                 WHERE q.campaign_id = c.id AND q.status = 'pending' AND q.scheduled_at <= $1)
         OR NOT EXISTS (SELECT 1 FROM "${schema}".queue_items q
                        WHERE q.campaign_id = c.id AND q.status IN ('pending', 'sending')))
       ORDER BY c.id`,
      [dueBefore],
    )
    return rows.map((r) => r.id)
  }

  it('an idle listing reads no queue row, however many campaigns run', async () => {
    const schema = await freshSchema(pool, 'due_idle', schemas)
    const store = createPostgresStore({ pool, schema })
    const clock = createFakeClock(T0)
    const scheduler = createScheduler({
      store,
      transport: { send: async () => undefined },
      clock,
      lookahead: 0,
    })
    const box = await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 100_000 })
    for (let i = 0; i < 300; i++) {
      const campaign = await scheduler.createCampaign(open([box.id], `c${i}`, 2))
      await scheduler.addLeads(campaign.id, [{ email: `l${i}@example.com` }])
      await scheduler.startCampaign(campaign.id)
    }
    expect((await scheduler.tick()).sent).toBe(300) // each follow-up is now due tomorrow
    await scheduler.tick() // raises the bounds the reservations left behind
    await pool.query(`ANALYZE "${schema}".campaigns, "${schema}".queue_items`)

    const explained = await pool.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${dueSql(tablesOf(schema), false)}`.replace(
        /\$1/g,
        `'${clock.now().toISOString()}'::timestamptz`,
      ),
    )
    const plan = explained.rows[0]['QUERY PLAN'][0].Plan as PlanNode
    const queueReads = nodes(plan).filter((n) => n['Relation Name'] === 'queue_items')
    expect(queueReads.length).toBeGreaterThan(0)
    for (const node of queueReads) expect(node['Actual Loops']).toBe(0)

    const listed = await store.listDueCampaigns!(clock.now(), { dueBefore: clock.now() })
    expect(listed).toEqual({ campaigns: [], laterAt: new Date(T0.getTime() + 24 * HOUR) })
    await scheduler.close()
  })

  it('never runs ahead of the queue, through every writer and four pools at once', async () => {
    const schema = await freshSchema(pool, 'due_writers', schemas)
    const clock = createFakeClock(T0)
    const random = createSeededRandom(7)
    let failing = false
    const transport = {
      async send() {
        // A share of sends fail softly (retried later: the item goes back to pending) or hard.
        if (failing && random() < 0.3)
          throw Object.assign(new Error('try later'), { responseCode: random() < 0.7 ? 451 : 550 })
        return undefined
      },
    }
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 3 }))
    const stores: Store[] = pools.map((p) => createPostgresStore({ pool: p, schema }))
    const schedulers: Scheduler[] = stores.map((store) =>
      createScheduler({
        store,
        transport,
        clock,
        random,
        lookahead: 0,
        lease: 5 * MINUTE,
        leaseRecovery: 'retry',
        concurrency: 4,
        maxSendsPerCampaignPerTick: 20,
        // A third of the sends fail here on purpose, hard ones included: guards would (rightly)
        // pause the mailbox, which is not what this test is about.
        guards: false,
      }),
    )
    try {
      const [first] = schedulers as [Scheduler]
      const box = await first.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 100_000 })
      const campaigns: string[] = []
      for (let i = 0; i < 6; i++) {
        const campaign = await first.createCampaign(open([box.id], `w${i}`, 3))
        campaigns.push(campaign.id)
      }
      let leadNo = 0
      const addSome = (s: Scheduler, id: string) =>
        s.addLeads(
          id,
          Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({ email: `p${leadNo++}@example.com` })),
        )
      for (const id of campaigns) await addSome(first, id)
      for (const id of campaigns.slice(0, 5)) await first.startCampaign(id)

      let live = campaigns // not stopped: they take leads
      for (let round = 0; round < 60; round++) {
        failing = round % 3 !== 0
        const pick = (from = campaigns) => from[Math.floor(random() * from.length)]!
        // Ticks from every pool at once, with intake and the other writers in between.
        await Promise.all(
          schedulers.map(async (s, i) => {
            const roll = random()
            if (roll < 0.25) await addSome(s, pick(live))
            else if (roll < 0.3) await s.markReplied(pick(), `p${Math.floor(random() * leadNo)}@example.com`)
            else if (roll < 0.33) await s.suppress(`p${Math.floor(random() * leadNo)}@example.com`, 'test')
            else if (roll < 0.37) await s.pauseCampaign(pick()).catch(() => {})
            else if (roll < 0.43) await s.resumeCampaign(pick()).catch(() => {})
            else if (roll < 0.44 && i === 0) {
              const id = pick(live)
              live = live.filter((c) => c !== id)
              await s.stopCampaign(id).catch(() => {})
            }
            await s.tick()
          }),
        )
        if (round % 10 === 5) {
          // A process died mid-send: its items stay `sending` past their lease, and recovery revives them.
          await pool.query(
            `UPDATE "${schema}".queue_items SET status = 'sending', lease_token = 'dead', lease_until = $1
             WHERE id IN (SELECT id FROM "${schema}".queue_items WHERE status = 'pending' ORDER BY id LIMIT 3)`,
            [clock.now()],
          )
        }
        expect(await boundsAhead(schema)).toEqual([])
        const dueBefore = clock.now()
        const listed = await stores[round % 4]!.listDueCampaigns!(dueBefore, { dueBefore })
        expect(listed.campaigns.map((r) => r.campaign.id)).toEqual(await dueByQueue(schema, dueBefore))
        clock.advance(random() < 0.2 ? 13 * HOUR : 7 * MINUTE)
      }
      // Everything still pending is eventually sent or ended: nothing is stuck behind a stale bound.
      failing = false
      for (const id of campaigns) await first.resumeCampaign(id).catch(() => {})
      for (let day = 0; day < 10; day++) {
        await Promise.all(schedulers.map((s) => s.tick()))
        clock.advance(24 * HOUR)
      }
      const { rows } = await pool.query(
        `SELECT count(*)::int AS open FROM "${schema}".queue_items q
         JOIN "${schema}".campaigns c ON c.id = q.campaign_id
         WHERE q.status IN ('pending', 'sending') AND c.status = 'IN_PROGRESS'`,
      )
      expect(rows[0].open).toBe(0)
      expect(await boundsAhead(schema)).toEqual([])
    } finally {
      await Promise.all(schedulers.map((s) => s.close()))
      await Promise.all(pools.map((p) => p.end()))
    }
  }, 120_000)

  it('a raise skips a campaign another transaction holds, which lowers the bound itself', async () => {
    const schema = await freshSchema(pool, 'due_locks', schemas)
    const store = createPostgresStore({ pool, schema })
    const clock = createFakeClock(T0)
    const scheduler = createScheduler({ store, transport: { send: async () => undefined }, clock })
    const box = await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 100 })
    const campaign = await scheduler.createCampaign(open([box.id], 'locks'))
    await scheduler.startCampaign(campaign.id)
    await scheduler.addLeads(campaign.id, [{ email: 'early@example.com' }]) // due 08:00
    clock.advance(4 * HOUR)
    await scheduler.addLeads(campaign.id, [{ email: 'late@example.com' }]) // due 12:00
    await scheduler.close()
    const s = `"${schema}"`
    // The 08:00 item is sent: the bound stays at 08:00, behind the queue's earliest (12:00).
    await pool.query(
      `UPDATE ${s}.queue_items SET status = 'sent', sent_at = $2
       WHERE lead_id = (SELECT id FROM ${s}.leads WHERE email = 'early@example.com') AND campaign_id = $1`,
      [campaign.id, T0],
    )
    const bound = async () =>
      (await pool.query(`SELECT next_due_at FROM ${s}.campaigns WHERE id = $1`, [campaign.id])).rows[0]
        .next_due_at
    expect(await bound()).toEqual(T0)

    const at10 = new Date(T0.getTime() + 2 * HOUR)
    const at11 = new Date(T0.getTime() + 3 * HOUR)
    const at12 = new Date(T0.getTime() + 4 * HOUR)
    const holder = await pool.connect()
    try {
      // Another transaction holds the campaign row: the raise skips it, without waiting.
      await holder.query('BEGIN')
      await holder.query(`SELECT 1 FROM ${s}.campaigns WHERE id = $1 FOR NO KEY UPDATE`, [campaign.id])
      expect(await store.listDueCampaigns!(at10, { dueBefore: at10 })).toEqual({
        campaigns: [],
        laterAt: at12,
      })
      expect(await bound()).toEqual(T0)
      await holder.query('COMMIT')
      expect(await store.listDueCampaigns!(at10, { dueBefore: at10 })).toEqual({
        campaigns: [],
        laterAt: at12,
      })
      expect(await bound()).toEqual(at12)

      // A raise in progress holds the row (here inside the host's transaction on its own client);
      // an item made pending meanwhile (due 11:00, after the old bound) waits for it, then lowers
      // the bound below what the raise, which could not see that item, wrote.
      await pool.query(`UPDATE ${s}.campaigns SET next_due_at = $2 WHERE id = $1`, [campaign.id, T0])
      const raiser = new pg.Client({ connectionString: DATABASE_URL })
      await raiser.connect()
      try {
        await raiser.query('BEGIN')
        const inHostTransaction = createPostgresStore({ pool: raiser, schema })
        await inHostTransaction.listDueCampaigns!(at10, { dueBefore: at10 })
        const writer = await pool.connect()
        try {
          await writer.query('BEGIN')
          const inserted = writer.query(
            `WITH l AS (
               INSERT INTO ${s}.leads (campaign_id, email, email_key, variables, status, created_at, updated_at)
               VALUES ($1, 'mid@example.com', 'mid@example.com', '{}', 'active', $2, $2) RETURNING id)
             INSERT INTO ${s}.queue_items (campaign_id, lead_id, step, status, scheduled_at, created_at, updated_at)
             SELECT $1, l.id, 0, 'pending', $3, $2, $2 FROM l`,
            [campaign.id, T0, at11],
          )
          await new Promise((resolve) => setTimeout(resolve, 200))
          await raiser.query('COMMIT')
          await inserted
          await writer.query('COMMIT')
        } finally {
          writer.release()
        }
      } finally {
        await raiser.end()
      }
      expect(await bound()).toEqual(at11)
      const listed = await store.listDueCampaigns!(at11, { dueBefore: at11 })
      expect(listed.campaigns.map((r) => r.nextItemAt)).toEqual([at11])
    } finally {
      holder.release()
    }
  })
})
