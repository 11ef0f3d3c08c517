/**
 * Migration from another sender, on each database, beyond the shared contract: campaigns created
 * once per `externalId` by two clients at once (and the lost race taken on purpose), imports of
 * several transactions, imported history never sent again, the next step on its mailbox and
 * thread and the thread carried on after it, external sends counted once by racing clients, vetoed
 * (`cancelled`) sends. SQL checks the rows themselves.
 */
import {
  type Campaign,
  type ImportedLead,
  isMailcadenceError,
  type Mailbox,
  type MailboxCandidate,
  type MigrationStore,
  type ReserveOutcome,
  type Store,
} from '@mailcadence/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPrismaStore, type MailcadenceModels, type PrismaClientLike } from '../src/index.js'
import { createTestDatabase, openClient, type TestClient, type TestDatabase } from './support/clients.js'
import { type TestProvider, withDatabase } from './support/databases.js'

const T0 = new Date('2031-03-03T09:00:00.000Z')
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const DAY = '2031-03-03'

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

function lead(email: string, over: Partial<ImportedLead> = {}): ImportedLead {
  return {
    email,
    emailKey: email.toLowerCase(),
    firstName: 'Jan',
    lastName: null,
    company: null,
    variables: { city: 'Warsaw' },
    timezone: null,
    country: null,
    windowKey: '',
    status: 'active',
    history: [],
    next: null,
    ...over,
  }
}

/** A lead the legacy sender mailed step 0 to from `mailboxId`, with step 1 due at `dueAt`. */
function midway(email: string, mailboxId: string, dueAt: Date): ImportedLead {
  const messageId = `<legacy.${email}>`
  return lead(email, {
    history: [{ step: 0, sentAt: at(-600), mailboxId, messageId, subject: 'Hi Jan' }],
    next: { step: 1, scheduledAt: dueAt, mailboxId, references: [messageId], threadSubject: 'Hi Jan' },
  })
}

function importSuite(provider: TestProvider) {
  describe(`migration: prisma/${provider}`, () => {
    let db: TestDatabase
    let second: TestClient
    let store: Store & MigrationStore
    let mailboxes: Mailbox[]
    let campaign: Campaign

    beforeAll(async () => {
      db = await createTestDatabase(provider, { sqliteWal: true })
      // A second client (its own pool) races the first. Not on SQLite: two better-sqlite3
      // connections in one process stall each other (a busy wait blocks the event loop the lock
      // holder needs to commit), so there the calls race on one client; processes.test.ts runs
      // SQLite from many processes.
      second = provider === 'sqlite' ? db.prisma : await openClient(db.location)
    })
    afterAll(async () => {
      if (second !== db?.prisma) await second?.$disconnect()
      await db?.drop()
    })
    beforeEach(async () => {
      await db.reset()
      store = createPrismaStore(db.prisma)
      mailboxes = []
      for (const i of [0, 1]) {
        mailboxes.push(
          await store.createMailbox(
            { email: `m${i}@acme.test`, name: null, dailyEmailLimit: 10, timezone: 'UTC', skipDates: [] },
            T0,
          ),
        )
      }
      campaign = await store.createCampaign(settings('Imported', 'legacy-1'), T0)
      await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
    })

    function settings(name: string, externalId?: string) {
      return {
        name,
        ...(externalId === undefined ? {} : { externalId }),
        timezone: 'UTC',
        startHour: 0,
        startMinute: 0,
        endHour: 24,
        endMinute: 0,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        jitter: 0,
        maxEmailsPerDay: 100,
        windowTimezone: 'campaign' as const,
        skipDates: [],
        mailboxIds: mailboxes.map((m) => m.id),
        steps: [
          { subject: 'Hi', text: 'a' },
          { delayDays: 1, text: 'b' },
          { delayDays: 1, text: 'c' },
        ],
        variables: [],
      }
    }

    /** Reserves one send of the campaign at `now`, trying the mailboxes in the order given. */
    async function reserve(
      now: Date,
      order = mailboxes,
      token = `lease-${now.getTime()}`,
    ): Promise<ReserveOutcome> {
      const candidates: MailboxCandidate[] = order.map((m) => ({
        mailboxId: m.id,
        dayKey: DAY,
        dailyEmailLimit: m.dailyEmailLimit,
        messageId: `<${token}.${m.id}@acme.test>`,
      }))
      const [outcome] = await store.reserveSends(
        [
          {
            campaignId: campaign.id,
            leaseToken: token,
            leaseUntil: new Date(now.getTime() + 60_000),
            campaignDayKey: DAY,
            maxEmailsPerDay: 100,
            nextSlotAt: now,
            mailboxes: candidates,
          },
        ],
        now,
      )
      return outcome!
    }

    describe('campaigns with an externalId', () => {
      it('creates one campaign per externalId when two clients race', async () => {
        const other = createPrismaStore(second)
        const input = settings('Raced', 'legacy-race')
        const created = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : other).createCampaign(input, T0)),
        )
        expect(new Set(created.map((c) => c.id)).size).toBe(1)
        expect(created[0]).toMatchObject({ externalId: 'legacy-race', status: 'DRAFT', name: 'Raced' })
        const rows = await db.query<{ n: unknown }>(
          "SELECT COUNT(*) AS n FROM mailcadence_campaigns WHERE external_id = 'legacy-race'",
        )
        expect(Number(rows[0]!.n)).toBe(1)
        expect(await other.getCampaignByExternalId('legacy-race')).toEqual(created[0])
      })

      it('returns the winner when it loses the race after its read (unique key, then a read)', async () => {
        // Blinds the first look-up by externalId, as if another caller inserted right after it.
        let blind = 1
        const late: PrismaClientLike = new Proxy(db.prisma, {
          get(target, key) {
            if (key !== '$transaction') return Reflect.get(target, key)
            return (fn: (tx: MailcadenceModels) => Promise<unknown>, options?: object) =>
              db.prisma.$transaction((tx) => {
                const campaigns = tx.mcCampaign as unknown as { findUnique(args: unknown): Promise<unknown> }
                const blinded = new Proxy(campaigns, {
                  get(c, k) {
                    if (k !== 'findUnique') return Reflect.get(c, k)
                    return (args: { where: Record<string, unknown> }) =>
                      'externalId' in args.where && blind-- > 0
                        ? Promise.resolve(null)
                        : campaigns.findUnique(args)
                  },
                })
                return fn(
                  new Proxy(tx, { get: (t, k) => (k === 'mcCampaign' ? blinded : Reflect.get(t, k)) }),
                )
              }, options)
          },
        })
        const again = await createPrismaStore(late).createCampaign(settings('Late', 'legacy-1'), at(1))
        expect(blind).toBeLessThanOrEqual(0) // the look-up was blinded: the insert hit the unique key
        expect(again).toEqual(await store.getCampaign(campaign.id))
        expect(again.name).toBe('Imported')
        const rows = await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM mailcadence_campaigns')
        expect(Number(rows[0]!.n)).toBe(1)
      })

      it('keeps externalId null by default, for any number of campaigns, and refuses an overlong one', async () => {
        const a = await store.createCampaign(settings('A'), T0)
        const b = await store.createCampaign(settings('B'), T0)
        expect([a.externalId, b.externalId]).toEqual([null, null])
        expect(a.id).not.toBe(b.id)
        expect(await store.getCampaignByExternalId('nope')).toBeNull()
        const error = await rejection(store.createCampaign(settings('C', 'x'.repeat(256)), T0))
        expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
      })
    })

    describe('importLeads', () => {
      it('imports each lead once: a second import (and a racing client) changes nothing', async () => {
        const box = mailboxes[0]!.id
        // More than one transaction's worth, with a suppressed address in the first and the last.
        await store.suppress('gone@example.com', 'unsubscribed', T0)
        const input = Array.from({ length: 2300 }, (_, i) => midway(`l${i}@example.com`, box, at(60)))
        input.splice(10, 0, midway('gone@example.com', box, at(60)))
        input.push(midway('gone@example.com', box, at(60)), midway('L5@example.com', box, at(60)))
        const [first, racing] = await Promise.all([
          store.importLeads(campaign.id, input, T0),
          createPrismaStore(second).importLeads(campaign.id, input.slice(0, 50), T0),
        ])
        expect(first.imported.length + racing.imported.length).toBe(2300)
        expect([...first.suppressed, ...racing.suppressed]).toContain('gone@example.com')
        expect(first.suppressed).toEqual(['gone@example.com'])
        expect(first.existing).toContain('l5@example.com')

        const again = await store.importLeads(campaign.id, input, at(5))
        expect(again.imported).toEqual([])
        expect(again.suppressed).toEqual(['gone@example.com'])
        expect(again.existing).toHaveLength(2301)

        const counts = await db.query<{ status: string; n: unknown }>(
          'SELECT status, COUNT(*) AS n FROM mailcadence_queue_items GROUP BY status ORDER BY status',
        )
        expect(counts.map((r) => [r.status, Number(r.n)])).toEqual([
          ['pending', 2300],
          ['sent', 2300],
        ])
        const log = await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM mailcadence_send_log')
        expect(Number(log[0]!.n)).toBe(2300)
        const leads = await store.listLeads(campaign.id)
        expect(leads).toHaveLength(2300)
        expect(new Set(leads.map((l) => l.email)).size).toBe(2300)
      })

      it('never reserves an imported step again, and sends the next one only when due', async () => {
        const box = mailboxes[0]!.id
        const outcome = await store.importLeads(
          campaign.id,
          [
            lead('done@example.com', {
              status: 'completed',
              history: [0, 1, 2].map((step) => ({
                step,
                sentAt: at(-1000 + step),
                mailboxId: box,
                messageId: `<d${step}>`,
                subject: 'Hi',
              })),
            }),
            midway('mid@example.com', box, at(60)),
          ],
          T0,
        )
        expect(outcome.imported.map((l) => [l.email, l.status])).toEqual([
          ['done@example.com', 'completed'],
          ['mid@example.com', 'active'],
        ])
        // The imported history: sent items and send-log rows, no day counted.
        const items = await store.listQueueItems(campaign.id)
        expect(items.map((i) => [i.step, i.status])).toEqual([
          [0, 'sent'],
          [1, 'sent'],
          [2, 'sent'],
          [0, 'sent'],
          [1, 'pending'],
        ])
        expect(items[0]).toMatchObject({ sentAt: at(-1000), mailboxId: box, messageId: '<d0>', attempts: 0 })
        expect((await store.listSendLog(campaign.id)).map((e) => [e.to, e.step, e.subject])).toEqual([
          ['done@example.com', 0, 'Hi'],
          ['done@example.com', 1, 'Hi'],
          ['done@example.com', 2, 'Hi'],
          ['mid@example.com', 0, 'Hi Jan'],
        ])
        const counts = await store.dayCounts({
          campaignId: campaign.id,
          campaignDayKey: DAY,
          mailboxes: [{ mailboxId: box, dayKey: DAY }],
        })
        expect(counts).toEqual({ campaign: 0, mailboxes: { [box]: 0 } })

        expect(await reserve(T0)).toMatchObject({ ok: false, reason: 'not-due', until: at(60) })
        const due = await reserve(at(60))
        expect(due).toMatchObject({
          ok: true,
          send: { item: { step: 1 }, lead: { email: 'mid@example.com' } },
        })
        expect(await reserve(at(61))).toMatchObject({ ok: false, reason: 'queue-empty' })
      })

      it('sends the next step from its mailbox, in its thread, and carries the thread on', async () => {
        const sticky = mailboxes[1]!
        await store.importLeads(campaign.id, [midway('jan@example.com', sticky.id, at(60))], T0)
        // The first candidate with room is the other mailbox: the step still leaves from its own.
        const outcome = await reserve(at(60), [mailboxes[0]!, sticky], 'tok')
        if (!outcome.ok) throw new Error(`not reserved: ${JSON.stringify(outcome)}`)
        const { item } = outcome.send
        expect(item).toMatchObject({
          step: 1,
          mailboxId: sticky.id,
          references: ['<legacy.jan@example.com>'],
          threadSubject: 'Hi Jan',
          messageId: `<tok.${sticky.id}@acme.test>`,
        })
        const done = await store.completeSends(
          [
            {
              kind: 'sent',
              itemId: item.id,
              leaseToken: 'tok',
              messageId: item.messageId!,
              subject: 'Re: Hi Jan',
              to: 'jan@example.com',
              next: { step: 2, scheduledAt: at(2000) },
            },
          ],
          at(60),
        )
        expect(done).toEqual(['ok'])
        const step2 = (await store.listQueueItems(campaign.id)).find((i) => i.step === 2)
        expect(step2).toMatchObject({
          status: 'pending',
          mailboxId: sticky.id,
          references: ['<legacy.jan@example.com>', item.messageId],
          threadSubject: 'Hi Jan',
        })
      })

      it('refuses bad history before it writes anything', async () => {
        const box = mailboxes[0]!.id
        const twice = midway('a@example.com', box, at(60))
        twice.history = [...twice.history, { ...twice.history[0]! }]
        const error = await rejection(
          store.importLeads(campaign.id, [midway('ok@example.com', box, at(60)), twice], T0),
        )
        expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
        expect(await store.listLeads(campaign.id)).toEqual([])
        expect(isMailcadenceError(await rejection(store.importLeads('999', [], T0)), 'not-found')).toBe(true)
      })
    })

    describe('recordExternalSends', () => {
      const counts = (mailboxId: string) =>
        store.dayCounts({
          campaignId: campaign.id,
          campaignDayKey: DAY,
          mailboxes: [{ mailboxId, dayKey: DAY }],
        })

      it('counts each key once, whichever client records it and however often', async () => {
        const box = mailboxes[0]!.id
        const sends = Array.from({ length: 60 }, (_, i) => ({
          key: `legacy-send-${i}`,
          mailbox: { id: box, dayKey: DAY },
          campaign: { id: campaign.id, dayKey: DAY, nextSlotAt: at(i) },
        }))
        const other = createPrismaStore(second)
        const results = await Promise.all([
          store.recordExternalSends(sends, T0),
          other.recordExternalSends([...sends].reverse(), T0),
          store.recordExternalSends(sends.slice(20, 40), T0),
        ])
        expect(results.reduce((n, r) => n + r.recorded, 0)).toBe(60)
        expect(await store.recordExternalSends(sends, T0)).toEqual({ recorded: 0 })
        // Over the mailbox's limit of 10: the sends have happened, so they all count.
        expect(await counts(box)).toEqual({ campaign: 60, mailboxes: { [box]: 60 } })
        expect((await store.getCampaign(campaign.id))!.nextSlotAt).toEqual(at(59))
        const rows = await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM mailcadence_external_sends')
        expect(Number(rows[0]!.n)).toBe(60)
        // The mailbox is full for the day: a reservation finds no room.
        await store.addLeads(
          campaign.id,
          [
            {
              email: 'a@example.com',
              emailKey: 'a@example.com',
              firstName: null,
              lastName: null,
              company: null,
              variables: {},
              timezone: null,
              country: null,
              windowKey: '',
            },
          ],
          T0,
        )
        expect(await reserve(at(200), [mailboxes[0]!])).toMatchObject({ ok: false, reason: 'mailbox-limit' })
      })

      it('counts a mailbox alone, a campaign alone, and no campaign this store never had', async () => {
        const box = mailboxes[1]!.id
        const result = await store.recordExternalSends(
          [
            { key: 'm', mailbox: { id: box, dayKey: DAY } },
            { key: 'c', campaign: { id: campaign.id, dayKey: DAY, nextSlotAt: null } },
            {
              key: 'x',
              mailbox: { id: box, dayKey: DAY },
              campaign: { id: '987654', dayKey: DAY, nextSlotAt: at(9) },
            },
            { key: 'y', mailbox: { id: 'not-ours', dayKey: DAY } },
          ],
          T0,
        )
        expect(result).toEqual({ recorded: 4 })
        expect(await counts(box)).toEqual({ campaign: 1, mailboxes: { [box]: 2 } })
        expect((await store.getCampaign(campaign.id))!.nextSlotAt).toBeNull()
        const days = await db.query<{ campaign_id: unknown }>(
          'SELECT campaign_id FROM mailcadence_campaign_days',
        )
        expect(days.map((d) => String(d.campaign_id))).toEqual([campaign.id])
      })

      it('refuses a key too long to keep whole, before it writes anything', async () => {
        const box = mailboxes[0]!.id
        const error = await rejection(
          store.recordExternalSends(
            [
              { key: 'fine', mailbox: { id: box, dayKey: DAY } },
              { key: 'k'.repeat(256), mailbox: { id: box, dayKey: DAY } },
            ],
            T0,
          ),
        )
        expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
        expect(await counts(box)).toEqual({ campaign: 0, mailboxes: { [box]: 0 } })
      })
    })

    describe('cancelled completions', () => {
      it('cancel the item with its reason, leave the lead active, enqueue nothing, refund the day', async () => {
        await store.addLeads(
          campaign.id,
          [
            {
              email: 'a@example.com',
              emailKey: 'a@example.com',
              firstName: null,
              lastName: null,
              company: null,
              variables: {},
              timezone: null,
              country: null,
              windowKey: '',
            },
          ],
          T0,
        )
        const outcome = await reserve(T0, mailboxes, 'veto')
        if (!outcome.ok) throw new Error('not reserved')
        const { item } = outcome.send
        const cancel = { kind: 'cancelled' as const, itemId: item.id, reason: 'vetoed by beforeSend' }
        expect(await store.completeSends([{ ...cancel, leaseToken: 'other' }], at(1))).toEqual(['lease-lost'])
        const refund = { campaignDayKey: DAY, mailboxId: item.mailboxId!, mailboxDayKey: DAY }
        expect(await store.completeSends([{ ...cancel, leaseToken: 'veto', refund }], at(1))).toEqual(['ok'])
        expect(await store.listQueueItems(campaign.id)).toEqual([
          expect.objectContaining({
            status: 'cancelled',
            lastError: 'vetoed by beforeSend',
            leaseToken: null,
            leaseUntil: null,
            attempts: 0,
            updatedAt: at(1),
          }),
        ])
        expect(await store.listSendLog(campaign.id)).toEqual([])
        expect((await store.getLead(campaign.id, 'a@example.com'))!.status).toBe('active')
        expect(
          await store.dayCounts({
            campaignId: campaign.id,
            campaignDayKey: DAY,
            mailboxes: [{ mailboxId: item.mailboxId!, dayKey: DAY }],
          }),
        ).toEqual({ campaign: 0, mailboxes: { [item.mailboxId!]: 0 } })
        // Once settled, a second completion of the same lease is lost.
        expect(await store.completeSends([{ ...cancel, leaseToken: 'veto' }], at(2))).toEqual(['lease-lost'])
      })
    })
  })
}

describe('createPrismaStore and an older schema', () => {
  it('refuses a client generated before McExternalSend, saying what to do', async () => {
    const db = await createTestDatabase('sqlite')
    try {
      const older = new Proxy(db.prisma, {
        get: (target, key) => (key === 'mcExternalSend' ? undefined : Reflect.get(target, key)),
      })
      expect(() => createPrismaStore(older)).toThrow(/002_import\.sql/)
    } finally {
      await db.drop()
    }
  })

  it('refuses a client generated before McCampaign.settingsVersion, saying what to do', async () => {
    const db = await createTestDatabase('sqlite')
    try {
      type DataModel = { models: Record<string, { fields: Array<{ name: string }> }> }
      const current = (db.prisma as unknown as { _runtimeDataModel: DataModel })._runtimeDataModel
      expect(current.models.McCampaign!.fields.map((f) => f.name)).toContain('settingsVersion')
      const before: DataModel = {
        models: {
          ...current.models,
          McCampaign: {
            fields: current.models.McCampaign!.fields.filter((f) => f.name !== 'settingsVersion'),
          },
        },
      }
      const older = new Proxy(db.prisma, {
        get: (target, key) => (key === '_runtimeDataModel' ? before : Reflect.get(target, key)),
      })
      expect(() => createPrismaStore(older)).toThrow(/003_settings_version\.sql/)
      expect(() => createPrismaStore(db.prisma)).not.toThrow()
    } finally {
      await db.drop()
    }
  })

  it('refuses a client generated before McQueueItem.windowKey, saying what to do', async () => {
    const db = await createTestDatabase('sqlite')
    try {
      type DataModel = { models: Record<string, { fields: Array<{ name: string }> }> }
      const current = (db.prisma as unknown as { _runtimeDataModel: DataModel })._runtimeDataModel
      const item = current.models.McQueueItem!
      expect(item.fields.map((f) => f.name)).toContain('windowKey')
      const before: DataModel = {
        models: {
          ...current.models,
          McQueueItem: { fields: item.fields.filter((f) => f.name !== 'windowKey') },
        },
      }
      const older = new Proxy(db.prisma, {
        get: (target, key) => (key === '_runtimeDataModel' ? before : Reflect.get(target, key)),
      })
      expect(() => createPrismaStore(older)).toThrow(/004_window_keys\.sql/)
    } finally {
      await db.drop()
    }
  })
})

importSuite('sqlite')
await withDatabase('postgresql', 'migration: prisma/postgresql', () => importSuite('postgresql'))
await withDatabase('mysql', 'migration: prisma/mysql', () => importSuite('mysql'))
