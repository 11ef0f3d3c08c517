/**
 * Store contract: window keys (lead time zones and holiday calendars) and skip dates. The store
 * keeps each lead's opaque `windowKey` on its items and filters reservations on the keys core
 * lists; every rule of which key may leave when lives in core.
 */
import { describe, expect, it } from 'vitest'
import type { Mailbox } from '../../../model/types.js'
import type { DueCount, ImportedLead, NewLead, WindowKeyStat } from '../../../store.js'
import { supportsMigration } from '../../../store-kit/index.js'
import type { Fixtures } from './fixtures.js'

const TOKYO = 'Asia/Tokyo|JP'
const WARSAW = 'Europe/Warsaw|PL'
const NEW_YORK = 'America/New_York|'

/** In one order, since a store may answer in any. */
const byKey = (stats: WindowKeyStat[]) => [...stats].sort((a, b) => a.windowKey.localeCompare(b.windowKey))
const byMailboxAndKey = (counts: DueCount[]) =>
  [...counts].sort(
    (a, b) =>
      String(a.mailboxId).localeCompare(String(b.mailboxId)) || a.windowKey.localeCompare(b.windowKey),
  )

export function windowKeyContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, newLead, setup, request, sendOf, reserve, sent } = fixtures

  /** A lead in a zone and country, with the key core would give it. */
  function zonedLead(email: string, windowKey: string): NewLead {
    if (windowKey === '') return newLead(email)
    const [timezone, country] = windowKey.split('|') as [string, string]
    return { ...newLead(email), timezone: timezone || null, country: country || null, windowKey }
  }

  describe('window keys: stored and copied', () => {
    it('addLeads stores the timezone, country and window key, and step 0 carries the key', async () => {
      const { store, campaign } = await setup()
      await store.addLeads(
        campaign.id,
        [zonedLead('a@x.test', TOKYO), zonedLead('b@x.test', NEW_YORK), newLead('c@x.test')],
        T0,
      )
      expect(await store.getLead(campaign.id, 'a@x.test')).toMatchObject({
        timezone: 'Asia/Tokyo',
        country: 'JP',
      })
      expect(await store.getLead(campaign.id, 'b@x.test')).toMatchObject({
        timezone: 'America/New_York',
        country: null,
      })
      expect(await store.getLead(campaign.id, 'c@x.test')).toMatchObject({ timezone: null, country: null })
      const leads = await store.listLeads(campaign.id)
      const emailOf = new Map(leads.map((l) => [l.id, l.email]))
      const items = await store.listQueueItems(campaign.id)
      expect(
        items
          .map((i) => [emailOf.get(i.leadId), i.step, i.windowKey])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      ).toEqual([
        ['a@x.test', 0, TOKYO],
        ['b@x.test', 0, NEW_YORK],
        ['c@x.test', 0, ''],
      ])
    })

    it('the next step enqueued by a sent completion keeps the window key', async () => {
      const { store, mailboxes, campaign } = await setup()
      await store.addLeads(campaign.id, [zonedLead('a@x.test', WARSAW)], T0)
      const first = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      expect(first.item.windowKey).toBe(WARSAW)
      await store.completeSends([sent(first, { next: { step: 1, scheduledAt: at(10) } })], at(1))
      const pending = (await store.listQueueItems(campaign.id)).filter((i) => i.status === 'pending')
      expect(pending).toHaveLength(1)
      expect(pending[0]).toMatchObject({ step: 1, windowKey: WARSAW, mailboxId: mailboxes[0]!.id })
      const followUp = sendOf(
        await reserve(store, request(campaign.id, mailboxes, at(10), { windowKeys: [WARSAW] }), at(10)),
      )
      expect(followUp.item).toMatchObject({ step: 1, windowKey: WARSAW })
    })
  })

  describe('reserveSends with windowKeys', () => {
    it('passes over unlisted items: an older unlisted one never blocks a younger listed one', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [100] })
      await store.addLeads(campaign.id, [zonedLead('tokyo@x.test', TOKYO)], T0)
      await store.addLeads(campaign.id, [newLead('none@x.test')], at(1))
      await store.addLeads(campaign.id, [zonedLead('warsaw@x.test', WARSAW)], at(2))
      const first = sendOf(
        await reserve(
          store,
          request(campaign.id, mailboxes, at(3), { windowKeys: [WARSAW, NEW_YORK] }),
          at(3),
        ),
      )
      expect([first.lead.email, first.item.windowKey]).toEqual(['warsaw@x.test', WARSAW])
      // The key '' (leads with neither zone nor country) is a key like the others.
      const second = sendOf(
        await reserve(store, request(campaign.id, mailboxes, at(3), { windowKeys: [''] }), at(3)),
      )
      expect(second.lead.email).toBe('none@x.test')
      // No key listed: nothing may leave, even with a due item.
      expect(await reserve(store, request(campaign.id, mailboxes, at(3), { windowKeys: [] }), at(3))).toEqual(
        {
          ok: false,
          reason: 'window-closed',
        },
      )
      // Without windowKeys every key may leave.
      const third = sendOf(await reserve(store, request(campaign.id, mailboxes, at(3)), at(3)))
      expect(third.lead.email).toBe('tokyo@x.test')
    })

    it('passes over unlisted sticky items (follow-ups) and unlisted unassigned ones alike', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [100, 100] })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      await store.addLeads(campaign.id, [zonedLead('t@x.test', TOKYO), zonedLead('w@x.test', WARSAW)], T0)
      const t = sendOf(await reserve(store, request(campaign.id, [m0], T0, { windowKeys: [TOKYO] }), T0))
      const w = sendOf(await reserve(store, request(campaign.id, [m1], T0, { windowKeys: [WARSAW] }), T0))
      expect([t.lead.email, w.lead.email]).toEqual(['t@x.test', 'w@x.test'])
      await store.completeSends(
        [
          sent(t, { next: { step: 1, scheduledAt: at(1) } }),
          sent(w, { next: { step: 1, scheduledAt: at(2) } }),
        ],
        T0,
      )
      await store.addLeads(
        campaign.id,
        [zonedLead('t2@x.test', TOKYO), zonedLead('w2@x.test', WARSAW)],
        at(3),
      )
      // Warsaw only: its sticky follow-up (m1), then its unassigned lead; Tokyo's older items wait.
      const keys = { windowKeys: [WARSAW] }
      const a = sendOf(await reserve(store, request(campaign.id, [m0, m1], at(4), keys), at(4)))
      const b = sendOf(await reserve(store, request(campaign.id, [m0, m1], at(4), keys), at(4)))
      expect([a.lead.email, a.item.step, a.item.mailboxId]).toEqual(['w@x.test', 1, m1.id])
      expect([b.lead.email, b.item.step]).toEqual(['w2@x.test', 0])
      // Tokyo's items are pending still and reported by nextPendingAt.
      expect(b.nextPendingAt).toEqual(at(1))
      expect(await reserve(store, request(campaign.id, [m0, m1], at(4), keys), at(4))).toEqual({
        ok: false,
        reason: 'window-closed',
      })
      expect(await store.queueStats(campaign.id)).toMatchObject({ pending: 2 })
    })

    it('refuses in order: queue-empty, window-closed, not-due (until the earliest listed item), mailbox-limit', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [100] })
      const full = mailboxes.map((m) => ({ ...m, dailyEmailLimit: 0 }))
      const keyed = (keys: string[], now: Date, boxes = full) =>
        reserve(store, request(campaign.id, boxes, now, { windowKeys: keys }), now)
      // Nothing pending at all, any key: queue-empty, before window-closed.
      expect(await keyed([], T0)).toEqual({ ok: false, reason: 'queue-empty' })
      expect(await keyed([TOKYO], T0)).toEqual({ ok: false, reason: 'queue-empty' })
      // Tokyo due now, Warsaw due at(20), New York due at(10).
      await store.addLeads(campaign.id, [zonedLead('t@x.test', TOKYO)], T0)
      await store.addLeads(campaign.id, [zonedLead('n@x.test', NEW_YORK)], at(10))
      await store.addLeads(campaign.id, [zonedLead('w@x.test', WARSAW)], at(20))
      // Pending items exist, none listed: window-closed, though mailboxes are full and one is due.
      expect(await keyed([], T0)).toEqual({ ok: false, reason: 'window-closed' })
      expect(await keyed(['Asia/Kolkata|IN'], T0)).toEqual({ ok: false, reason: 'window-closed' })
      // not-due until the earliest listed item, not the earliest of all (Tokyo's, due now).
      expect(await keyed([WARSAW], T0)).toEqual({ ok: false, reason: 'not-due', until: at(20) })
      expect(await keyed([WARSAW, NEW_YORK], T0)).toEqual({ ok: false, reason: 'not-due', until: at(10) })
      // Due and listed, but no mailbox with room: mailbox-limit.
      expect(await keyed([NEW_YORK], at(10))).toEqual({ ok: false, reason: 'mailbox-limit' })
      expect(await keyed([TOKYO], T0)).toEqual({ ok: false, reason: 'mailbox-limit' })
      // campaign-limit still comes before window-closed.
      expect(
        await reserve(store, request(campaign.id, full, T0, { windowKeys: [], maxEmailsPerDay: 0 }), T0),
      ).toEqual({ ok: false, reason: 'campaign-limit' })
      // A refused reservation changed nothing.
      expect(await store.queueStats(campaign.id)).toMatchObject({ pending: 3, sending: 0 })
      const taken = sendOf(await keyed([NEW_YORK], at(10), mailboxes))
      expect(taken.lead.email).toBe('n@x.test')
    })
  })

  describe('listWindowKeys', () => {
    it('lists the distinct keys of pending items with the earliest scheduledAt of each', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [100] })
      expect(await store.listWindowKeys(campaign.id)).toEqual([])
      expect(await store.listWindowKeys('nope')).toEqual([])
      await store.addLeads(campaign.id, [zonedLead('t1@x.test', TOKYO), newLead('a@x.test')], at(5))
      await store.addLeads(
        campaign.id,
        [zonedLead('t2@x.test', TOKYO), zonedLead('w1@x.test', WARSAW)],
        at(2),
      )
      await store.addLeads(campaign.id, [zonedLead('w2@x.test', WARSAW)], at(9))
      // Another campaign's keys never show.
      const other = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(other.id, [zonedLead('n@x.test', NEW_YORK)], T0)
      expect(byKey(await store.listWindowKeys(campaign.id))).toEqual([
        { windowKey: '', nextAt: at(5) },
        { windowKey: TOKYO, nextAt: at(2) },
        { windowKey: WARSAW, nextAt: at(2) },
      ])
      expect(await store.listWindowKeys(other.id)).toEqual([{ windowKey: NEW_YORK, nextAt: T0 }])
    })

    it('counts only pending items: sending, sent and stopped ones leave their key', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [100] })
      await store.addLeads(campaign.id, [zonedLead('t@x.test', TOKYO), zonedLead('w@x.test', WARSAW)], T0)
      await store.addLeads(campaign.id, [newLead('a@x.test')], at(1))
      const t = sendOf(await reserve(store, request(campaign.id, mailboxes, T0, { windowKeys: [TOKYO] }), T0))
      await store.stopLead(campaign.id, 'a@x.test', 'replied', 'lead replied', T0)
      // Tokyo is sending, '' is cancelled: only Warsaw is left.
      expect(await store.listWindowKeys(campaign.id)).toEqual([{ windowKey: WARSAW, nextAt: T0 }])
      // Its follow-up brings Tokyo back, at the follow-up's time.
      await store.completeSends([sent(t, { next: { step: 1, scheduledAt: at(30) } })], at(1))
      expect(byKey(await store.listWindowKeys(campaign.id))).toEqual([
        { windowKey: TOKYO, nextAt: at(30) },
        { windowKey: WARSAW, nextAt: T0 },
      ])
      const w = sendOf(
        await reserve(store, request(campaign.id, mailboxes, at(2), { windowKeys: [WARSAW] }), at(2)),
      )
      await store.completeSends([sent(w)], at(2))
      expect(await store.listWindowKeys(campaign.id)).toEqual([{ windowKey: TOKYO, nextAt: at(30) }])
    })
  })

  describe('countDueByMailbox by window key', () => {
    it('has one entry per (mailboxId, windowKey) of due pending items', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [100, 100] })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      await store.addLeads(
        campaign.id,
        [
          zonedLead('t1@x.test', TOKYO),
          zonedLead('t2@x.test', TOKYO),
          zonedLead('t3@x.test', TOKYO),
          zonedLead('w1@x.test', WARSAW),
          newLead('a1@x.test'),
        ],
        T0,
      )
      // t1 leaves from m0 and w1 from m1, each with a follow-up on its mailbox.
      const t1 = sendOf(await reserve(store, request(campaign.id, [m0], T0, { windowKeys: [TOKYO] }), T0))
      const w1 = sendOf(await reserve(store, request(campaign.id, [m1], T0, { windowKeys: [WARSAW] }), T0))
      await store.completeSends(
        [
          sent(t1, { next: { step: 1, scheduledAt: at(5) } }),
          sent(w1, { next: { step: 1, scheduledAt: at(5) } }),
        ],
        at(1),
      )
      await store.addLeads(campaign.id, [zonedLead('w2@x.test', WARSAW)], at(10))
      expect(byMailboxAndKey(await store.countDueByMailbox(campaign.id, at(5)))).toEqual(
        byMailboxAndKey([
          { mailboxId: null, windowKey: TOKYO, count: 2 },
          { mailboxId: null, windowKey: '', count: 1 },
          { mailboxId: m0.id, windowKey: TOKYO, count: 1 },
          { mailboxId: m1.id, windowKey: WARSAW, count: 1 },
        ]),
      )
      expect(byMailboxAndKey(await store.countDueByMailbox(campaign.id, at(10)))).toEqual(
        byMailboxAndKey([
          { mailboxId: null, windowKey: TOKYO, count: 2 },
          { mailboxId: null, windowKey: WARSAW, count: 1 },
          { mailboxId: null, windowKey: '', count: 1 },
          { mailboxId: m0.id, windowKey: TOKYO, count: 1 },
          { mailboxId: m1.id, windowKey: WARSAW, count: 1 },
        ]),
      )
    })
  })

  describe('deferrals and skip dates', () => {
    it('addLeads forgets the campaign deferral (when a store has deferCampaigns and listDueCampaigns)', async () => {
      const { store, mailboxes, campaign } = await setup()
      if (!store.listDueCampaigns || !store.deferCampaigns) return
      await store.addLeads(campaign.id, [zonedLead('t@x.test', TOKYO)], T0)
      const other = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(other.id, [zonedLead('t@x.test', TOKYO)], T0)
      await store.setCampaignStatus(other.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const ids = async (now: Date) =>
        (await store.listDueCampaigns!(now, { dueBefore: now })).campaigns.map((r) => r.campaign.id).sort()
      const defer = async (id: string) => {
        const current = (await store.getCampaign(id))!
        return { campaignId: id, until: at(600), settingsVersion: current.settingsVersion }
      }
      await store.deferCampaigns([await defer(campaign.id), await defer(other.id)], T0)
      expect(await ids(at(1))).toEqual([])
      // A Warsaw lead may be in its window while Tokyo's is closed: the campaign is listed again.
      await store.addLeads(campaign.id, [zonedLead('w@x.test', WARSAW)], at(2))
      expect(await ids(at(2))).toEqual([campaign.id])
      // Only the campaign that got a lead: the other stays deferred.
      expect(await ids(at(3))).toEqual([campaign.id])
    })

    it('importLeads (when a store has it) copies the key to history and next step, and forgets the deferral', async () => {
      const { store, mailboxes, campaign } = await setup()
      if (!supportsMigration(store)) return
      const box = mailboxes[0]!.id
      const imported: ImportedLead = {
        ...zonedLead('t@x.test', TOKYO),
        status: 'active',
        history: [{ step: 0, sentAt: at(-60), mailboxId: box, messageId: '<legacy.t>', subject: 'Hi Jan' }],
        next: {
          step: 1,
          scheduledAt: at(30),
          mailboxId: box,
          references: ['<legacy.t>'],
          threadSubject: 'Hi Jan',
        },
      }
      await store.addLeads(campaign.id, [zonedLead('w@x.test', WARSAW)], T0)
      const deferrable = store.listDueCampaigns && store.deferCampaigns
      if (deferrable) {
        const current = (await store.getCampaign(campaign.id))!
        await store.deferCampaigns!(
          [{ campaignId: campaign.id, until: at(600), settingsVersion: current.settingsVersion }],
          T0,
        )
      }
      await store.importLeads(campaign.id, [imported], at(1))
      expect(await store.getLead(campaign.id, 't@x.test')).toMatchObject({
        timezone: 'Asia/Tokyo',
        country: 'JP',
      })
      const items = (await store.listQueueItems(campaign.id)).filter((i) => i.step === 0 || i.step === 1)
      const lead = (await store.getLead(campaign.id, 't@x.test'))!
      expect(
        items
          .filter((i) => i.leadId === lead.id)
          .map((i) => [i.step, i.status, i.windowKey])
          .sort(),
      ).toEqual([
        [0, 'sent', TOKYO],
        [1, 'pending', TOKYO],
      ])
      expect(byKey(await store.listWindowKeys(campaign.id))).toEqual([
        { windowKey: TOKYO, nextAt: at(30) },
        { windowKey: WARSAW, nextAt: T0 },
      ])
      if (deferrable) {
        const listed = await store.listDueCampaigns!(at(2), { dueBefore: at(2) })
        expect(listed.campaigns.map((r) => r.campaign.id)).toEqual([campaign.id])
      }
    })

    it('mailbox and campaign skipDates round-trip through create and update', async () => {
      const { store, mailboxes, campaign } = await setup()
      expect(mailboxes[0]!.skipDates).toEqual([])
      expect(campaign).toMatchObject({ skipDates: [], windowTimezone: 'campaign' })
      const box = await store.createMailbox(
        {
          email: 'frozen@acme.test',
          name: null,
          dailyEmailLimit: 5,
          timezone: 'Europe/Warsaw',
          skipDates: ['2026-03-09', '2026-12-24'],
        },
        T0,
      )
      expect(box.skipDates).toEqual(['2026-03-09', '2026-12-24'])
      expect((await store.getMailboxes([box.id]))[0]!.skipDates).toEqual(['2026-03-09', '2026-12-24'])
      await store.updateMailbox(box.id, { skipDates: ['2026-05-01'] }, at(1))
      expect((await store.getMailboxes([box.id]))[0]!.skipDates).toEqual(['2026-05-01'])
      await store.updateMailbox(box.id, { skipDates: [] }, at(2))
      expect((await store.getMailboxes([box.id]))[0]!.skipDates).toEqual([])

      const zoned = await store.createCampaign(
        newCampaign([box.id], { windowTimezone: 'lead', skipDates: ['2026-03-09'] }),
        T0,
      )
      expect(zoned).toMatchObject({ windowTimezone: 'lead', skipDates: ['2026-03-09'] })
      expect(await store.getCampaign(zoned.id)).toMatchObject({
        windowTimezone: 'lead',
        skipDates: ['2026-03-09'],
      })
      await store.updateCampaign(
        zoned.id,
        { skipDates: ['2026-04-06', '2026-05-01'], windowTimezone: 'campaign' },
        at(1),
      )
      expect(await store.getCampaign(zoned.id)).toMatchObject({
        windowTimezone: 'campaign',
        skipDates: ['2026-04-06', '2026-05-01'],
      })
      // A change of anything else keeps them.
      await store.updateCampaign(zoned.id, { name: 'renamed' }, at(2))
      expect(await store.getCampaign(zoned.id)).toMatchObject({ skipDates: ['2026-04-06', '2026-05-01'] })
    })
  })
}
