/**
 * What the conformance suite does not reach: the adapter's own contract with the host (its
 * client, its provider, ids it never issued, errors, retries, the clock) on SQLite, and a lost
 * connection through the PostgreSQL driver adapter (no server needed for that).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createScheduler, isMailcadenceError, type ReserveRequest, type Store } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPrismaStore, type MailcadenceModels, type PrismaClientLike } from '../src/index.js'
import { clientClass, createTestDatabase, type TestDatabase } from './support/clients.js'

const NOW = new Date('2031-02-03T04:05:06.789Z')

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase('sqlite')
})
afterAll(() => db.drop())
beforeEach(() => db.reset())

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('createPrismaStore', () => {
  it('refuses what is not a Prisma Client with the mailcadence models', () => {
    for (const bad of [null, {}, { $transaction: () => {} }]) {
      let error: unknown
      try {
        createPrismaStore(bad as unknown as PrismaClientLike)
      } catch (e) {
        error = e
      }
      expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
    }
  })

  it('refuses an unsupported provider and bad options', () => {
    expect(() => createPrismaStore(db.prisma, { provider: 'sqlserver' as never })).toThrow(/provider/)
    expect(() => createPrismaStore(db.prisma, { maxAttempts: 0 })).toThrow(/maxAttempts/)
  })

  it('reads the provider from the client, or asks the database when the client hides it', async () => {
    const hidden = new Proxy(db.prisma, {
      get: (target, key) => (key === '_activeProvider' ? undefined : Reflect.get(target, key)),
    })
    const store = createPrismaStore(hidden)
    const box = await store.createMailbox(
      { email: 'a@b.test', name: null, dailyEmailLimit: 5, timezone: 'UTC', skipDates: [] },
      NOW,
    )
    expect(await store.getMailboxes([box.id])).toHaveLength(1)
  })

  it('treats ids it never issued as unknown, never as errors', async () => {
    const store = createPrismaStore(db.prisma)
    expect(await store.getCampaign('nope')).toBeNull()
    expect(await store.getCampaign('999')).toBeNull()
    expect(await store.getMailboxes(['x', '-1', '0', '1.5'])).toEqual([])
    expect(await store.updateMailbox('x', { name: 'n' }, NOW)).toBeNull()
    expect(await store.updateCampaign('x', { name: 'n' }, NOW)).toBeNull()
    expect(await store.setCampaignStatus('12', { from: ['DRAFT'], to: 'IN_PROGRESS' }, NOW)).toBeNull()
    expect(await store.getLead('x', 'a@b.test')).toBeNull()
    expect(await store.stopLead('x', 'a@b.test', 'replied', 'r', NOW)).toBeNull()
    expect(
      await store.completeSends(
        [{ kind: 'failed', itemId: 'x', leaseToken: 't', error: 'e', attempts: 1 }],
        NOW,
      ),
    ).toEqual(['lease-lost'])
    expect(await store.listQueueItems('x')).toEqual([])
    expect(await store.queueStats('x')).toMatchObject({ pending: 0, sent: 0, nextScheduledAt: null })
    const error = await rejection(store.addLeads('77', [], NOW))
    expect(isMailcadenceError(error, 'not-found')).toBe(true)
    expect(await store.reserveSends([{ campaignId: 'x' } as never], NOW)).toEqual([
      { ok: false, reason: 'not-running' },
    ])
  })

  it('adds a big import in several transactions, as one call', async () => {
    const store = createPrismaStore(db.prisma)
    const { campaignId } = await reserveOne(store)
    await store.suppress('gone@example.com', 'unsubscribed', NOW)
    const lead = (email: string) => ({
      email,
      emailKey: email,
      firstName: null,
      lastName: null,
      company: null,
      variables: {},
      timezone: null,
      country: null,
      windowKey: '',
    })
    const input = Array.from({ length: 4500 }, (_, i) => lead(`bulk${i}@example.com`))
    input.splice(1999, 0, lead('gone@example.com')) // last of the first transaction…
    input.splice(2500, 0, lead('gone@example.com'), lead('bulk7@example.com')) // …and again in the second
    const outcome = await store.addLeads(campaignId, input, NOW)
    expect(outcome.added).toHaveLength(4500)
    expect(outcome.suppressed).toEqual(['gone@example.com'])
    expect(outcome.duplicates).toBe(2)
    expect(outcome.added.map((l) => l.email)).toEqual(
      input.map((l) => l.email).filter((e, i, all) => e !== 'gone@example.com' && all.indexOf(e) === i),
    )
    expect((await store.queueStats(campaignId)).pending).toBe(4500)
  })

  it('leaves the host client open on close()', async () => {
    const store = createPrismaStore(db.prisma)
    await store.close()
    expect(await store.getCampaign('1')).toBeNull()
  })
})

describe('time', () => {
  it('stores only instants core passed in, never the clock of the machine', async () => {
    const clock = createFakeClock(NOW)
    const scheduler = createScheduler({
      store: createPrismaStore(db.prisma),
      transport: createRecordingTransport(),
      clock,
      lookahead: 0,
    })
    const box = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10 })
    const campaign = await scheduler.createCampaign({
      name: 'Time',
      mailboxIds: [box.id],
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 60,
      jitter: 0,
      steps: [
        { subject: 'Hi', text: 'a' },
        { delayDays: 1, text: 'b' },
      ],
    })
    await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com' }])
    await scheduler.startCampaign(campaign.id)
    expect((await scheduler.tick()).sent).toBe(1)
    const rows = await db.query<Record<string, unknown>>(
      'SELECT created_at, updated_at, scheduled_at, sent_at, lease_until FROM mailcadence_queue_items',
    )
    const stamps = rows.flatMap((r) => Object.values(r)).filter((v) => v !== null)
    const allowed = [NOW.getTime(), NOW.getTime() + 86_400_000]
    for (const stamp of stamps) expect(allowed).toContain(Date.parse(String(stamp)))
    const [campaignRow] = await db.query<{ next_slot_at: string }>(
      'SELECT next_slot_at FROM mailcadence_campaigns',
    )
    expect(Date.parse(campaignRow!.next_slot_at)).toBe(NOW.getTime() + 60_000)
  })

  it('has no clock reads in its sources', () => {
    const dir = new URL('../src/', import.meta.url)
    for (const file of readdirSync(dir)) {
      const code = readFileSync(new URL(file, dir), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code, file).not.toMatch(/new Date\(\s*\)|Date\.now\(|performance\.now\(|\bnow\(\)/i)
    }
  })
})

describe('errors and retries', () => {
  /** The client, with `$transaction` failing as told before it runs for real. */
  function flaky(failures: unknown[]): PrismaClientLike {
    const prisma = db.prisma
    return new Proxy(prisma, {
      get(target, key) {
        if (key !== '$transaction') return Reflect.get(target, key)
        return (fn: (tx: MailcadenceModels) => Promise<unknown>, options?: object) => {
          const failure = failures.shift()
          if (failure !== undefined) return Promise.reject(failure)
          return prisma.$transaction(fn, options)
        }
      },
    })
  }
  const conflict = Object.assign(new Error('Transaction failed due to a write conflict or a deadlock'), {
    name: 'PrismaClientKnownRequestError',
    code: 'P2034',
  })

  it('runs a transaction again when the database rolled it back for a conflict or a deadlock', async () => {
    const store = createPrismaStore(flaky([conflict, conflict]))
    const box = await store.createMailbox(
      { email: 'a@b.test', name: null, dailyEmailLimit: 5, timezone: 'UTC', skipDates: [] },
      NOW,
    )
    expect(box.email).toBe('a@b.test')
  })

  it('gives up after maxAttempts with store-unavailable, keeping the cause', async () => {
    const store = createPrismaStore(flaky([conflict, conflict, conflict]), { maxAttempts: 3 })
    const error = await rejection(
      store.createMailbox(
        { email: 'a@b.test', name: null, dailyEmailLimit: 5, timezone: 'UTC', skipDates: [] },
        NOW,
      ),
    )
    expect(isMailcadenceError(error, 'store-unavailable')).toBe(true)
    expect((error as Error).message).toContain('P2034')
    expect((error as Error).cause).toBe(conflict)
  })

  it('keeps the reservations of a batch that succeeded when another request fails', async () => {
    const lost = Object.assign(new Error('Server has closed the connection.'), { code: 'P1017' })
    const setup = createPrismaStore(db.prisma)
    const one = await prepare(setup, 'one')
    const two = await prepare(setup, 'two')
    const store = createPrismaStore(flaky([undefined, lost]))
    const [first, second] = await store.reserveSends([one.request, two.request], NOW)
    expect(first).toMatchObject({ ok: true })
    expect(second).toMatchObject({ ok: false, reason: 'store-unavailable' })
    expect(isMailcadenceError((second as { error: unknown }).error, 'store-unavailable')).toBe(true)
    expect((await setup.listQueueItems(two.campaignId))[0]).toMatchObject({ status: 'pending' })
    // When none succeeds, the call fails.
    const error = await rejection(createPrismaStore(flaky([lost])).reserveSends([two.request], NOW))
    expect(isMailcadenceError(error, 'store-unavailable')).toBe(true)
  })

  it('reports a unique key broken in the send log as store-conflict, and changes nothing', async () => {
    const store = createPrismaStore(db.prisma)
    const { itemId, leaseToken, campaignId, leadId } = await reserveOne(store)
    await db.query(
      `INSERT INTO mailcadence_send_log (campaign_id, lead_id, step, mailbox_id, message_id, to_email, subject, sent_at) VALUES (${campaignId}, ${leadId}, 0, 1, '<x@y>', 'jan@example.com', 'Hi', '2031-02-03T04:05:06.789+00:00') RETURNING id`,
    )
    const error = await rejection(
      store.completeSends(
        [
          {
            kind: 'sent',
            itemId,
            leaseToken,
            messageId: '<m@acme.test>',
            subject: 'Hi',
            to: 'jan@example.com',
          },
        ],
        NOW,
      ),
    )
    expect(isMailcadenceError(error, 'store-conflict')).toBe(true)
    expect((error as Error).message).toMatch(/P2002/)
    const [item] = await store.listQueueItems(campaignId)
    expect(item).toMatchObject({ status: 'sending', leaseToken })
  })

  it('reports a database it cannot reach as store-unavailable, never as a driver error', async () => {
    const PrismaClient = await clientClass('postgresql')
    const nowhere = new PrismaClient({
      adapter: new PrismaPg({
        connectionString: 'postgresql://postgres@127.0.0.1:1/none',
        connectionTimeoutMillis: 2000,
      }),
    })
    const store = createPrismaStore(nowhere)
    for (const call of [
      store.getCampaign('1'),
      store.createMailbox(
        { email: 'a@b.test', name: null, dailyEmailLimit: 1, timezone: 'UTC', skipDates: [] },
        NOW,
      ),
    ]) {
      const error = await rejection(call)
      expect(isMailcadenceError(error, 'store-unavailable')).toBe(true)
      expect((error as Error).message).toMatch(/^prisma store: /)
    }
    await nowhere.$disconnect()
  })
})

/** A running campaign with one lead, and a request that reserves its email. */
async function prepare(store: Store, tag = 'a') {
  const box = await store.createMailbox(
    { email: `anna-${tag}@acme.test`, name: null, dailyEmailLimit: 5, timezone: 'UTC', skipDates: [] },
    NOW,
  )
  const campaign = await store.createCampaign(
    {
      name: 'C',
      timezone: 'UTC',
      startHour: 0,
      startMinute: 0,
      endHour: 24,
      endMinute: 0,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      jitter: 0,
      maxEmailsPerDay: 10,
      windowTimezone: 'campaign',
      skipDates: [],
      mailboxIds: [box.id],
      steps: [{ subject: 'Hi', text: 'a' }],
      variables: [],
    },
    NOW,
  )
  const email = `jan-${tag}@example.com`
  const { added } = await store.addLeads(
    campaign.id,
    [
      {
        email,
        emailKey: email,
        firstName: null,
        lastName: null,
        company: null,
        variables: {},
        timezone: null,
        country: null,
        windowKey: '',
      },
    ],
    NOW,
  )
  await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, NOW)
  const request: ReserveRequest = {
    campaignId: campaign.id,
    leaseToken: `lease-${tag}`,
    leaseUntil: new Date(NOW.getTime() + 60_000),
    campaignDayKey: '2031-02-03',
    maxEmailsPerDay: 10,
    nextSlotAt: NOW,
    mailboxes: [
      { mailboxId: box.id, dayKey: '2031-02-03', dailyEmailLimit: 5, messageId: `<${tag}@acme.test>` },
    ],
  }
  return { request, campaignId: campaign.id, leadId: added[0]!.id }
}

/** A campaign with one lead, reserved: what a completion needs. */
async function reserveOne(store: Store) {
  const { request, campaignId, leadId } = await prepare(store)
  const [outcome] = await store.reserveSends([request], NOW)
  if (!outcome?.ok) throw new Error(`reservation failed: ${JSON.stringify(outcome)}`)
  return { itemId: outcome.send.item.id, leaseToken: request.leaseToken, campaignId, leadId }
}
