/**
 * Sent history must not slow the hot path. On a queue of 1,000,000 rows, mostly sent, the plans of
 * the statements every tick runs (reservation, set-based reservation and completion, runnable and
 * due campaigns, lease recovery) reach the queue
 * only through indexes: no sequential scan of `queue_items`.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { dueSql, runnableSql } from '../src/sql/campaigns.js'
import { completeSentBatchSql } from '../src/sql/complete-batch.js'
import { expiredSql } from '../src/sql/recover.js'
import { reserveBatchSql, reserveBatchValues } from '../src/sql/reserve-batch.js'
import { tablesOf } from '../src/sql/schema.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('query plans')
const suite = ready ? describe : describe.skip

const NOW = new Date('2026-01-05T10:00:00Z')
const CAMPAIGNS = 10
const LEADS = 100_000
const STEPS = 10

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

suite('query plans on a 1,000,000-row queue', () => {
  let pool: pg.Pool
  let schema: string
  let campaignIds: string[]
  let mailboxIds: string[]
  const schemas: string[] = []

  beforeAll(async () => {
    pool = createTestPool(3)
    schema = await freshSchema(pool, 'plans', schemas)
    const store = createPostgresStore({ pool, schema })
    mailboxIds = []
    for (let m = 0; m < 4; m++) {
      const box = await store.createMailbox(
        { email: `m${m}@x.test`, name: null, dailyEmailLimit: 1000, timezone: 'UTC', skipDates: [] },
        NOW,
      )
      mailboxIds.push(box.id)
    }
    campaignIds = []
    for (let c = 0; c < CAMPAIGNS; c++) {
      const campaign = await store.createCampaign(
        {
          name: `c${c}`,
          timezone: 'UTC',
          startHour: 0,
          startMinute: 0,
          endHour: 24,
          endMinute: 0,
          allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
          delayBetweenEmails: 0,
          jitter: 0,
          maxEmailsPerDay: 100_000,
          mailboxIds,
          steps: [{ subject: 's', text: 't' }],
          variables: [],
          windowTimezone: 'campaign',
          skipDates: [],
        },
        NOW,
      )
      await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, NOW)
      campaignIds.push(campaign.id)
    }
    const s = `"${schema}"`
    const started = performance.now()
    // One statement: 100,000 leads with ten steps each. Steps 0–8 are history (sent); the last step
    // is pending for one lead in ten, sending for one in a hundred, sent for the rest (spread over
    // every campaign: leads alternate campaigns, these pick runs of ten ids).
    await pool.query(
      `WITH c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ${s}.campaigns),
       l AS (
         INSERT INTO ${s}.leads (campaign_id, email, email_key, variables, status, created_at, updated_at)
         SELECT c.id, 'p' || g || '@x.test', 'p' || g || '@x.test', '{}', 'active', $1, $1
         FROM generate_series(1, $2::int) g JOIN c ON c.n = g % $3
         RETURNING id, campaign_id
       )
       INSERT INTO ${s}.queue_items
         (campaign_id, lead_id, step, status, scheduled_at, mailbox_id, message_id, sent_at,
          lease_token, lease_until, created_at, updated_at)
       SELECT l.campaign_id, l.id, st,
         CASE WHEN st < $4 - 1 THEN 'sent' WHEN (l.id / 10) % 100 = 1 THEN 'sending'
              WHEN (l.id / 10) % 10 = 0 THEN 'pending' ELSE 'sent' END,
         $1::timestamptz - make_interval(days => $4 - st) + make_interval(secs => l.id % 3600),
         (SELECT id FROM ${s}.mailboxes ORDER BY id LIMIT 1 OFFSET (l.id % 4)),
         '<' || l.id || '.' || st || '@x.test>', $1, 'lease-' || l.id, $1::timestamptz + interval '1 minute',
         $1, $1
       FROM l, generate_series(0, $4 - 1) st`,
      [NOW, LEADS, CAMPAIGNS, STEPS],
    )
    await pool.query(`ANALYZE ${s}.queue_items, ${s}.leads, ${s}.campaigns, ${s}.mailbox_day_counts`)
    console.info(
      `[adapter-postgres] plans: built ${LEADS * STEPS} queue rows in ${Math.round(performance.now() - started)} ms`,
    )
  })

  afterAll(async () => {
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  async function plan(sql: string, values: unknown[]): Promise<PlanNode[]> {
    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      values,
    )
    return nodes(rows[0]!['QUERY PLAN'][0]!.Plan)
  }

  function queueAccess(all: PlanNode[]): PlanNode[] {
    return all.filter((n) => n['Relation Name'] === 'queue_items')
  }

  it('holds the expected rows', async () => {
    const { rows } = await pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM "${schema}".queue_items GROUP BY 1 ORDER BY 1`,
    )
    expect(rows).toEqual([
      { status: 'pending', n: 10_000 },
      { status: 'sending', n: 1_000 },
      { status: 'sent', n: 989_000 },
    ])
  })

  it('reserves through the partial indexes of pending rows', async () => {
    const request = (windowKeys?: string[]) => ({
      campaignId: campaignIds[3]!,
      leaseToken: 'token',
      leaseUntil: new Date(NOW.getTime() + 300_000),
      campaignDayKey: '2026-01-05',
      maxEmailsPerDay: 100_000,
      nextSlotAt: NOW,
      mailboxes: mailboxIds.map((m) => ({
        mailboxId: m,
        dayKey: '2026-01-05',
        dailyEmailLimit: 1000,
        messageId: `<x.${m}@x.test>`,
      })),
      rotation: mailboxIds,
      ...(windowKeys === undefined ? {} : { windowKeys }),
    })
    // With window keys too, through the indexes of pending rows only. (Which of them a key's probe
    // takes depends on the statistics of the moment; window-keys.test.ts counts the rows it reads.)
    const keyed = queueAccess(
      await plan(reserveBatchSql(tablesOf(schema)), reserveBatchValues([request(['a', 'b'])], NOW)),
    )
    expect(keyed.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([])
    for (const node of keyed)
      expect(node['Index Name'] ?? 'queue_items_pkey').toMatch(/^queue_items_(pending|pkey)/)
    const values = reserveBatchValues([request()], NOW)
    const all = await plan(reserveBatchSql(tablesOf(schema)), values)
    const queue = queueAccess(all)
    expect(queue.length).toBeGreaterThan(0)
    expect(queue.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([])
    const indexes = new Set(queue.map((n) => n['Index Name']))
    expect(indexes).toContain('queue_items_pending_by_mailbox')
    expect(
      [...indexes].every(
        (i) => i === undefined || i.startsWith('queue_items_pending') || i === 'queue_items_pkey',
      ),
    ).toBe(true)

    // And it runs in milliseconds: reserve a few for real.
    const store = createPostgresStore({ pool, schema })
    const started = performance.now()
    for (let i = 0; i < 20; i++) {
      const [outcome] = await store.reserveSends(
        [
          {
            campaignId: campaignIds[i % CAMPAIGNS]!,
            leaseToken: `t${i}`,
            leaseUntil: new Date(NOW.getTime() + 300_000),
            campaignDayKey: '2026-01-05',
            maxEmailsPerDay: 100_000,
            nextSlotAt: NOW,
            mailboxes: mailboxIds.map((m) => ({
              mailboxId: m,
              dayKey: '2026-01-05',
              dailyEmailLimit: 1000,
              messageId: `<${i}.${m}@x.test>`,
            })),
          },
        ],
        NOW,
      )
      expect(outcome).toMatchObject({ ok: true })
    }
    const perReservation = (performance.now() - started) / 20
    console.info(`[adapter-postgres] plans: ${perReservation.toFixed(2)} ms per reservation on 1M rows`)
    expect(perReservation).toBeLessThan(100)
  })

  it('lists runnable campaigns through the partial indexes', async () => {
    for (const [sql, values] of [
      [runnableSql(tablesOf(schema), false), []],
      [runnableSql(tablesOf(schema), true), [campaignIds.slice(0, 3)]],
    ] as const) {
      const queue = queueAccess(await plan(sql, [...values]))
      expect(queue.length).toBeGreaterThan(0)
      expect(queue.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([])
      for (const node of queue) expect(node['Index Name']).toMatch(/^queue_items_(pending|sending)/)
    }
  })

  it('lists due campaigns through the partial indexes', async () => {
    for (const [sql, values] of [
      [dueSql(tablesOf(schema), false), [NOW]],
      [dueSql(tablesOf(schema), true), [NOW, campaignIds.slice(0, 3)]],
    ] as const) {
      const queue = queueAccess(await plan(sql, [...values]))
      expect(queue.length).toBeGreaterThan(0)
      expect(queue.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([])
      for (const node of queue) expect(node['Index Name']).toMatch(/^queue_items_(pending|sending)/)
    }
  })

  it('reserves and completes batches set-based through indexes only', async () => {
    const requests = campaignIds.slice(0, 4).flatMap((c) => [c, c])
    const candidates = requests.flatMap((_, pos) => mailboxIds.map((m, ord) => ({ pos, m, ord })))
    const reserveValues = [
      NOW,
      requests.map((_, pos) => pos),
      requests,
      requests.map(() => '2026-01-05'),
      requests.map(() => 100_000),
      requests.map(() => NOW),
      requests.map((_, i) => `batch-${i}`),
      requests.map(() => new Date(NOW.getTime() + 300_000)),
      candidates.map((c) => c.pos),
      candidates.map((c) => c.m),
      candidates.map(() => '2026-01-05'),
      candidates.map(() => 1000),
      candidates.map((c) => `<b${c.pos}.${c.m}@x.test>`),
      candidates.map((c) => c.ord),
      requests.map(() => mailboxIds.join(',')),
      requests.map(() => null),
    ]
    const reserving = queueAccess(await plan(reserveBatchSql(tablesOf(schema)), reserveValues))
    expect(reserving.length).toBeGreaterThan(0)
    expect(reserving.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([])
    // (The update of the picked items is a node on queue_items without an index of its own.)
    for (const node of reserving)
      expect(node['Index Name'] ?? 'queue_items_pkey').toMatch(/^queue_items_(pending|pkey)/)

    const completing = queueAccess(
      await plan(completeSentBatchSql(tablesOf(schema)), [
        NOW,
        ['1', '2'],
        ['t1', 't2'],
        ['<1@x>', '<2@x>'],
        ['s', 's'],
        ['a@x.test', 'b@x.test'],
        [1, null],
        [NOW, null],
        ['a', null],
      ]),
    )
    expect(completing.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([])
  })

  it('finds expired leases through the partial index of sending rows', async () => {
    const queue = queueAccess(await plan(expiredSql(tablesOf(schema)), [NOW]))
    expect(queue.map((n) => [n['Node Type'], n['Index Name']])).toEqual([
      ['Index Scan', 'queue_items_sending'],
    ])
  })
})
