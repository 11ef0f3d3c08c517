/**
 * Lead window keys on PostgreSQL (issue #13, migration 005):
 * - `listWindowKeys` is a loose index scan: over 20,000 pending items in 3 keys it reads a few
 *   index entries per key (counted with EXPLAIN ANALYZE's rows and buffers, not timed);
 * - reservations, single and batched, take only items of the listed keys, pass the others over,
 *   and refuse with `window-closed` / `not-due` from the listed keys' facts;
 * - the key travels: lead → step 0 → the next step a `sent` completion enqueues; due counts per key;
 * - `addLeads` forgets the campaign's deferral in its own transaction.
 */
import type { NewCampaign, NewLead, ReserveRequest, Store } from '@mailcadence/core'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { windowKeysSql } from '../src/sql/reading.js'
import { reserveBatchSql, reserveBatchValues } from '../src/sql/reserve-batch.js'
import { tablesOf } from '../src/sql/schema.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('window keys')
const suite = ready ? describe : describe.skip

const T0 = new Date('2026-01-05T10:00:00Z')
const MINUTE = 60_000
const at = (minutes: number) => new Date(T0.getTime() + minutes * MINUTE)
const DAY = '2026-01-05'
const KEYS = ['Asia/Tokyo|JP', 'Europe/Warsaw|PL', 'America/New_York|US'] as const

function campaignInput(mailboxIds: string[]): NewCampaign {
  return {
    name: 'zones',
    timezone: 'UTC',
    startHour: 0,
    startMinute: 0,
    endHour: 24,
    endMinute: 0,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    jitter: 0,
    maxEmailsPerDay: 100_000,
    windowTimezone: 'lead',
    skipDates: [],
    mailboxIds,
    steps: [
      { subject: 'Hi', text: 'Hello' },
      { delayDays: 1, text: 'Again' },
    ],
    variables: [],
  }
}

function lead(email: string, windowKey: string): NewLead {
  const [timezone, country] = windowKey === '' ? [null, null] : windowKey.split('|')
  return {
    email,
    emailKey: email,
    firstName: null,
    lastName: null,
    company: null,
    variables: {},
    timezone: timezone ?? null,
    country: country ?? null,
    windowKey,
  }
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Shared Hit Blocks'?: number
  'Shared Read Blocks'?: number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)]

suite('window keys on PostgreSQL', () => {
  let pool: pg.Pool
  const schemas: string[] = []

  beforeAll(() => {
    pool = createTestPool(6)
  })
  afterAll(async () => {
    if (!pool) return
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  async function setup(label: string, limits = [1000, 1000]) {
    const schema = await freshSchema(pool, label, schemas)
    const store = createPostgresStore({ pool, schema })
    const boxes = []
    for (const [i, limit] of limits.entries()) {
      boxes.push(
        await store.createMailbox(
          { email: `m${i}@x.test`, name: null, dailyEmailLimit: limit, timezone: 'UTC', skipDates: [] },
          T0,
        ),
      )
    }
    const campaign = await store.createCampaign(campaignInput(boxes.map((b) => b.id)), T0)
    await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
    return { schema, store, boxes, campaign }
  }

  function request(
    campaignId: string,
    boxes: ReadonlyArray<{ id: string; dailyEmailLimit: number }>,
    n: number,
    windowKeys?: string[],
  ): ReserveRequest {
    return {
      campaignId,
      leaseToken: `lease-${n}`,
      leaseUntil: at(30),
      campaignDayKey: DAY,
      maxEmailsPerDay: 100_000,
      nextSlotAt: T0,
      mailboxes: boxes.map((b) => ({
        mailboxId: b.id,
        dayKey: DAY,
        dailyEmailLimit: b.dailyEmailLimit,
        messageId: `<${n}.${b.id}@x.test>`,
      })),
      ...(windowKeys === undefined ? {} : { windowKeys }),
    }
  }

  it('lists 3 keys of 20,000 pending items reading a few index entries per key', async () => {
    const { schema, store, campaign } = await setup('keys_scan')
    // 20 chunks a minute apart, chunk i in key i mod 3: key k's earliest item is at minute k.
    for (let chunk = 0; chunk < 20; chunk++) {
      const key = KEYS[chunk % 3]!
      const leads = Array.from({ length: 1000 }, (_, i) => lead(`l${chunk}-${i}@x.test`, key))
      const added = await store.addLeads(campaign.id, leads, at(chunk))
      expect(added.added).toHaveLength(1000)
    }
    await pool.query(`ANALYZE "${schema}".queue_items`)

    const listed = await store.listWindowKeys(campaign.id)
    expect(listed.sort((a, b) => a.nextAt.getTime() - b.nextAt.getTime())).toEqual(
      KEYS.map((windowKey, k) => ({ windowKey, nextAt: at(k) })),
    )

    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${windowKeysSql(tablesOf(schema))}`,
      [campaign.id],
    )
    const queue = nodes(rows[0]!['QUERY PLAN'][0]!.Plan).filter((n) => n['Relation Name'] === 'queue_items')
    expect(queue.length).toBeGreaterThan(0)
    for (const node of queue) {
      expect(node['Node Type']).toMatch(/Index/)
      expect(node['Index Name']).toBe('queue_items_pending_by_key')
    }
    // One row per key (and one probe that finds none), not 20,000.
    const rowsRead = queue.reduce((sum, n) => sum + (n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 1), 0)
    expect(rowsRead).toBeLessThanOrEqual(KEYS.length + 1)
    const blocks = queue.reduce(
      (sum, n) => sum + (n['Shared Hit Blocks'] ?? 0) + (n['Shared Read Blocks'] ?? 0),
      0,
    )
    // A handful of index pages (root, inner, leaf) and one heap page per probe; the index of
    // 20,000 entries alone spans well over 100 pages.
    console.info(`[adapter-postgres] listWindowKeys over 20,000 items: ${rowsRead} rows, ${blocks} buffers`)
    expect(blocks).toBeLessThan(40)
  })

  it('reserves only items of the listed keys, one request or a batch, and passes the others over', async () => {
    const { store, boxes, campaign } = await setup('keys_reserve')
    // The closed key's items are the oldest: they must not block the open key's.
    await store.addLeads(campaign.id, [lead('t1@x.test', KEYS[0]), lead('t2@x.test', KEYS[0])], at(-10))
    await store.addLeads(campaign.id, [lead('w1@x.test', KEYS[1]), lead('w2@x.test', KEYS[1])], at(-5))
    await store.addLeads(campaign.id, [lead('n1@x.test', KEYS[2])], at(20))

    const [one] = await store.reserveSends([request(campaign.id, boxes, 1, [KEYS[1]])], T0)
    expect(one).toMatchObject({
      ok: true,
      send: { item: { windowKey: KEYS[1] }, lead: { email: 'w1@x.test' } },
    })
    const batch = await store.reserveSends(
      [2, 3].map((n) => request(campaign.id, boxes, n, [KEYS[1], KEYS[2]])),
      T0,
    )
    expect(batch[0]).toMatchObject({ ok: true, send: { lead: { email: 'w2@x.test' } } })
    // Only the closed key's items are due, and the listed one's is not due yet.
    expect(batch[1]).toEqual({ ok: false, reason: 'not-due', until: at(20) })
    expect((await store.reserveSends([request(campaign.id, boxes, 4, [KEYS[1]])], T0))[0]).toEqual({
      ok: false,
      reason: 'window-closed',
    })
    expect((await store.reserveSends([request(campaign.id, boxes, 5, ['Nowhere|XX'])], T0))[0]).toEqual({
      ok: false,
      reason: 'window-closed',
    })
    // Without windowKeys, every key may leave: the oldest first.
    const [any] = await store.reserveSends([request(campaign.id, boxes, 6)], T0)
    expect(any).toMatchObject({ ok: true, send: { lead: { email: 't1@x.test' } } })
  })

  it('never scans the due items of a key not listed, however many', async () => {
    const { schema, store, boxes, campaign } = await setup('keys_asleep')
    // 5,000 first emails of a zone asleep, all due and older than the 1,000 of the zone awake.
    for (let chunk = 0; chunk < 5; chunk++) {
      const asleep = Array.from({ length: 1000 }, (_, i) => lead(`t${chunk}-${i}@x.test`, KEYS[0]))
      await store.addLeads(campaign.id, asleep, at(-60))
    }
    const awake = Array.from({ length: 1000 }, (_, i) => lead(`w${i}@x.test`, KEYS[1]))
    await store.addLeads(campaign.id, awake, at(-30))
    await pool.query(`ANALYZE "${schema}".queue_items`)
    // One reservation first: it creates the mailboxes' day counts, which the statement locks.
    const [first] = await store.reserveSends([request(campaign.id, boxes, 0, [KEYS[1]])], T0)
    expect(first).toMatchObject({ ok: true, send: { item: { windowKey: KEYS[1] } } })
    const requests = [1, 2, 3].map((n) => request(campaign.id, boxes, n, [KEYS[1]]))
    for (const batch of [requests.slice(0, 1), requests]) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${reserveBatchSql(tablesOf(schema))}`,
          reserveBatchValues(batch, T0),
        )
        const queue = nodes(rows[0]!['QUERY PLAN'][0]!.Plan).filter(
          (n) => n['Relation Name'] === 'queue_items',
        )
        const scanned = queue.reduce(
          (sum, n) =>
            sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1),
          0,
        )
        expect(scanned, `rows of queue_items read for a batch of ${batch.length}`).toBeLessThan(100)
        // It did reserve (inside the rolled back transaction): the heads were read.
        expect(queue.some((n) => n['Node Type'] === 'ModifyTable' && (n['Actual Rows'] ?? 0) > 0)).toBe(true)
      } finally {
        await client.query('ROLLBACK')
        client.release()
      }
    }
    const outcomes = await store.reserveSends(requests, T0)
    expect(outcomes.map((o) => o.ok && o.send.item.windowKey)).toEqual([KEYS[1], KEYS[1], KEYS[1]])
  })

  it('copies the key to the next step and counts due items per mailbox and key', async () => {
    const { store, boxes, campaign } = await setup('keys_follow')
    await store.addLeads(
      campaign.id,
      [lead('a@x.test', KEYS[0]), lead('b@x.test', ''), lead('c@x.test', KEYS[0])],
      T0,
    )
    expect(
      (await store.countDueByMailbox(campaign.id, T0)).sort((a, b) => a.windowKey.localeCompare(b.windowKey)),
    ).toEqual([
      { mailboxId: null, windowKey: '', count: 1 },
      { mailboxId: null, windowKey: KEYS[0], count: 2 },
    ])
    const [reserved] = await store.reserveSends([request(campaign.id, boxes, 1, [KEYS[0]])], T0)
    if (!reserved?.ok) throw new Error('expected a reservation')
    const { item } = reserved.send
    expect(
      await store.completeSends(
        [
          {
            kind: 'sent',
            itemId: item.id,
            leaseToken: item.leaseToken!,
            messageId: item.messageId!,
            subject: 'Hi',
            to: 'a@x.test',
            next: { step: 1, scheduledAt: at(60) },
          },
        ],
        T0,
      ),
    ).toEqual(['ok'])
    const next = (await store.listQueueItems(campaign.id)).find((i) => i.step === 1)
    expect(next).toMatchObject({ status: 'pending', windowKey: KEYS[0], mailboxId: item.mailboxId })
    expect(await store.getLead(campaign.id, 'a@x.test')).toMatchObject({
      timezone: 'Asia/Tokyo',
      country: 'JP',
    })
    expect(await store.getLead(campaign.id, 'b@x.test')).toMatchObject({ timezone: null, country: null })
  })

  it('imports a lead with its zone and key, on its sent history and its next step', async () => {
    const { store, boxes, campaign } = await setup('keys_import')
    const version = (await store.getCampaign(campaign.id))!.settingsVersion
    await deferCampaignsOf(store)([{ campaignId: campaign.id, until: at(600), settingsVersion: version }], T0)
    if (store.importLeads === undefined) throw new Error('the Postgres store imports leads')
    const outcome = await store.importLeads(
      campaign.id,
      [
        {
          ...lead('i@x.test', KEYS[1]),
          status: 'active',
          history: [
            { step: 0, sentAt: at(-60), mailboxId: boxes[0]!.id, messageId: '<i0@x>', subject: 'Hi' },
          ],
          next: {
            step: 1,
            scheduledAt: at(30),
            mailboxId: boxes[0]!.id,
            references: ['<i0@x>'],
            threadSubject: 'Hi',
          },
        },
      ],
      T0,
    )
    expect(outcome.imported).toMatchObject([{ timezone: 'Europe/Warsaw', country: 'PL' }])
    const items = await store.listQueueItems(campaign.id)
    expect(items.map((i) => [i.step, i.status, i.windowKey])).toEqual([
      [0, 'sent', KEYS[1]],
      [1, 'pending', KEYS[1]],
    ])
    // The import forgot the deferral: the campaign is listed again once its item is due.
    const listed = await store.listDueCampaigns!(T0, { dueBefore: at(31) })
    expect(listed.campaigns.map((c) => c.campaign.id)).toEqual([campaign.id])
  })

  it('forgets the deferral when leads are added', async () => {
    const { store, campaign } = await setup('keys_defer')
    await store.addLeads(campaign.id, [lead('a@x.test', KEYS[0])], T0)
    const version = (await store.getCampaign(campaign.id))!.settingsVersion
    await deferCampaignsOf(store)([{ campaignId: campaign.id, until: at(600), settingsVersion: version }], T0)
    expect((await store.listDueCampaigns!(T0, { dueBefore: at(1) })).campaigns).toEqual([])
    await store.addLeads(campaign.id, [lead('b@x.test', KEYS[1])], T0)
    const listed = await store.listDueCampaigns!(T0, { dueBefore: at(1) })
    expect(listed.campaigns.map((c) => c.campaign.id)).toEqual([campaign.id])
    // A call that adds nothing (a duplicate) keeps a deferral made since.
    await deferCampaignsOf(store)([{ campaignId: campaign.id, until: at(600), settingsVersion: version }], T0)
    await store.addLeads(campaign.id, [lead('b@x.test', KEYS[1])], T0)
    expect((await store.listDueCampaigns!(T0, { dueBefore: at(1) })).campaigns).toEqual([])
  })
})

function deferCampaignsOf(store: Store): NonNullable<Store['deferCampaigns']> {
  if (store.deferCampaigns === undefined) throw new Error('the Postgres store defers campaigns')
  return store.deferCampaigns.bind(store)
}
