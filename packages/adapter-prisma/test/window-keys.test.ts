/**
 * Window keys on each database, beyond the shared contract: `listWindowKeys` costs one indexed
 * probe per key (not a read of every pending item), keys compare byte for byte, imported and
 * advanced leads carry their key to their items, and migration 004 upgrades a database that
 * already holds campaigns, mailboxes, leads and items (they read as before: no key, the
 * campaign's clock, no skip date).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Campaign, Mailbox, MigrationStore, NewLead, Store } from '@mailcadence/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPrismaStore } from '../src/index.js'
import { createTestDatabase, migrationFiles, type TestDatabase } from './support/clients.js'
import { type TestProvider, withDatabase } from './support/databases.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const T0 = new Date('2031-03-03T09:00:00.000Z')
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const DAY = '2031-03-03'

function newLead(email: string, zone: { timezone: string | null; country: string | null }): NewLead {
  const windowKey =
    zone.timezone === null && zone.country === null ? '' : `${zone.timezone ?? ''}|${zone.country ?? ''}`
  return {
    email,
    emailKey: email,
    firstName: null,
    lastName: null,
    company: null,
    variables: {},
    ...zone,
    windowKey,
  }
}

const SETTINGS = {
  timezone: 'UTC',
  startHour: 0,
  startMinute: 0,
  endHour: 24,
  endMinute: 0,
  allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
  delayBetweenEmails: 0,
  jitter: 0,
  maxEmailsPerDay: 1000,
  windowTimezone: 'lead' as const,
  skipDates: [],
  steps: [
    { subject: 'Hi', text: 'a' },
    { delayDays: 1, text: 'b' },
  ],
  variables: [],
}

/**
 * The client, with every call of `mcQueueItem.findFirst` counted, on the client itself and in
 * its transactions (on SQLite reads run in one).
 */
function countingProbes<C extends object>(prisma: C): { client: C; probes: () => number } {
  let probes = 0
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key) {
        const value = Reflect.get(t, key)
        if (key === 'mcQueueItem') {
          return new Proxy(value as object, {
            get(d, method) {
              const fn = Reflect.get(d, method)
              if (method !== 'findFirst' || typeof fn !== 'function') return fn
              return (...args: unknown[]) => {
                probes += 1
                return fn.apply(d, args)
              }
            },
          })
        }
        if (key === '$transaction') {
          return (fn: (tx: object) => unknown, options: unknown) =>
            (value as (f: (tx: object) => unknown, o: unknown) => unknown).call(
              t,
              (tx) => fn(wrap(tx)),
              options,
            )
        }
        return typeof value === 'function' ? value.bind(t) : value
      },
    })
  return { client: wrap(prisma), probes: () => probes }
}

function windowKeySuite(provider: TestProvider) {
  describe(`window keys: prisma/${provider}`, () => {
    let db: TestDatabase
    let store: Store & MigrationStore
    let mailbox: Mailbox
    let campaign: Campaign

    beforeAll(async () => {
      db = await createTestDatabase(provider)
    })
    afterAll(() => db?.drop())
    beforeEach(async () => {
      await db.reset()
      store = createPrismaStore(db.prisma)
      mailbox = await store.createMailbox(
        { email: 'm@acme.test', name: null, dailyEmailLimit: 100, timezone: 'UTC', skipDates: [] },
        T0,
      )
      campaign = await store.createCampaign({ ...SETTINGS, name: 'Zones', mailboxIds: [mailbox.id] }, T0)
      await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
    })

    it('lists the keys with one indexed probe per key, however many items are pending', async () => {
      const zones = [
        { timezone: 'Asia/Tokyo', country: 'JP' },
        { timezone: null, country: null },
        { timezone: 'America/New_York', country: 'US' },
        // Keys are opaque: one that differs only in case is another key (MySQL: utf8mb4_bin).
        { timezone: 'america/new_york', country: 'US' },
      ]
      const leads = Array.from({ length: 400 }, (_, i) => newLead(`l${i}@example.com`, zones[i % 4]!))
      await store.addLeads(campaign.id, leads.slice(0, 200), at(0))
      await store.addLeads(campaign.id, leads.slice(200), at(5))
      // Another campaign's items and this campaign's non-pending ones are not listed.
      const other = await store.createCampaign({ ...SETTINGS, name: 'Other', mailboxIds: [mailbox.id] }, T0)
      await store.addLeads(
        other.id,
        [newLead('x@example.com', { timezone: 'Europe/Oslo', country: 'NO' })],
        at(-9),
      )
      await store.stopLead(campaign.id, 'l0@example.com', 'replied', 'replied', at(6))

      const { client, probes } = countingProbes(db.prisma)
      const keys = await createPrismaStore(client).listWindowKeys(campaign.id)
      expect(probes()).toBe(zones.length + 1)
      const byKey = Object.fromEntries(keys.map((k) => [k.windowKey, k.nextAt.toISOString()]))
      expect(byKey).toEqual({
        'Asia/Tokyo|JP': at(0).toISOString(),
        '': at(0).toISOString(),
        'America/New_York|US': at(0).toISOString(),
        'america/new_york|US': at(0).toISOString(),
      })
      expect(await store.listWindowKeys('999999')).toEqual([])
    })

    it('reserves only the listed key, byte for byte', async () => {
      await store.addLeads(
        campaign.id,
        [
          newLead('upper@example.com', { timezone: 'America/New_York', country: 'US' }),
          newLead('lower@example.com', { timezone: 'america/new_york', country: 'US' }),
        ],
        at(0),
      )
      const request = {
        campaignId: campaign.id,
        leaseToken: 'lease',
        leaseUntil: at(10),
        campaignDayKey: DAY,
        maxEmailsPerDay: 1000,
        nextSlotAt: at(1),
        mailboxes: [{ mailboxId: mailbox.id, dayKey: DAY, dailyEmailLimit: 100, messageId: '<a@acme.test>' }],
        windowKeys: ['america/new_york|US'],
      }
      const [first] = await store.reserveSends([request], at(1))
      expect(first).toMatchObject({ ok: true, send: { lead: { email: 'lower@example.com' } } })
      const [second] = await store.reserveSends(
        [{ ...request, leaseToken: 'lease-2', nextSlotAt: at(2) }],
        at(2),
      )
      expect(second).toEqual({ ok: false, reason: 'window-closed' })
    })

    it('imports history and next step with the lead key, and an advance enqueues with the stored key', async () => {
      const zone = { timezone: 'Europe/Warsaw', country: 'PL' }
      const sent = { step: 0, sentAt: at(-600), mailboxId: mailbox.id, messageId: '<old@x>', subject: 'Hi' }
      const imported = {
        ...newLead('imp@example.com', zone),
        status: 'active' as const,
        history: [sent],
        next: {
          step: 1,
          scheduledAt: at(30),
          mailboxId: mailbox.id,
          references: ['<old@x>'],
          threadSubject: 'Hi',
        },
      }
      await store.importLeads(campaign.id, [imported], T0)
      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => [i.step, i.status, i.windowKey])).toEqual([
        [0, 'sent', 'Europe/Warsaw|PL'],
        [1, 'pending', 'Europe/Warsaw|PL'],
      ])
      expect(await store.getLead(campaign.id, 'imp@example.com')).toMatchObject(zone)

      // The other system went on (step 1 sent, step 2 next): the new items keep the stored key,
      // even when the re-import gives the lead another zone.
      const moved = await store.importLeads(
        campaign.id,
        [
          {
            ...imported,
            ...newLead('imp@example.com', { timezone: 'Asia/Tokyo', country: 'JP' }),
            history: [{ ...sent, step: 1, messageId: '<old2@x>' }],
            next: { step: 2, scheduledAt: at(60), mailboxId: null, references: [], threadSubject: 'Hi' },
            advance: { lastSentStep: 0 },
          },
        ],
        at(1),
      )
      expect(moved.advanced).toEqual(['imp@example.com'])
      const after = await store.listQueueItems(campaign.id)
      expect(after.map((i) => [i.step, i.status, i.windowKey])).toEqual([
        [0, 'sent', 'Europe/Warsaw|PL'],
        [1, 'sent', 'Europe/Warsaw|PL'],
        [2, 'pending', 'Europe/Warsaw|PL'],
      ])
    })
  })

  describe(`migration 004 on a database with rows: prisma/${provider}`, () => {
    let db: TestDatabase
    beforeAll(async () => {
      db = await createTestDatabase(provider, { migrations: 3 })
    })
    afterAll(() => db?.drop())

    it('gives existing rows no key, the campaign clock and no skip date, and they send as before', async () => {
      expect(migrationFiles(provider)[3]).toBe('004_window_keys.sql')
      // Rows as a version before 004 wrote them, in SQL (a Prisma Client of today would write the
      // new columns too). Values are SQL literals; `created_at` and `updated_at` are T0.
      const q = (name: string) => (provider === 'mysql' ? `\`${name}\`` : `"${name}"`)
      const t0 = provider === 'sqlite' ? `'${T0.toISOString()}'` : "'2031-03-03 09:00:00'"
      const insert = (table: string, values: Record<string, string>) => {
        const row = { ...values, created_at: t0, updated_at: t0 }
        return `INSERT INTO ${q(`mailcadence_${table}`)} (${Object.keys(row).map(q).join(', ')}) VALUES (${Object.values(row).join(', ')});`
      }
      await db.exec(
        [
          insert('mailboxes', {
            id: '1',
            email: "'m@acme.test'",
            daily_email_limit: '10',
            timezone: "'UTC'",
          }),
          insert('campaigns', {
            id: '1',
            name: "'Old'",
            status: "'IN_PROGRESS'",
            timezone: "'UTC'",
            start_hour: '0',
            start_minute: '0',
            end_hour: '24',
            end_minute: '0',
            allowed_days: `'${SETTINGS.allowedDays}'`,
            delay_between_emails: '0',
            jitter: '0',
            max_emails_per_day: '10',
            mailbox_ids: `'["1"]'`,
            steps: `'${JSON.stringify(SETTINGS.steps)}'`,
            variables: "'[]'",
          }),
          insert('leads', {
            id: '1',
            campaign_id: '1',
            email: "'a@x.test'",
            email_key: "'a@x.test'",
            variables: "'{}'",
            status: "'active'",
          }),
          insert('queue_items', {
            id: '1',
            campaign_id: '1',
            lead_id: '1',
            step: '0',
            status: "'pending'",
            scheduled_at: t0,
            attempts: '0',
            references: "'[]'",
          }),
        ].join('\n'),
      )
      await db.exec(readFileSync(join(root, 'migrations', provider, '004_window_keys.sql'), 'utf8'))
      // And the migrations after it, which today's client needs (their columns are null or default).
      for (const file of migrationFiles(provider).slice(4)) {
        await db.exec(readFileSync(join(root, 'migrations', provider, file), 'utf8'))
      }

      const store = createPrismaStore(db.prisma)
      expect(await store.getCampaign('1')).toMatchObject({ windowTimezone: 'campaign', skipDates: [] })
      expect(await store.getMailboxes(['1'])).toMatchObject([{ skipDates: [] }])
      expect(await store.listLeads('1')).toMatchObject([{ timezone: null, country: null }])
      expect(await store.listWindowKeys('1')).toEqual([{ windowKey: '', nextAt: T0 }])
      const [outcome] = await store.reserveSends(
        [
          {
            campaignId: '1',
            leaseToken: 'lease',
            leaseUntil: at(10),
            campaignDayKey: DAY,
            maxEmailsPerDay: 10,
            nextSlotAt: at(1),
            mailboxes: [{ mailboxId: '1', dayKey: DAY, dailyEmailLimit: 10, messageId: '<a@acme.test>' }],
            windowKeys: [''],
          },
        ],
        at(1),
      )
      expect(outcome).toMatchObject({ ok: true, send: { item: { windowKey: '' } } })
    })
  })
}

windowKeySuite('sqlite')
await withDatabase('postgresql', 'window keys: prisma/postgresql', () => windowKeySuite('postgresql'))
await withDatabase('mysql', 'window keys: prisma/mysql', () => windowKeySuite('mysql'))
