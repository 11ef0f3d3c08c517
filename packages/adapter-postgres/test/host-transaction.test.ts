/**
 * Inside the host's own transaction: a host runs BEGIN on a client of its pool, writes its own rows,
 * creates, fills and starts a campaign through a store on that client (`createPostgresStore({
 * client })`), and its COMMIT or ROLLBACK decides for everything at once. Meanwhile a scheduler on
 * the pool ticks: it never sees what is not committed, and never waits longer than the host's
 * transaction lasts.
 */
import { type CampaignInput, createScheduler, type Scheduler } from '@mailcadence/core'
import { createRecordingTransport } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('host transactions')
const suite = ready ? describe : describe.skip

/** Longest a tick may take here: far more than it needs, far less than "forever". */
const TICK_BOUND_MS = 15_000

/** `work`, or a rejection once `ms` have passed. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still running after ${ms} ms`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

suite("inside the host's own transaction", () => {
  let pool: pg.Pool
  let schema: string
  let s: string
  let ticker: Scheduler
  let transport: ReturnType<typeof createRecordingTransport>
  let mailboxId: string
  const schemas: string[] = []
  let campaigns = 0

  beforeAll(async () => {
    pool = createTestPool(4)
    schema = await freshSchema(pool, 'hosttx', schemas)
    s = `"${schema}"`
    // The host's own table, beside the store's.
    await pool.query(`CREATE TABLE ${s}.signups (email text PRIMARY KEY)`)
    transport = createRecordingTransport()
    ticker = createScheduler({
      store: createPostgresStore({ pool, schema }),
      transport,
      lookahead: 0,
      maxSendsPerCampaignPerTick: 10,
    })
    mailboxId = (await ticker.createMailbox({ email: 'sales@sender.test', dailyEmailLimit: 1000 })).id
  })

  afterAll(async () => {
    await ticker?.close()
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  const campaignInput = (): CampaignInput => ({
    name: `host ${++campaigns}`,
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    maxEmailsPerDay: 1000,
    mailboxIds: [mailboxId],
    steps: [{ subject: 'Welcome', text: 'Hello' }],
  })

  /** What the host does: BEGIN on its client, its work, then `end` (or ROLLBACK when it throws). */
  async function hostTransaction<T>(
    end: 'COMMIT' | 'ROLLBACK',
    work: (tx: Scheduler, client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await pool.connect()
    const tx = createScheduler({
      store: createPostgresStore({ client, schema }),
      transport: createRecordingTransport(),
    })
    try {
      await client.query('BEGIN')
      const result = await work(tx, client)
      await client.query(end)
      return result
    } catch (error) {
      await client.query('ROLLBACK')
      throw error
    } finally {
      // tx is not closed: close() would close its transport, shared in a real host.
      client.release()
    }
  }

  const count = async (from: string, where = 'true', values: unknown[] = []) =>
    (await pool.query(`SELECT count(*)::int AS n FROM ${s}.${from} WHERE ${where}`, values)).rows[0]
      .n as number
  const sentTo = (email: string) => transport.sent.filter((m) => m.to === email).length
  const signup = (client: pg.PoolClient, email: string) =>
    client.query(`INSERT INTO ${s}.signups (email) VALUES ($1)`, [email])

  /**
   * A running campaign committed on the pool. Its follow-up, days later, keeps it running once its
   * first emails have left (a drained campaign completes, and new leads would wait for a restart).
   */
  async function runningCampaign(...emails: string[]) {
    const campaign = await ticker.createCampaign({
      ...campaignInput(),
      steps: [
        { subject: 'Welcome', text: 'Hello' },
        { delayDays: 3, text: 'Still there?' },
      ],
    })
    await ticker.addLeads(
      campaign.id,
      emails.map((email) => ({ email })),
    )
    await ticker.startCampaign(campaign.id)
    return campaign
  }

  it("commits the host's row, the campaign and its leads together; a tick meanwhile sees none of them", async () => {
    const campaign = await hostTransaction('COMMIT', async (tx, client) => {
      await signup(client, 'ann@host.test')
      const created = await tx.createCampaign(campaignInput())
      expect(
        await tx.addLeads(created.id, [{ email: 'ann@lead.test' }, { email: 'bob@lead.test' }]),
      ).toMatchObject({ added: 2 })
      expect((await tx.startCampaign(created.id)).status).toBe('IN_PROGRESS')
      // Before the commit, the pool sees nothing of it, and a tick neither waits nor sends.
      expect(await count('signups')).toBe(0)
      await expect(ticker.getCampaign(created.id)).rejects.toMatchObject({ code: 'not-found' })
      expect(await count('queue_items', 'campaign_id = $1', [created.id])).toBe(0)
      await within(TICK_BOUND_MS, 'a tick during the transaction', ticker.tick())
      expect(sentTo('ann@lead.test') + sentTo('bob@lead.test')).toBe(0)
      return created
    })
    expect(await count('signups', "email = 'ann@host.test'")).toBe(1)
    expect((await ticker.getCampaign(campaign.id)).status).toBe('IN_PROGRESS')
    expect(await ticker.queueStats(campaign.id)).toMatchObject({ pending: 2, sending: 0, sent: 0 })
    await ticker.tick()
    expect([sentTo('ann@lead.test'), sentTo('bob@lead.test')]).toEqual([1, 1])
  })

  it("rolls back the host's row, the campaign and its leads together, leaving nothing in the queue", async () => {
    const before = {
      campaigns: await count('campaigns'),
      leads: await count('leads'),
      items: await count('queue_items'),
    }
    let campaignId = ''
    await hostTransaction('ROLLBACK', async (tx, client) => {
      await signup(client, 'cy@host.test')
      campaignId = (await tx.createCampaign(campaignInput())).id
      await tx.addLeads(campaignId, [{ email: 'cy@lead.test' }])
      await tx.startCampaign(campaignId)
      expect(await tx.queueStats(campaignId)).toMatchObject({ pending: 1 })
    })
    expect(await count('signups', "email = 'cy@host.test'")).toBe(0)
    await expect(ticker.getCampaign(campaignId)).rejects.toMatchObject({ code: 'not-found' })
    expect({
      campaigns: await count('campaigns'),
      leads: await count('leads'),
      items: await count('queue_items'),
    }).toEqual(before)
    await ticker.tick()
    expect(sentTo('cy@lead.test')).toBe(0)
  })

  it('adds leads to a running campaign: committed with the host, or rolled back without a trace', async () => {
    const campaign = await runningCampaign('first@lead.test')
    await ticker.tick()
    expect(sentTo('first@lead.test')).toBe(1)
    const items = await count('queue_items', 'campaign_id = $1', [campaign.id])

    await hostTransaction('ROLLBACK', async (tx, client) => {
      await signup(client, 'dee@host.test')
      expect(await tx.addLeads(campaign.id, [{ email: 'dropped@lead.test' }])).toMatchObject({ added: 1 })
    })
    expect(await count('queue_items', 'campaign_id = $1', [campaign.id])).toBe(items)
    expect(await count('leads', "email = 'dropped@lead.test'")).toBe(0)

    await hostTransaction('COMMIT', async (tx, client) => {
      await signup(client, 'dee@host.test')
      expect(await tx.addLeads(campaign.id, [{ email: 'kept@lead.test' }])).toMatchObject({ added: 1 })
      // The campaign has nothing else due: a tick meanwhile does not wait for the host's lock.
      await within(TICK_BOUND_MS, 'a tick during the transaction', ticker.tick())
      expect(sentTo('kept@lead.test')).toBe(0)
    })
    await ticker.tick()
    expect([sentTo('dropped@lead.test'), sentTo('kept@lead.test')]).toEqual([0, 1])
    expect(await count('signups', "email = 'dee@host.test'")).toBe(1)
  })

  it("a tick that needs the campaign's row goes on once the host commits (it never waits forever)", async () => {
    // A lead committed and due before the host's transaction: the tick must reserve this campaign,
    // whose row the host's intake holds until it commits.
    const campaign = await runningCampaign('due@lead.test')
    let tick: Promise<unknown> | undefined
    await hostTransaction('COMMIT', async (tx) => {
      await tx.addLeads(campaign.id, [{ email: 'late@lead.test' }])
      tick = ticker.tick()
      await new Promise((resolve) => setTimeout(resolve, 300))
    })
    await within(TICK_BOUND_MS, "a tick after the host's commit", tick!)
    await ticker.tick()
    expect([sentTo('due@lead.test'), sentTo('late@lead.test')]).toEqual([1, 1])
    expect(await count('send_log', 'campaign_id = $1', [campaign.id])).toBe(2)
  })

  it("an error inside the host's transaction rolls everything back", async () => {
    const before = { campaigns: await count('campaigns'), items: await count('queue_items') }
    // A mailcadence error (adding leads to a stopped campaign), the host rolls back.
    await expect(
      hostTransaction('COMMIT', async (tx, client) => {
        await signup(client, 'eve@host.test')
        const created = await tx.createCampaign(campaignInput())
        await tx.addLeads(created.id, [{ email: 'eve@lead.test' }])
        await tx.startCampaign(created.id)
        await tx.stopCampaign(created.id)
        await tx.addLeads(created.id, [{ email: 'eve2@lead.test' }])
      }),
    ).rejects.toMatchObject({ code: 'invalid-state' })
    // The host's own statement fails after the store's work (a duplicate signup).
    await expect(
      hostTransaction('COMMIT', async (tx, client) => {
        await signup(client, 'fay@host.test')
        const created = await tx.createCampaign(campaignInput())
        await tx.addLeads(created.id, [{ email: 'fay@lead.test' }])
        await tx.startCampaign(created.id)
        await signup(client, 'fay@host.test')
      }),
    ).rejects.toMatchObject({ code: '23505' })
    expect(await count('signups', "email IN ('eve@host.test', 'fay@host.test')")).toBe(0)
    expect({ campaigns: await count('campaigns'), items: await count('queue_items') }).toEqual(before)
    await ticker.tick()
    expect(sentTo('eve@lead.test') + sentTo('fay@lead.test')).toBe(0)
  })

  it("refuses to tick inside the host's transaction, which stays usable", async () => {
    await hostTransaction('ROLLBACK', async (tx, client) => {
      await expect(tx.tick()).rejects.toMatchObject({ code: 'store-misconfigured' })
      await signup(client, 'gus@host.test')
      expect(await count('signups', "email = 'gus@host.test'")).toBe(0)
    })
  })
})
