/**
 * The store's writers never deadlock each other. Several pools reserve batches over overlapping
 * campaigns and shared mailboxes at once, then tick (reservations, completions with refunds,
 * recovery, intake, replies, pauses) as workers of one schema do; every statement PostgreSQL
 * aborted with `deadlock detected` (40P01) is counted on the connections themselves, so a deadlock
 * the store retried away still counts. The lock order every writer follows is in the README
 * ("Running several workers"). Before completion batches took their mailbox counts up front, the
 * ticking test saw about 15 deadlocks per run (refunds against set-based reservations).
 */
import { randomUUID } from 'node:crypto'
import { createScheduler, type ReserveRequest, type Store } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('deadlocks')
const suite = ready ? describe : describe.skip

const T0 = new Date('2026-01-05T08:00:00Z') // a Monday
const DAY_KEY = '2026-01-05'
const POOLS = 6
const CAMPAIGNS = 8
const MAILBOXES = 4
const LEADS = 400
const ROUNDS = 40

/** A pool whose connections count the statements PostgreSQL aborted to break a deadlock. */
function countingPool(counter: { deadlocks: number }, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max })
  const patched = new WeakSet<object>()
  pool.on('connect', (client) => {
    if (patched.has(client)) return
    patched.add(client)
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>
    ;(client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args) => {
      try {
        return await query(...args)
      } catch (error) {
        if ((error as { code?: unknown }).code === '40P01') counter.deadlocks++
        throw error
      }
    }
  })
  return pool
}

suite('reservations over overlapping campaigns', () => {
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

  it('never deadlock, batch against batch, from several pools', { timeout: 120_000 }, async () => {
    const schema = await freshSchema(pool, 'deadlock', schemas)
    const clock = createFakeClock(T0)
    const setup = createScheduler({
      store: createPostgresStore({ pool, schema }),
      transport: { send: async () => undefined },
      clock,
    })
    const boxes: string[] = []
    for (let m = 0; m < MAILBOXES; m++) {
      boxes.push((await setup.createMailbox({ email: `box${m}@sender.test`, dailyEmailLimit: 1_000_000 })).id)
    }
    const campaigns: Array<{ id: string; boxes: string[] }> = []
    for (let c = 0; c < CAMPAIGNS; c++) {
      const own = [boxes[c % MAILBOXES]!, boxes[(c + 1) % MAILBOXES]!]
      const created = await setup.createCampaign({
        name: `c${c}`,
        startHour: 0,
        endHour: 24,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        maxEmailsPerDay: 1_000_000,
        mailboxIds: own,
        steps: [{ subject: 'Hi', text: 'Hello' }],
      })
      await setup.addLeads(
        created.id,
        Array.from({ length: LEADS }, (_, i) => ({ email: `c${c}-l${i}@example.com` })),
      )
      await setup.startCampaign(created.id)
      campaigns.push({ id: created.id, boxes: own })
    }
    await setup.close()

    const counter = { deadlocks: 0 }
    const pools = Array.from({ length: POOLS }, () => countingPool(counter, 3))
    const stores: Store[] = pools.map((p) => createPostgresStore({ pool: p, schema }))
    const now = clock.now()
    const request = (campaign: { id: string; boxes: string[] }, seed: number): ReserveRequest => ({
      campaignId: campaign.id,
      leaseToken: randomUUID(),
      leaseUntil: new Date(now.getTime() + 300_000),
      campaignDayKey: DAY_KEY,
      maxEmailsPerDay: 1_000_000,
      nextSlotAt: now,
      // Each worker offers the mailboxes in its own order, as rotation makes them.
      mailboxes: (seed % 2 === 0 ? campaign.boxes : [...campaign.boxes].reverse()).map((mailboxId) => ({
        mailboxId,
        dayKey: DAY_KEY,
        dailyEmailLimit: 1_000_000,
        messageId: `<${randomUUID()}@sender.test>`,
      })),
    })
    let reserved = 0
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const outcomes = await Promise.all(
          stores.map((store, w) => {
            // Every worker takes every campaign, in an order of its own, two requests each.
            const order = campaigns.map((_, i) => campaigns[(i * (w + 1) + round) % CAMPAIGNS]!)
            const unique = [...new Map(order.map((c) => [c.id, c])).values()]
            return store.reserveSends(
              unique.flatMap((c) => [request(c, w + round), request(c, w + round)]),
              now,
            )
          }),
        )
        for (const list of outcomes) reserved += list.filter((o) => o.ok).length
      }
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
    console.info(`[adapter-postgres] deadlocks: ${counter.deadlocks} in ${reserved} reservations`)
    expect(reserved).toBeGreaterThan(0)
    expect(counter.deadlocks).toBe(0)
  })

  it('never deadlock, tick against tick, from several pools', { timeout: 120_000 }, async () => {
    const schema = await freshSchema(pool, 'deadlock_ticks', schemas)
    const clock = createFakeClock(T0)
    const setup = createScheduler({
      store: createPostgresStore({ pool, schema }),
      transport: { send: async () => undefined },
      clock,
    })
    const boxes: string[] = []
    for (let m = 0; m < 5; m++)
      boxes.push((await setup.createMailbox({ email: `rep${m}@sender.test`, dailyEmailLimit: 400 })).id)
    for (let c = 0; c < 10; c++) {
      const created = await setup.createCampaign({
        name: `t${c}`,
        startHour: 0,
        endHour: 24,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        maxEmailsPerDay: 150,
        mailboxIds: boxes,
        steps: [
          { subject: 'Hi', text: 'one' },
          { delayDays: 0, text: 'two' },
        ],
      })
      await setup.addLeads(
        created.id,
        Array.from({ length: 100 }, (_, i) => ({ email: `t${c}-${i}@example.com` })),
      )
      await setup.startCampaign(created.id)
    }
    await setup.close()
    const counter = { deadlocks: 0 }
    const pools = Array.from({ length: POOLS }, () => countingPool(counter, 3))
    let n = 0
    const schedulers = pools.map((p) =>
      createScheduler({
        store: createPostgresStore({ pool: p, schema }),
        transport: {
          send: async () => {
            // Every fifth send fails softly: its item retries, and the reservation's counts are refunded.
            if (++n % 5 === 0) throw Object.assign(new Error('later'), { responseCode: 451 })
            return undefined
          },
        },
        clock,
        lookahead: 0,
        maxSendsPerCampaignPerTick: 5,
        concurrency: 10,
        leaseRecovery: 'retry',
        lease: 60_000,
      }),
    )
    let sent = 0
    try {
      const ids = (await pool.query(`SELECT id::text FROM "${schema}".campaigns ORDER BY id`)).rows.map(
        (r) => r.id as string,
      )
      let leadNo = 0
      for (let round = 0; round < 60; round++) {
        const results = await Promise.all(
          schedulers.map(async (s, i) => {
            const id = ids[(round * 7 + i * 3) % ids.length]!
            const roll = (round * 31 + i * 17) % 10
            if (roll === 0)
              await s.addLeads(id, [
                { email: `x${leadNo++}@example.com` },
                { email: `x${leadNo++}@example.com` },
              ])
            else if (roll === 1) await s.markReplied(id, `t${i}-${round}@example.com`)
            else if (roll === 2) await s.pauseCampaign(id).catch(() => {})
            else if (roll === 3) await s.resumeCampaign(id).catch(() => {})
            else if (roll === 4) await s.updateCampaign(id, { maxEmailsPerDay: 150 + round })
            return s.tick()
          }),
        )
        for (const r of results) sent += r.sent
        if (round % 10 === 5) {
          await pool.query(
            `UPDATE "${schema}".queue_items SET status = 'sending', lease_token = 'dead', lease_until = $1
             WHERE id IN (SELECT id FROM "${schema}".queue_items WHERE status = 'pending' ORDER BY id LIMIT 10)`,
            [clock.now()],
          )
        }
        clock.advance(60_000)
      }
    } finally {
      await Promise.all(schedulers.map((s) => s.close()))
      await Promise.all(pools.map((p) => p.end()))
    }
    console.info(`[adapter-postgres] tick deadlocks: ${counter.deadlocks} in ${sent} sends`)
    expect(counter.deadlocks).toBe(0)
  })
})
