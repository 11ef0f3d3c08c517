/**
 * Migrating from a legacy sender on PostgreSQL: campaigns keyed by `externalId`, `importLeads`,
 * `listLeads`, `recordExternalSends` and `cancelled` completions, against a real server, with
 * concurrent callers on separate connections (a fresh schema per test).
 */
import type {
  Completion,
  ImportedLead,
  Mailbox,
  NewCampaign,
  ReserveOutcome,
  ReserveRequest,
  Store,
} from '@mailcadence/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { IMPORT_CHUNK } from '../src/sql/import.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('imports')
const suite = ready ? describe : describe.skip

const T0 = new Date('2025-01-06T09:00:00.000Z')
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000)

function campaignInput(mailboxIds: string[], over: Partial<NewCampaign> = {}): NewCampaign {
  return {
    name: 'migrated',
    timezone: 'UTC',
    startHour: 9,
    startMinute: 0,
    endHour: 17,
    endMinute: 0,
    allowedDays: 'MON,TUE,WED,THU,FRI',
    delayBetweenEmails: 60,
    jitter: 0.2,
    maxEmailsPerDay: 100,
    mailboxIds,
    steps: [{ subject: 'Hi', text: 'Hello' }, { text: 'Again' }, { text: 'Last' }],
    variables: [],
    windowTimezone: 'campaign',
    skipDates: [],
    ...over,
  }
}

/** A lead of the legacy sender: `sent` steps already mailed from `mailboxId`, then `next` (or none). */
function legacyLead(
  email: string,
  mailboxId: string,
  sent: number[],
  next: { step: number; at: Date } | null,
): ImportedLead {
  const messageId = (step: number) => `<legacy.${step}.${email}>`
  return {
    email,
    emailKey: email.toLowerCase(),
    firstName: 'Jan',
    lastName: null,
    company: 'Acme',
    variables: { city: 'Warsaw' },
    timezone: null,
    country: null,
    windowKey: '',
    status: 'active',
    history: sent.map((step) => ({
      step,
      sentAt: at(-600 + step * 60),
      mailboxId,
      messageId: messageId(step),
      subject: step === 0 ? 'Hi' : 'Re: Hi',
    })),
    next:
      next === null
        ? null
        : {
            step: next.step,
            scheduledAt: next.at,
            mailboxId,
            references: sent.map(messageId),
            threadSubject: 'Hi',
          },
  }
}

let tokens = 0

function request(campaignId: string, boxes: Mailbox[], now: Date, over: Partial<ReserveRequest> = {}) {
  tokens += 1
  return {
    campaignId,
    leaseToken: `lease-${tokens}`,
    leaseUntil: new Date(now.getTime() + 300_000),
    campaignDayKey: 'D1',
    maxEmailsPerDay: 100,
    nextSlotAt: now,
    mailboxes: boxes.map((m) => ({
      mailboxId: m.id,
      dayKey: 'D1',
      dailyEmailLimit: m.dailyEmailLimit,
      messageId: `<${tokens}.${m.id}@new.test>`,
    })),
    ...over,
  } satisfies ReserveRequest
}

async function reserve(store: Store, req: ReserveRequest, now: Date): Promise<ReserveOutcome> {
  const [outcome] = await store.reserveSends([req], now)
  return outcome!
}

suite('migrating from a legacy sender', () => {
  let pool: pg.Pool
  const schemas: string[] = []

  beforeAll(() => {
    pool = createTestPool(12)
  })

  afterAll(async () => {
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  /** A fresh schema with two mailboxes and one campaign over them, started. */
  async function setup(label: string) {
    const schema = await freshSchema(pool, label, schemas)
    const store = createPostgresStore({ pool, schema })
    const boxes = [
      await store.createMailbox(
        { email: 'a@sender.test', name: null, dailyEmailLimit: 10, timezone: 'UTC', skipDates: [] },
        T0,
      ),
      await store.createMailbox(
        { email: 'b@sender.test', name: null, dailyEmailLimit: 10, timezone: 'UTC', skipDates: [] },
        T0,
      ),
    ]
    const created = await store.createCampaign(campaignInput(boxes.map((b) => b.id)), T0)
    const started = await store.setCampaignStatus(created.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
    return { schema, store, boxes, campaign: started!.campaign }
  }

  describe('createCampaign with an externalId', () => {
    it('creates one campaign however many callers race, on separate connections and pools', async () => {
      const { schema, store, boxes } = await setup('ext')
      const input = campaignInput(
        boxes.map((b) => b.id),
        { externalId: 'legacy-42' },
      )
      // Separate pools: separate connections, as separate processes would have.
      const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 2 }))
      try {
        const stores = [store, ...pools.map((p) => createPostgresStore({ pool: p, schema }))]
        const created = await Promise.all(
          stores.flatMap((s) => [1, 2].map(() => s.createCampaign(input, T0))),
        )
        expect(new Set(created.map((c) => c.id)).size).toBe(1)
        expect(created.every((c) => c.externalId === 'legacy-42' && c.status === 'DRAFT')).toBe(true)
      } finally {
        await Promise.all(pools.map((p) => p.end()))
      }
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM "${schema}".campaigns WHERE external_id = 'legacy-42'`,
      )
      expect(rows[0].n).toBe(1)
      const found = await store.getCampaignByExternalId!('legacy-42')
      expect(found).toMatchObject({ externalId: 'legacy-42', name: 'migrated' })
      expect(await store.getCampaignByExternalId!('legacy-43')).toBeNull()

      // The existing campaign is returned as it is: a second create changes none of its settings.
      const again = await store.createCampaign({ ...input, name: 'renamed' }, at(5))
      expect(again).toEqual(found)
      // externalId is not a setting: an update leaves it alone.
      const updated = await store.updateCampaign(found!.id, { name: 'x', externalId: 'other' }, at(6))
      expect(updated).toMatchObject({ name: 'x', externalId: 'legacy-42' })
    })

    it('leaves externalId null by default, and null never conflicts', async () => {
      const { store, boxes, campaign } = await setup('extnull')
      expect(campaign.externalId).toBeNull()
      const others = await Promise.all(
        [1, 2, 3].map(() => store.createCampaign(campaignInput(boxes.map((b) => b.id)), T0)),
      )
      expect(new Set([campaign.id, ...others.map((c) => c.id)]).size).toBe(4)
      expect(others.every((c) => c.externalId === null)).toBe(true)
    })
  })

  describe('importLeads', () => {
    it('is idempotent: importing again changes nothing and reports every lead as existing', async () => {
      const { store, boxes, campaign } = await setup('idem')
      const leads = [
        legacyLead('a@x.test', boxes[0]!.id, [0], { step: 1, at: at(30) }),
        legacyLead('b@x.test', boxes[1]!.id, [0, 1], { step: 2, at: at(60) }),
        { ...legacyLead('c@x.test', boxes[0]!.id, [0, 1, 2], null), status: 'completed' as const },
      ]
      const first = await store.importLeads!(campaign.id, leads, T0)
      expect(first.imported.map((l) => [l.email, l.status, l.campaignId])).toEqual([
        ['a@x.test', 'active', campaign.id],
        ['b@x.test', 'active', campaign.id],
        ['c@x.test', 'completed', campaign.id],
      ])
      expect(first.imported[0]).toMatchObject({
        firstName: 'Jan',
        company: 'Acme',
        variables: { city: 'Warsaw' },
        timezone: null,
        country: null,
      })
      expect(first).toMatchObject({ existing: [], suppressed: [] })
      const items = await store.listQueueItems(campaign.id)
      const log = await store.listSendLog(campaign.id)
      const leadRows = await store.listLeads(campaign.id)
      expect(items).toHaveLength(8)
      expect(log).toHaveLength(6)
      expect(leadRows.map((l) => l.email)).toEqual(['a@x.test', 'b@x.test', 'c@x.test'])

      // A repeat in the call itself counts as existing too.
      const again = await store.importLeads!(campaign.id, [...leads, leads[0]!], at(10))
      expect(again).toEqual({
        imported: [],
        existing: ['a@x.test', 'b@x.test', 'c@x.test', 'a@x.test'],
        suppressed: [],
        advanced: [],
        stale: [],
      })
      expect(await store.listQueueItems(campaign.id)).toEqual(items)
      expect(await store.listSendLog(campaign.id)).toEqual(log)
      expect(await store.listLeads(campaign.id)).toEqual(leadRows)
      // History does not count toward any day.
      expect(
        await store.dayCounts({
          campaignId: campaign.id,
          campaignDayKey: 'D1',
          mailboxes: boxes.map((b) => ({ mailboxId: b.id, dayKey: 'D1' })),
        }),
      ).toEqual({ campaign: 0, mailboxes: { [boxes[0]!.id]: 0, [boxes[1]!.id]: 0 } })
    })

    it('history blocks resending: a reservation never returns an imported sent step', async () => {
      const { store, boxes, campaign } = await setup('hist')
      await store.importLeads!(
        campaign.id,
        [
          legacyLead('done@x.test', boxes[0]!.id, [0, 1, 2], null),
          legacyLead('mid@x.test', boxes[0]!.id, [0, 1], { step: 2, at: T0 }),
        ],
        T0,
      )
      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => [i.step, i.status, i.attempts])).toEqual([
        [0, 'sent', 0],
        [1, 'sent', 0],
        [2, 'sent', 0],
        [0, 'sent', 0],
        [1, 'sent', 0],
        [2, 'pending', 0],
      ])
      expect(items[1]).toMatchObject({
        sentAt: at(-540),
        scheduledAt: at(-540),
        mailboxId: boxes[0]!.id,
        messageId: '<legacy.1.done@x.test>',
        leaseToken: null,
        createdAt: T0,
      })
      const log = await store.listSendLog(campaign.id)
      expect(log.map((e) => [e.to, e.step, e.subject])).toEqual([
        ['done@x.test', 0, 'Hi'],
        ['done@x.test', 1, 'Re: Hi'],
        ['done@x.test', 2, 'Re: Hi'],
        ['mid@x.test', 0, 'Hi'],
        ['mid@x.test', 1, 'Re: Hi'],
      ])

      // Reserve until nothing is left: only the one pending step ever comes out.
      const reserved: number[] = []
      for (let i = 0; i < 5; i++) {
        const outcome = await reserve(store, request(campaign.id, boxes, at(i)), at(i))
        if (!outcome.ok) {
          expect(outcome.reason).toBe('queue-empty')
          break
        }
        reserved.push(outcome.send.item.step)
        expect(outcome.send.lead.email).toBe('mid@x.test')
        const done: Completion = {
          kind: 'sent',
          itemId: outcome.send.item.id,
          leaseToken: outcome.send.item.leaseToken!,
          messageId: outcome.send.item.messageId!,
          subject: 'Re: Hi',
          to: 'mid@x.test',
          // A confused caller asks for an imported step again: it exists, nothing is enqueued.
          next: { step: 1, scheduledAt: at(i) },
        }
        expect(await store.completeSends([done], at(i))).toEqual(['ok'])
      }
      expect(reserved).toEqual([2])
      // The unique key holds: each step of a lead is logged once.
      expect((await store.listSendLog(campaign.id)).map((e) => `${e.to}:${e.step}`)).toEqual([
        'done@x.test:0',
        'done@x.test:1',
        'done@x.test:2',
        'mid@x.test:0',
        'mid@x.test:1',
        'mid@x.test:2',
      ])
    })

    it('enqueues next as pending on its sticky mailbox, in the legacy thread', async () => {
      const { store, boxes, campaign } = await setup('next')
      const [a, b] = boxes as [Mailbox, Mailbox]
      const { imported } = await store.importLeads!(
        campaign.id,
        [legacyLead('x@x.test', b.id, [0], { step: 1, at: at(30) })],
        T0,
      )
      const pending = (await store.listQueueItems(campaign.id)).find((i) => i.status === 'pending')
      expect(pending).toMatchObject({
        leadId: imported[0]!.id,
        step: 1,
        scheduledAt: at(30),
        mailboxId: b.id,
        references: ['<legacy.0.x@x.test>'],
        threadSubject: 'Hi',
        attempts: 0,
        messageId: null,
        sentAt: null,
      })
      expect(await reserve(store, request(campaign.id, boxes, at(29)), at(29))).toMatchObject({
        ok: false,
        reason: 'not-due',
        until: at(30),
      })
      // Its mailbox is not among the candidates: the item is passed over, not moved to another one.
      expect(await reserve(store, request(campaign.id, [a], at(30)), at(30))).toMatchObject({
        ok: false,
        reason: 'mailbox-limit',
      })
      const outcome = await reserve(store, request(campaign.id, boxes, at(30)), at(30))
      expect(outcome.ok).toBe(true)
      if (!outcome.ok) return
      expect(outcome.send.item).toMatchObject({
        step: 1,
        mailboxId: b.id,
        references: ['<legacy.0.x@x.test>'],
      })
      await store.completeSends(
        [
          {
            kind: 'sent',
            itemId: outcome.send.item.id,
            leaseToken: outcome.send.item.leaseToken!,
            messageId: outcome.send.item.messageId!,
            subject: 'Re: Hi',
            to: 'x@x.test',
            next: { step: 2, scheduledAt: at(90) },
          },
        ],
        at(31),
      )
      // The thread goes on from the imported one, on the same mailbox.
      const third = (await store.listQueueItems(campaign.id)).find((i) => i.step === 2)
      expect(third).toMatchObject({
        status: 'pending',
        mailboxId: b.id,
        references: ['<legacy.0.x@x.test>', outcome.send.item.messageId],
        threadSubject: 'Hi',
      })
    })

    it('refuses suppressed addresses and unknown campaigns', async () => {
      const { store, boxes, campaign } = await setup('supp')
      await store.suppress('s@x.test', 'unsubscribed', T0)
      const outcome = await store.importLeads!(
        campaign.id,
        [
          legacyLead('s@x.test', boxes[0]!.id, [0], { step: 1, at: T0 }),
          legacyLead('ok@x.test', boxes[0]!.id, [0], { step: 1, at: T0 }),
          legacyLead('S@x.test', boxes[0]!.id, [0], null),
        ],
        T0,
      )
      expect(outcome.imported.map((l) => l.email)).toEqual(['ok@x.test'])
      expect(outcome.suppressed).toEqual(['s@x.test'])
      expect(outcome.existing).toEqual([])
      expect(await store.getLead(campaign.id, 's@x.test')).toBeNull()
      expect(await store.listSendLog(campaign.id)).toHaveLength(1)
      await expect(store.importLeads!('999999', [], T0)).rejects.toMatchObject({ code: 'not-found' })
      await expect(
        store.importLeads!('999999', [legacyLead('n@x.test', boxes[0]!.id, [0], null)], T0),
      ).rejects.toMatchObject({ code: 'not-found' })
      await expect(
        store.importLeads!(campaign.id, [legacyLead('n@x.test', 'legacy-box', [0], null)], T0),
      ).rejects.toMatchObject({ code: 'not-found' })
      expect(await store.getLead(campaign.id, 'n@x.test')).toBeNull()
    })

    it('imports each address once when callers race with overlapping batches in different orders', async () => {
      const { store, boxes, campaign } = await setup('race')
      const leads = Array.from({ length: 60 }, (_, i) =>
        legacyLead(`r${i}@x.test`, boxes[i % 2]!.id, [0], { step: 1, at: at(30) }),
      )
      const batches = [
        leads,
        [...leads].reverse(),
        leads.slice(20),
        [...leads.slice(0, 40)].reverse(),
        leads.filter((_, i) => i % 3 === 0),
      ]
      // With them, plain intake and suppression of the same addresses.
      const [outcomes, added] = await Promise.all([
        Promise.all(batches.map((batch) => store.importLeads!(campaign.id, batch, T0))),
        store.addLeads(
          campaign.id,
          leads.slice(10, 30).map(({ history: _h, next: _n, status: _s, ...lead }) => lead),
          T0,
        ),
        store.suppress('r59@x.test', 'unsubscribed', T0),
      ])
      const imported = outcomes.flatMap((o) => o.imported.map((l) => l.email))
      expect(new Set(imported).size).toBe(imported.length)
      expect(imported.length + added.added.length + (imported.includes('r59@x.test') ? 0 : 1)).toBe(60)
      const all = await store.listLeads(campaign.id)
      expect(new Set(all.map((l) => l.email)).size).toBe(all.length)
      // Every imported lead has exactly its history and its next step.
      const log = await store.listSendLog(campaign.id)
      expect(log).toHaveLength(imported.length)
      const stats = await store.queueStats(campaign.id)
      expect(stats.sent).toBe(imported.length)
      expect(stats.pending + stats.cancelled).toBe(imported.length + added.added.length)
    })

    it('imports thousands of leads in a few round trips per chunk', async () => {
      const { schema, boxes, campaign } = await setup('bulk')
      const client = new pg.Client({ connectionString: DATABASE_URL })
      await client.connect()
      let queries = 0
      const counting = {
        query: (text: string, values?: unknown[]) => {
          queries += 1
          return client.query(text, values)
        },
        getTransactionStatus: () =>
          (client as unknown as { getTransactionStatus(): string }).getTransactionStatus(),
      }
      try {
        const store = createPostgresStore({ pool: counting, schema })
        const count = IMPORT_CHUNK * 2 + 500
        const leads = Array.from({ length: count }, (_, i) =>
          legacyLead(`bulk${i}@x.test`, boxes[i % 2]!.id, [0, 1], { step: 2, at: at(i) }),
        )
        const started = performance.now()
        const outcome = await store.importLeads!(campaign.id, leads, T0)
        const ms = performance.now() - started
        console.info(`[adapter-postgres] import: ${count} leads in ${Math.round(ms)} ms, ${queries} queries`)
        expect(outcome.imported).toHaveLength(count)
        expect(outcome.imported.map((l) => l.email)).toEqual(leads.map((l) => l.email))
        // Per chunk: BEGIN, the address locks, the import statement, COMMIT.
        expect(queries).toBeLessThanOrEqual(3 * 4)
        const stats = await store.queueStats(campaign.id)
        expect(stats).toMatchObject({ sent: count * 2, pending: count, nextScheduledAt: T0 })
        expect((await store.listLeads(campaign.id)).map((l) => l.email)).toEqual(leads.map((l) => l.email))
      } finally {
        await client.end()
      }
    })
  })

  describe('recordExternalSends', () => {
    it('counts each key once, visible in dayCounts, and moves pacing forward only', async () => {
      const { store, boxes, campaign } = await setup('extsends')
      const [a, b] = boxes as [Mailbox, Mailbox]
      const send = (key: string, box: Mailbox, nextSlotAt: Date | null, day = 'D1') => ({
        key,
        mailbox: { id: box.id, dayKey: day },
        campaign: { id: campaign.id, dayKey: day, nextSlotAt },
      })
      const batch = [send('k1', a, at(2)), send('k2', a, at(5)), send('k3', b, null), send('k1', a, at(9))]
      expect(await store.recordExternalSends!(batch, T0)).toEqual({ recorded: 3 })
      expect(await store.recordExternalSends!(batch, T0)).toEqual({ recorded: 0 })
      expect(await counts(store, campaign.id, boxes)).toEqual({
        campaign: 3,
        mailboxes: { [a.id]: 2, [b.id]: 1 },
      })
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toEqual(at(5))
      await store.recordExternalSends!([send('k4', a, at(1))], T0)
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toEqual(at(5))

      // A later day moves the campaign's day forward; an earlier one is not kept.
      expect(
        await store.recordExternalSends!([send('d2a', a, null, 'D2'), send('d0', a, null, 'D0')], T0),
      ).toEqual({ recorded: 2 })
      expect(await counts(store, campaign.id, boxes, 'D2')).toEqual({
        campaign: 1,
        mailboxes: { [a.id]: 1, [b.id]: 0 },
      })
      expect((await counts(store, campaign.id, boxes, 'D0')).mailboxes[a.id]).toBe(1)
      expect((await counts(store, campaign.id, boxes, 'D1')).mailboxes[a.id]).toBe(3)
      expect(await store.recordExternalSends!([send('d1-late', a, null, 'D1')], T0)).toEqual({ recorded: 1 })
      expect((await counts(store, campaign.id, boxes, 'D2')).campaign).toBe(1)

      // Without a campaign, or a campaign that is not this store's: only the mailbox counts.
      await store.recordExternalSends!(
        [
          { key: 'nocamp', mailbox: { id: b.id, dayKey: 'D2' } },
          {
            key: 'other',
            mailbox: { id: b.id, dayKey: 'D2' },
            campaign: { id: '999999', dayKey: 'D2', nextSlotAt: at(60) },
          },
          {
            key: 'foreign',
            mailbox: { id: b.id, dayKey: 'D2' },
            campaign: { id: 'legacy-1', dayKey: 'D2', nextSlotAt: null },
          },
        ],
        T0,
      )
      expect(await counts(store, campaign.id, boxes, 'D2')).toEqual({
        campaign: 1,
        mailboxes: { [a.id]: 1, [b.id]: 3 },
      })
    })

    it('counts over the limit, and reservations see the counts', async () => {
      const { store, boxes, campaign } = await setup('extlimit')
      const [a] = boxes as [Mailbox, Mailbox]
      const sends = Array.from({ length: 12 }, (_, i) => ({
        key: `s${i}`,
        mailbox: { id: a.id, dayKey: 'D1' },
      }))
      expect(await store.recordExternalSends!(sends, T0)).toEqual({ recorded: 12 })
      expect((await counts(store, campaign.id, [a])).mailboxes[a.id]).toBe(12)
      await store.addLeads(
        campaign.id,
        [
          {
            email: 'n@x.test',
            emailKey: 'n@x.test',
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
      expect(await reserve(store, request(campaign.id, [a], T0), T0)).toMatchObject({
        ok: false,
        reason: 'mailbox-limit',
      })
      // The campaign's limit too: 100 sends counted for it today.
      const campaignSends = Array.from({ length: 100 }, (_, i) => ({
        key: `c${i}`,
        campaign: { id: campaign.id, dayKey: 'D1', nextSlotAt: null },
      }))
      await store.recordExternalSends!(campaignSends, T0)
      expect(await reserve(store, request(campaign.id, boxes, T0), T0)).toMatchObject({
        ok: false,
        reason: 'campaign-limit',
      })
    })

    it('records each key once when callers race on separate connections', async () => {
      const { store, boxes, campaign } = await setup('extrace')
      const [a, b] = boxes as [Mailbox, Mailbox]
      const sends = Array.from({ length: 40 }, (_, i) => ({
        key: `race-${i}`,
        mailbox: { id: (i % 2 === 0 ? a : b).id, dayKey: 'D1' },
        campaign: { id: campaign.id, dayKey: 'D1', nextSlotAt: at(i) },
      }))
      const batches = [sends, [...sends].reverse(), sends.slice(10, 30), sends.filter((_, i) => i % 4 === 0)]
      // Reservations run alongside, locking the same campaign and mailbox counts.
      await store.addLeads(
        campaign.id,
        ['p@x.test', 'q@x.test'].map((e) => ({
          email: e,
          emailKey: e,
          firstName: null,
          lastName: null,
          company: null,
          variables: {},
          timezone: null,
          country: null,
          windowKey: '',
        })),
        T0,
      )
      const [results] = await Promise.all([
        Promise.all(batches.flatMap((batch) => [1, 2].map(() => store.recordExternalSends!(batch, T0)))),
        store.reserveSends([request(campaign.id, boxes, T0, { maxEmailsPerDay: 1000 })], T0),
      ])
      expect(results.reduce((n, r) => n + r.recorded, 0)).toBe(40)
      const after = await counts(store, campaign.id, boxes)
      const reservedFrom = (await store.listQueueItems(campaign.id)).filter((i) => i.status === 'sending')
      expect(after.campaign).toBe(40 + reservedFrom.length)
      expect(after.mailboxes[a.id]! + after.mailboxes[b.id]!).toBe(40 + reservedFrom.length)
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toEqual(at(39))
    })
  })

  describe('cancelled completions', () => {
    it('cancel the item with the reason, keep the lead, enqueue nothing, refund, check the lease', async () => {
      const { store, boxes, campaign } = await setup('cancel')
      await store.addLeads(
        campaign.id,
        [
          {
            email: 'v@x.test',
            emailKey: 'v@x.test',
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
      const outcome = await reserve(store, request(campaign.id, boxes, T0), T0)
      if (!outcome.ok) throw new Error(`expected a reservation, got ${outcome.reason}`)
      const { item } = outcome.send
      const cancel = { kind: 'cancelled' as const, itemId: item.id, reason: 'vetoed by beforeSend' }
      expect(await store.completeSends([{ ...cancel, leaseToken: 'someone-else' }], at(1))).toEqual([
        'lease-lost',
      ])
      expect((await store.listQueueItems(campaign.id))[0]!.status).toBe('sending')

      const refund = { campaignDayKey: 'D1', mailboxId: item.mailboxId!, mailboxDayKey: 'D1' }
      expect(await store.completeSends([{ ...cancel, leaseToken: item.leaseToken!, refund }], at(1))).toEqual(
        ['ok'],
      )
      expect(await store.listQueueItems(campaign.id)).toEqual([
        expect.objectContaining({
          id: item.id,
          status: 'cancelled',
          lastError: 'vetoed by beforeSend',
          leaseToken: null,
          leaseUntil: null,
          attempts: 0,
          sentAt: null,
          updatedAt: at(1),
        }),
      ])
      expect(await store.listSendLog(campaign.id)).toEqual([])
      expect((await store.getLead(campaign.id, 'v@x.test'))!.status).toBe('active')
      expect(await counts(store, campaign.id, boxes)).toEqual({
        campaign: 0,
        mailboxes: { [boxes[0]!.id]: 0, [boxes[1]!.id]: 0 },
      })
      // Once decided, a second completion of the same lease is refused.
      expect(await store.completeSends([{ ...cancel, leaseToken: item.leaseToken! }], at(2))).toEqual([
        'lease-lost',
      ])
    })
  })

  async function counts(store: Store, campaignId: string, boxes: Mailbox[], day = 'D1') {
    return store.dayCounts({
      campaignId,
      campaignDayKey: day,
      mailboxes: boxes.map((b) => ({ mailboxId: b.id, dayKey: day })),
    })
  }
})
