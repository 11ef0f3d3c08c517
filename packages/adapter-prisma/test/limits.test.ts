/**
 * The limits that protect mailboxes (migration 007) beyond the store contract: counters claimed
 * through several clients at once (each with its own connections, as separate processes have)
 * never pass a limit and never deadlock; expired counters are swept, live ones kept; a database
 * upgraded from 006 reads its existing rows with the defaults; a client generated before 007 is
 * refused, saying what to do.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CounterClaim } from '@mailcadence/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPrismaStore } from '../src/index.js'
import { SWEEP_EVERY } from '../src/named-counters.js'
import {
  createTestDatabase,
  migrationFiles,
  openClient,
  type TestClient,
  type TestDatabase,
} from './support/clients.js'
import { type TestProvider, withDatabase } from './support/databases.js'
import { runTsWorker } from './support/stress.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const T0 = new Date('2031-02-03T04:00:00.000Z')
const LATER = new Date(T0.getTime() + 86_400_000)

function claim(key: string, limit: number | null, expiresAt = LATER): CounterClaim {
  return { key, limit, expiresAt }
}

function countersSuite(provider: TestProvider) {
  describe(`counters: prisma/${provider}`, () => {
    let db: TestDatabase
    const others: TestClient[] = []
    beforeAll(async () => {
      db = await createTestDatabase(provider, { sqliteWal: true })
      // SQLite: one connection in this process (better-sqlite3 waits for a busy file synchronously,
      // so two in one process cannot take turns); the contract runs concurrent claims on it.
      if (provider !== 'sqlite') for (let i = 0; i < 3; i++) others.push(await openClient(db.location, 4))
    })
    afterAll(async () => {
      for (const client of others) await client.$disconnect()
      await db?.drop()
    })
    beforeEach(() => db.reset())

    const stores = () => [db.prisma, ...others].map((client) => createPrismaStore(client))

    it('never lets claims through several clients pass a limit, all or nothing', async () => {
      const all = stores()
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          all[i % all.length]!.claimCounters(
            // A shared hourly cap, a per-worker counter, and a small shared one in every third claim.
            [claim('hour', 9), claim(`own-${i % 4}`, 100), ...(i % 3 === 0 ? [claim('domain', 2)] : [])],
            T0,
          ),
        ),
      )
      const counts = await all[0]!.readCounters(['hour', 'domain', 'own-0', 'own-1', 'own-2', 'own-3'])
      const won = results.filter(Boolean).length
      expect(counts.hour).toBe(won)
      expect(won).toBeLessThanOrEqual(9)
      // Claims that lost on `domain` took nothing of `hour`, so `hour` still fills up.
      expect(won).toBe(9)
      expect(counts.domain).toBeLessThanOrEqual(2)
      expect(counts['own-0']! + counts['own-1']! + counts['own-2']! + counts['own-3']!).toBe(won)
      const rows = await db.query<{ count: number | string }>(
        `SELECT ${provider === 'mysql' ? '`count`' : '"count"'} AS count FROM mailcadence_counters`,
      )
      expect(rows.reduce((sum, row) => sum + Number(row.count), 0)).toBe(won * 2 + counts.domain!)
    })

    it('takes shared counters listed in any order without failing', async () => {
      const all = stores()
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          all[i % all.length]!.claimCounters(
            i % 2 === 0 ? [claim('a', null), claim('b', null)] : [claim('b', null), claim('a', null)],
            T0,
          ),
        ),
      )
      expect(results.every(Boolean)).toBe(true)
      expect(await all[0]!.readCounters(['a', 'b'])).toEqual({ a: 40, b: 40 })
    })

    it('sweeps expired counters now and then, and keeps live ones and their latest expiry', async () => {
      const store = createPrismaStore(db.prisma)
      const soon = new Date(T0.getTime() + 60_000)
      await store.claimCounters([claim('short', null, soon)], T0)
      await store.claimCounters([claim('long', null, soon)], T0)
      // The same key claimed again with a later expiry keeps the later one.
      await store.claimCounters([claim('long', 5, LATER)], T0)
      const after = new Date(T0.getTime() + 7_200_000)
      for (let i = 0; i < SWEEP_EVERY; i++) await store.claimCounters([claim(`n${i % 5}`, null)], after)
      const keys = await db.query<{ k: string }>(
        `SELECT ${provider === 'mysql' ? '`key`' : '"key"'} AS k FROM mailcadence_counters ORDER BY 1`,
      )
      expect(keys.map((row) => row.k)).toEqual(['long', 'n0', 'n1', 'n2', 'n3', 'n4'])
      expect(await store.readCounters(['long', 'short', 'n0'])).toEqual({ long: 2, short: 0, n0: 20 })
    })
  })
}

/** OS processes, each with its own client, claiming one counter at once. */
function processesSuite(provider: TestProvider) {
  describe(`counters across processes: prisma/${provider}`, () => {
    let db: TestDatabase
    beforeAll(async () => {
      db = await createTestDatabase(provider, { sqliteWal: true })
    })
    afterAll(() => db?.drop())

    it('never lets 4 processes × 12 claims pass a limit of 15', { timeout: 120_000 }, async () => {
      const worker = fileURLToPath(new URL('./support/counter-worker.ts', import.meta.url))
      // Every process starts claiming at one instant, once all have loaded (a few seconds).
      const startAt = Date.now() + 6_000
      const runs = await Promise.all(
        Array.from({ length: 4 }, (_, index) =>
          runTsWorker(worker, {
            MC_COUNTERS: JSON.stringify({
              location: db.location,
              index,
              claims: 12,
              limit: 15,
              startAt,
              expiresAt: LATER.getTime(),
            }),
          }),
        ),
      )
      for (const run of runs) expect(run.code, run.stderr).toBe(0)
      const won = runs.map((run) => (JSON.parse(run.stdout) as { won: number }).won)
      expect(won.reduce((a, b) => a + b, 0)).toBe(15)
      const store = createPrismaStore(db.prisma)
      const counts = await store.readCounters(['shared', 'own-0', 'own-1', 'own-2', 'own-3'])
      expect(counts).toEqual({
        shared: 15,
        'own-0': won[0],
        'own-1': won[1],
        'own-2': won[2],
        'own-3': won[3],
      })
    })
  })
}

/** Migration 007 on a database of the previous version: existing rows read with the defaults. */
function upgradeSuite(provider: TestProvider) {
  describe(`migration 007 on existing rows: prisma/${provider}`, () => {
    let db: TestDatabase
    beforeAll(async () => {
      expect(migrationFiles(provider)[6]).toBe('007_limits.sql')
      db = await createTestDatabase(provider, { migrations: 6 })
    })
    afterAll(() => db?.drop())

    it('reads mailboxes and campaigns of 006 with no limits, no ramp and matching off', async () => {
      const at = provider === 'sqlite' ? `'${T0.toISOString()}'` : `'2031-02-03 04:00:00.000'`
      await db.exec(
        `INSERT INTO mailcadence_mailboxes (email, name, daily_email_limit, timezone, created_at, updated_at)
           VALUES ('a@acme.test', NULL, 50, 'UTC', ${at}, ${at});`,
      )
      await db.exec(
        `INSERT INTO mailcadence_campaigns (name, status, timezone, start_hour, start_minute, end_hour,
           end_minute, allowed_days, delay_between_emails, jitter, max_emails_per_day, mailbox_ids, steps,
           variables, created_at, updated_at)
         VALUES ('old', 'DRAFT', 'UTC', 9, 0, 17, 0, '1-5', 60, 0, 100, '["1"]', '[]', '[]', ${at}, ${at});`,
      )
      await db.exec(readFileSync(join(root, 'migrations', provider, '007_limits.sql'), 'utf8'))
      const store = createPrismaStore(db.prisma)
      const [mailbox] = await store.getMailboxes(['1'])
      expect(mailbox).toMatchObject({
        email: 'a@acme.test',
        hourlyLimit: null,
        rampUp: null,
        rampLevel: 0,
        rampDayKey: null,
        provider: null,
      })
      expect(await store.getCampaign('1')).toMatchObject({
        name: 'old',
        recipientDomainLimit: null,
        providerMatching: 'off',
      })
      expect(await store.claimCounters([claim('k', 1)], T0)).toBe(true)
      expect(await store.readCounters(['k'])).toEqual({ k: 1 })
    })
  })
}

describe('createPrismaStore and a schema before 007', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase('sqlite')
  })
  afterAll(() => db?.drop())

  it('refuses a client generated before McCounter, saying what to do', () => {
    const older = new Proxy(db.prisma, {
      get: (target, key) => (key === 'mcCounter' ? undefined : Reflect.get(target, key)),
    })
    expect(() => createPrismaStore(older)).toThrow(/007_limits\.sql/)
    expect(() => createPrismaStore(db.prisma)).not.toThrow()
  })

  it('refuses a client generated before McMailbox.hourlyLimit, saying what to do', () => {
    type DataModel = { models: Record<string, { fields: Array<{ name: string }> }> }
    const current = (db.prisma as unknown as { _runtimeDataModel: DataModel })._runtimeDataModel
    const mailbox = current.models.McMailbox!
    expect(mailbox.fields.map((f) => f.name)).toContain('hourlyLimit')
    const before: DataModel = {
      models: {
        ...current.models,
        McMailbox: { fields: mailbox.fields.filter((f) => f.name !== 'hourlyLimit') },
      },
    }
    const older = new Proxy(db.prisma, {
      get: (target, key) => (key === '_runtimeDataModel' ? before : Reflect.get(target, key)),
    })
    expect(() => createPrismaStore(older)).toThrow(/007_limits\.sql/)
  })
})

countersSuite('sqlite')
processesSuite('sqlite')
upgradeSuite('sqlite')
await withDatabase('postgresql', 'counters: prisma/postgresql', () => {
  countersSuite('postgresql')
  processesSuite('postgresql')
  upgradeSuite('postgresql')
})
await withDatabase('mysql', 'counters: prisma/mysql', () => {
  countersSuite('mysql')
  processesSuite('mysql')
  upgradeSuite('mysql')
})
