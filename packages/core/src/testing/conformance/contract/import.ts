/**
 * Store contract for migrations: campaigns keyed by `externalId`, `importLeads`, `listLeads`,
 * `recordExternalSends`, and `cancelled` completions (a send the host vetoed).
 */
import { describe, expect, it } from 'vitest'
import type { ImportedLead, Store } from '../../../store.js'
import { migrating } from '../migrating.js'
import type { Fixtures } from './fixtures.js'

export function importContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, newLead, setup, request, sendOf, reserve, sent } = fixtures

  /** A lead that the other system mailed step 0 to from `mailboxId`, with step 1 due at `dueAt`. */
  function midway(email: string, mailboxId: string, dueAt: Date): ImportedLead {
    return {
      ...newLead(email),
      status: 'active',
      history: [{ step: 0, sentAt: at(-60), mailboxId, messageId: `<legacy.${email}>`, subject: 'Hi Jan' }],
      next: {
        step: 1,
        scheduledAt: dueAt,
        mailboxId,
        references: [`<legacy.${email}>`],
        threadSubject: 'Hi Jan',
      },
    }
  }

  describe('campaigns with an externalId', () => {
    it('creates one campaign per externalId, however many callers race', async () => {
      const { store, mailboxes } = await setup({ start: false })
      const input = newCampaign(
        mailboxes.map((m) => m.id),
        { externalId: 'legacy-7' },
      )
      const created = await Promise.all([1, 2, 3, 4].map(() => store.createCampaign(input, T0)))
      expect(new Set(created.map((c) => c.id)).size).toBe(1)
      expect(created[0]).toMatchObject({ externalId: 'legacy-7', status: 'DRAFT' })
      expect(await migrating(store).getCampaignByExternalId('legacy-7')).toMatchObject({ id: created[0]!.id })
      expect(await migrating(store).getCampaignByExternalId('legacy-8')).toBeNull()
    })

    it('leaves externalId null when none is given, and allows many such campaigns', async () => {
      const { store, mailboxes, campaign } = await setup({ start: false })
      expect(campaign.externalId).toBeNull()
      const other = await store.createCampaign(newCampaign(mailboxes.map((m) => m.id)), T0)
      expect(other.id).not.toBe(campaign.id)
      expect(other.externalId).toBeNull()
    })
  })

  describe('importLeads', () => {
    it('brings in history as sent, never reserved again, and the next step on its mailbox and thread', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10] })
      const sticky = mailboxes[1]!.id
      const outcome = await migrating(store).importLeads(
        campaign.id,
        [
          midway('a@x.test', sticky, at(30)),
          { ...newLead('b@x.test'), status: 'active', history: [], next: null },
          {
            ...newLead('c@x.test'),
            status: 'replied',
            history: [{ step: 0, sentAt: at(-90), mailboxId: sticky, messageId: '<c0>', subject: 'Hi' }],
            next: null,
          },
        ],
        T0,
      )
      expect(outcome.imported.map((l) => [l.email, l.status])).toEqual([
        ['a@x.test', 'active'],
        ['b@x.test', 'active'],
        ['c@x.test', 'replied'],
      ])
      expect(outcome.existing).toEqual([])
      expect(outcome.suppressed).toEqual([])

      const items = await store.listQueueItems(campaign.id)
      const a = outcome.imported[0]!
      expect(items.filter((i) => i.leadId === a.id)).toEqual([
        expect.objectContaining({
          step: 0,
          status: 'sent',
          sentAt: at(-60),
          mailboxId: sticky,
          messageId: '<legacy.a@x.test>',
        }),
        expect.objectContaining({
          step: 1,
          status: 'pending',
          scheduledAt: at(30),
          mailboxId: sticky,
          references: ['<legacy.a@x.test>'],
          threadSubject: 'Hi Jan',
          attempts: 0,
        }),
      ])
      const log = await store.listSendLog(campaign.id)
      expect(log.map((e) => [e.to, e.step, e.messageId, e.sentAt.getTime()])).toEqual(
        expect.arrayContaining([
          ['a@x.test', 0, '<legacy.a@x.test>', at(-60).getTime()],
          ['c@x.test', 0, '<c0>', at(-90).getTime()],
        ]),
      )
      expect(log).toHaveLength(2)

      // Nothing is due now: the imported step 0 is sent, step 1 waits for its time.
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toMatchObject({
        ok: false,
        reason: 'not-due',
      })
      // At its time, step 1 leaves from the lead's mailbox only, in its thread.
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, at(30)), at(30)))
      expect(send.item).toMatchObject({ step: 1, mailboxId: sticky, references: ['<legacy.a@x.test>'] })
      expect(await reserve(store, request(campaign.id, mailboxes, at(30)), at(30))).toMatchObject({
        ok: false,
        reason: 'queue-empty',
      })
    })

    it('does not touch day counts', async () => {
      const { store, mailboxes, campaign } = await setup()
      await migrating(store).importLeads(campaign.id, [midway('a@x.test', mailboxes[0]!.id, at(30))], T0)
      const counts = await store.dayCounts({
        campaignId: campaign.id,
        campaignDayKey: 'D1',
        mailboxes: [{ mailboxId: mailboxes[0]!.id, dayKey: 'D1' }],
      })
      expect(counts).toEqual({ campaign: 0, mailboxes: { [mailboxes[0]!.id]: 0 } })
    })

    it('changes nothing for leads already in the campaign, added or imported', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['added@x.test'] })
      const lead = midway('a@x.test', mailboxes[0]!.id, at(30))
      await migrating(store).importLeads(campaign.id, [lead], T0)
      const before = await store.listQueueItems(campaign.id)
      const again = await migrating(store).importLeads(
        campaign.id,
        [
          { ...lead, email: 'A@X.test' },
          { ...newLead('added@x.test'), status: 'active', history: [], next: null },
        ],
        at(5),
      )
      expect(again).toEqual({
        imported: [],
        existing: ['a@x.test', 'added@x.test'],
        suppressed: [],
        advanced: [],
        stale: [],
      })
      expect(await store.listQueueItems(campaign.id)).toEqual(before)
      expect(await store.listSendLog(campaign.id)).toHaveLength(1)
    })

    it('refuses suppressed addresses', async () => {
      const { store, mailboxes, campaign } = await setup()
      await store.suppress('a@x.test', 'unsubscribed', T0)
      const outcome = await migrating(store).importLeads(
        campaign.id,
        [midway('a@x.test', mailboxes[0]!.id, at(30)), midway('b@x.test', mailboxes[0]!.id, at(30))],
        T0,
      )
      expect(outcome.suppressed).toEqual(['a@x.test'])
      expect(outcome.imported.map((l) => l.email)).toEqual(['b@x.test'])
      expect(await store.getLead(campaign.id, 'a@x.test')).toBeNull()
    })

    it('imports each address once when callers race', async () => {
      const { store, mailboxes, campaign } = await setup()
      const leads = ['a@x.test', 'b@x.test', 'c@x.test'].map((e) => midway(e, mailboxes[0]!.id, at(30)))
      const outcomes = await Promise.all(
        [1, 2, 3].map(() => migrating(store).importLeads(campaign.id, leads, T0)),
      )
      expect(outcomes.flatMap((o) => o.imported.map((l) => l.email)).sort()).toEqual([
        'a@x.test',
        'b@x.test',
        'c@x.test',
      ])
      expect(await store.listSendLog(campaign.id)).toHaveLength(3)
      expect((await store.queueStats(campaign.id)).pending).toBe(3)
    })
  })

  describe('importLeads with advance (a re-import moving leads forward)', () => {
    /** A three-step campaign with lead a@x.test imported midway: step 0 sent, step 1 pending at `dueAt`. */
    async function midwayCampaign(dueAt = at(30)) {
      const { store, mailboxes } = await setup({ limits: [10, 10], start: false })
      const base = newCampaign(
        mailboxes.map((m) => m.id),
        {
          steps: [
            { subject: 'Hi {{firstName}}', text: 'Hello' },
            { delayDays: 3, text: 'Following up' },
            { delayDays: 4, text: 'Last one' },
          ],
        },
      )
      let campaign = await store.createCampaign(base, T0)
      campaign = (await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0))!
        .campaign
      const sticky = mailboxes[1]!.id
      await migrating(store).importLeads(campaign.id, [midway('a@x.test', sticky, dueAt)], T0)
      return { store, mailboxes, campaign, sticky }
    }

    /** The other system sent step 1 at `sentAt`: recorded as sent, step 2 due four days later. */
    function aheadByOne(sticky: string, sentAt: Date, lastSentStep: number | null = 0): ImportedLead {
      return {
        ...newLead('a@x.test'),
        status: 'active',
        history: [{ step: 1, sentAt, mailboxId: sticky, messageId: '<legacy.1>', subject: 'Re: Hi Jan' }],
        next: {
          step: 2,
          scheduledAt: new Date(sentAt.getTime() + 4 * 86_400_000),
          mailboxId: sticky,
          references: ['<legacy.a@x.test>', '<legacy.1>'],
          threadSubject: 'Hi Jan',
        },
        advance: { lastSentStep },
      }
    }

    it('records the steps the other system sent and replaces the pending step by the next one', async () => {
      const { store, mailboxes, campaign, sticky } = await midwayCampaign(T0)
      const outcome = await migrating(store).importLeads(campaign.id, [aheadByOne(sticky, at(-10))], at(1))
      expect(outcome).toMatchObject({ imported: [], existing: [], advanced: ['a@x.test'], stale: [] })
      const items = await store.listQueueItems(campaign.id)
      expect(items.filter((i) => i.status !== 'cancelled').map((i) => [i.step, i.status])).toEqual([
        [0, 'sent'],
        [1, 'sent'],
        [2, 'pending'],
      ])
      expect(items.find((i) => i.step === 1)).toMatchObject({
        status: 'sent',
        sentAt: at(-10),
        mailboxId: sticky,
        messageId: '<legacy.1>',
      })
      expect(items.find((i) => i.step === 2)).toMatchObject({
        scheduledAt: new Date(at(-10).getTime() + 4 * 86_400_000),
        mailboxId: sticky,
        references: ['<legacy.a@x.test>', '<legacy.1>'],
        threadSubject: 'Hi Jan',
      })
      expect((await store.listSendLog(campaign.id)).map((e) => [e.step, e.messageId, e.sentAt])).toEqual([
        [0, '<legacy.a@x.test>', at(-60)],
        [1, '<legacy.1>', at(-10)],
      ])
      // Step 1 was due now: it is gone from the queue, so nothing is sent twice.
      expect(await reserve(store, request(campaign.id, mailboxes, at(2)), at(2))).toMatchObject({
        ok: false,
        reason: 'not-due',
      })
      expect((await store.getLead(campaign.id, 'a@x.test'))!.status).toBe('active')
    })

    it('stops a lead the other system stopped, cancelling its pending step', async () => {
      const { store, mailboxes, campaign } = await midwayCampaign(T0)
      const replied: ImportedLead = {
        ...newLead('a@x.test'),
        status: 'replied',
        history: [],
        next: null,
        advance: { lastSentStep: 0 },
      }
      expect((await migrating(store).importLeads(campaign.id, [replied], at(1))).advanced).toEqual([
        'a@x.test',
      ])
      expect((await store.getLead(campaign.id, 'a@x.test'))!.status).toBe('replied')
      expect((await store.queueStats(campaign.id)).pending).toBe(0)
      expect(await reserve(store, request(campaign.id, mailboxes, at(2)), at(2))).toMatchObject({
        ok: false,
        reason: 'queue-empty',
      })
    })

    it('changes nothing when the lead moved since core read it (stale)', async () => {
      const { store, mailboxes, campaign, sticky } = await midwayCampaign(T0)
      const before = await store.listQueueItems(campaign.id)
      // Core read "nothing sent" but step 0 is sent here.
      const outcome = await migrating(store).importLeads(
        campaign.id,
        [aheadByOne(sticky, at(-10), null)],
        at(1),
      )
      expect(outcome).toMatchObject({ advanced: [], stale: ['a@x.test'], existing: [] })
      expect(await store.listQueueItems(campaign.id)).toEqual(before)
      // A lead with a send in flight is not moved either.
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, at(2)), at(2)))
      expect(
        (await migrating(store).importLeads(campaign.id, [aheadByOne(sticky, at(-10))], at(3))).stale,
      ).toEqual(['a@x.test'])
      expect(await store.completeSends([sent(send)], at(4))).toEqual(['ok'])
      // Nor a lead that is no longer active.
      await store.stopLead(campaign.id, 'a@x.test', 'replied', 'replied', at(5))
      const late = { ...aheadByOne(sticky, at(-10), 1), history: [] }
      expect((await migrating(store).importLeads(campaign.id, [late], at(6))).stale).toEqual(['a@x.test'])
      expect((await store.listSendLog(campaign.id)).map((e) => e.step)).toEqual([0, 1])
    })

    it('imports a lead given with advance that is not in the campaign yet', async () => {
      const { store, campaign, sticky } = await midwayCampaign()
      const fresh = { ...aheadByOne(sticky, at(-10)), ...newLead('new@x.test') }
      const outcome = await migrating(store).importLeads(campaign.id, [fresh], at(1))
      expect(outcome.imported.map((l) => l.email)).toEqual(['new@x.test'])
      expect(outcome.advanced).toEqual([])
    })

    it('never yields a duplicate when a send completes concurrently with an advance', async () => {
      const emails = ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test', 'e@x.test', 'f@x.test']
      const { store, mailboxes, campaign, sticky } = await midwayCampaign(T0)
      await migrating(store).importLeads(
        campaign.id,
        emails.slice(1).map((e) => midway(e, sticky, T0)),
        T0,
      )
      // Each lead's step 1 is due: the engine sends it while an import says the other system did.
      const advances = emails.map((email) => ({ ...aheadByOne(sticky, at(-10)), ...newLead(email) }))
      const sendAll = async () => {
        for (let i = 0; i < emails.length; i++) {
          const outcome = await reserve(store, request(campaign.id, mailboxes, at(1)), at(1))
          if (!outcome.ok) return
          await store.completeSends([sent(outcome.send, { next: { step: 2, scheduledAt: at(9000) } })], at(1))
        }
      }
      const [, outcome] = await Promise.all([
        sendAll(),
        Promise.all(advances.map((lead) => migrating(store).importLeads(campaign.id, [lead], at(1)))),
      ])
      const merged = outcome.flatMap((o) => [...o.advanced, ...o.stale])
      expect(merged.sort()).toEqual([...emails].sort())
      const log = await store.listSendLog(campaign.id)
      const pairs = log.map((e) => `${e.leadId}:${e.step}`)
      expect(new Set(pairs).size).toBe(pairs.length)
      expect(log).toHaveLength(emails.length * 2)
      // Every lead has step 2 pending once, whichever side recorded step 1.
      const pending = (await store.listQueueItems(campaign.id)).filter((i) => i.status === 'pending')
      expect(pending.map((i) => i.step)).toEqual(emails.map(() => 2))
    })
  })

  describe('pacing refunds and sends recorded as made earlier', () => {
    it("give back the pacing slot a reservation set, only while it is still the campaign's", async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const slot = at(10)
      const first = sendOf(
        await reserve(store, request(campaign.id, mailboxes, T0, { nextSlotAt: slot }), T0),
      )
      const refund = {
        campaignDayKey: 'D1',
        mailboxId: first.item.mailboxId!,
        mailboxDayKey: 'D1',
        nextSlotAt: slot,
      }
      const cancel = (send: typeof first, r: typeof refund) =>
        store.completeSends(
          [
            {
              kind: 'cancelled',
              itemId: send.item.id,
              leaseToken: send.item.leaseToken!,
              reason: 'vetoed',
              refund: r,
            },
          ],
          at(1),
        )
      expect(await cancel(first, refund)).toEqual(['ok'])
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toBeNull()
      // The slot is free again: the next email may leave at once.
      const second = sendOf(
        await reserve(store, request(campaign.id, mailboxes, at(1), { nextSlotAt: at(20) }), at(1)),
      )
      // A later slot (here an external send's) is kept.
      await migrating(store).recordExternalSends(
        [{ key: 'x1', campaign: { id: campaign.id, dayKey: 'D1', nextSlotAt: at(30) } }],
        at(2),
      )
      expect(await cancel(second, { ...refund, nextSlotAt: at(20) })).toEqual(['ok'])
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toEqual(at(30))
    })

    it('record a sent completion at the sentAt and on the mailbox given, the thread going on from it', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10], leads: ['a@x.test'] })
      const send = sendOf(await reserve(store, request(campaign.id, [mailboxes[0]!], T0), T0))
      const other = mailboxes[1]!.id
      const completion = sent(send, {
        messageId: '<legacy.0>',
        sentAt: at(-600),
        mailboxId: other,
        next: { step: 1, scheduledAt: at(-600 + 3 * 1440) },
        refund: { campaignDayKey: 'D1', mailboxId: mailboxes[0]!.id, mailboxDayKey: 'D1' },
      })
      expect(await store.completeSends([completion], at(1))).toEqual(['ok'])
      const items = await store.listQueueItems(campaign.id)
      expect(items[0]).toMatchObject({
        status: 'sent',
        sentAt: at(-600),
        mailboxId: other,
        messageId: '<legacy.0>',
      })
      expect(items[1]).toMatchObject({
        step: 1,
        status: 'pending',
        scheduledAt: at(-600 + 3 * 1440),
        mailboxId: other,
        references: ['<legacy.0>'],
      })
      expect(await store.listSendLog(campaign.id)).toEqual([
        expect.objectContaining({ step: 0, sentAt: at(-600), mailboxId: other, messageId: '<legacy.0>' }),
      ])
      expect(
        await store.dayCounts({
          campaignId: campaign.id,
          campaignDayKey: 'D1',
          mailboxes: mailboxes.map((m) => ({ mailboxId: m.id, dayKey: 'D1' })),
        }),
      ).toEqual({ campaign: 0, mailboxes: { [mailboxes[0]!.id]: 0, [other]: 0 } })
    })

    it('keep the day counts a partial refund does not name', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const refund = { mailboxId: send.item.mailboxId!, mailboxDayKey: 'D1' }
      expect(await store.completeSends([sent(send, { sentAt: at(-5), refund })], at(1))).toEqual(['ok'])
      const counts = await store.dayCounts({
        campaignId: campaign.id,
        campaignDayKey: 'D1',
        mailboxes: [{ mailboxId: refund.mailboxId, dayKey: 'D1' }],
      })
      expect(counts).toEqual({ campaign: 1, mailboxes: { [refund.mailboxId]: 0 } })
    })
  })

  describe('listLeads', () => {
    it('lists added and imported leads, oldest first', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      await migrating(store).importLeads(campaign.id, [midway('c@x.test', mailboxes[0]!.id, at(30))], at(1))
      const leads = await store.listLeads(campaign.id)
      expect(leads.map((l) => [l.email, l.campaignId])).toEqual([
        ['a@x.test', campaign.id],
        ['b@x.test', campaign.id],
        ['c@x.test', campaign.id],
      ])
      expect(leads[0]).toMatchObject({ firstName: 'Jan', variables: { city: 'Warsaw' }, status: 'active' })
      expect(await store.listLeads(`${campaign.id}9`)).toEqual([])
    })
  })

  describe('recordExternalSends', () => {
    const counts = (store: Store, campaignId: string, mailboxId: string, day = 'D1') =>
      store.dayCounts({ campaignId, campaignDayKey: day, mailboxes: [{ mailboxId, dayKey: day }] })

    it('counts each key once toward the mailbox and campaign days, and moves pacing forward', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [3] })
      const mailboxId = mailboxes[0]!.id
      const send = (key: string, nextSlotAt: Date | null) => ({
        key,
        mailbox: { id: mailboxId, dayKey: 'D1' },
        campaign: { id: campaign.id, dayKey: 'D1', nextSlotAt },
      })
      expect(await migrating(store).recordExternalSends([send('k1', at(2)), send('k2', at(5))], T0)).toEqual({
        recorded: 2,
      })
      expect(await migrating(store).recordExternalSends([send('k1', at(2)), send('k2', at(5))], T0)).toEqual({
        recorded: 0,
      })
      expect(await counts(store, campaign.id, mailboxId)).toEqual({
        campaign: 2,
        mailboxes: { [mailboxId]: 2 },
      })
      // An earlier slot never moves pacing back.
      await migrating(store).recordExternalSends([send('k3', at(1))], T0)
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toEqual(at(5))
      await store.addLeads(campaign.id, ['a@x.test', 'b@x.test'].map(newLead), T0)
      expect(await reserve(store, request(campaign.id, mailboxes, at(1)), at(1))).toMatchObject({
        ok: false,
        reason: 'pacing',
        until: at(5),
      })
      // Three sends counted against a limit of three: the mailbox is full for the day.
      expect(await reserve(store, request(campaign.id, mailboxes, at(5)), at(5))).toMatchObject({
        ok: false,
        reason: 'mailbox-limit',
      })
    })

    it('counts a campaign without a mailbox', async () => {
      const { store, mailboxes, campaign } = await setup()
      const mailboxId = mailboxes[0]!.id
      const send = { key: 'k', campaign: { id: campaign.id, dayKey: 'D1', nextSlotAt: null } }
      expect(await migrating(store).recordExternalSends([send], T0)).toEqual({ recorded: 1 })
      expect(await counts(store, campaign.id, mailboxId)).toEqual({
        campaign: 1,
        mailboxes: { [mailboxId]: 0 },
      })
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toBeNull()
    })

    it('counts over the limit (the send has happened) and without a campaign', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [1] })
      const mailboxId = mailboxes[0]!.id
      const sends = ['a', 'b', 'c'].map((key) => ({ key, mailbox: { id: mailboxId, dayKey: 'D1' } }))
      expect(await migrating(store).recordExternalSends(sends, T0)).toEqual({ recorded: 3 })
      expect(await counts(store, campaign.id, mailboxId)).toEqual({
        campaign: 0,
        mailboxes: { [mailboxId]: 3 },
      })
    })

    it('records a key once when callers race', async () => {
      const { store, mailboxes, campaign } = await setup()
      const mailboxId = mailboxes[0]!.id
      const sends = ['a', 'b', 'c', 'd'].map((key) => ({
        key,
        mailbox: { id: mailboxId, dayKey: 'D1' },
        campaign: { id: campaign.id, dayKey: 'D1', nextSlotAt: null },
      }))
      const results = await Promise.all([1, 2, 3].map(() => migrating(store).recordExternalSends(sends, T0)))
      expect(results.reduce((n, r) => n + r.recorded, 0)).toBe(4)
      expect(await counts(store, campaign.id, mailboxId)).toEqual({
        campaign: 4,
        mailboxes: { [mailboxId]: 4 },
      })
    })
  })

  describe('cancelled completions', () => {
    it('cancel the item, keep the lead active, enqueue nothing and refund the counts', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const refund = { campaignDayKey: 'D1', mailboxId: send.item.mailboxId!, mailboxDayKey: 'D1' }
      const outcome = await store.completeSends(
        [
          {
            kind: 'cancelled',
            itemId: send.item.id,
            leaseToken: send.item.leaseToken!,
            reason: 'skipped-already-sent',
            refund,
          },
        ],
        at(1),
      )
      expect(outcome).toEqual(['ok'])
      expect(await store.listQueueItems(campaign.id)).toEqual([
        expect.objectContaining({ status: 'cancelled', lastError: 'skipped-already-sent', leaseToken: null }),
      ])
      expect(await store.listSendLog(campaign.id)).toEqual([])
      expect((await store.getLead(campaign.id, 'a@x.test'))!.status).toBe('active')
      expect(
        await store.dayCounts({
          campaignId: campaign.id,
          campaignDayKey: 'D1',
          mailboxes: [{ mailboxId: refund.mailboxId, dayKey: 'D1' }],
        }),
      ).toEqual({ campaign: 0, mailboxes: { [refund.mailboxId]: 0 } })
    })

    it('are refused under a lost lease', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const cancel = { kind: 'cancelled' as const, itemId: send.item.id, reason: 'vetoed' }
      expect(await store.completeSends([{ ...cancel, leaseToken: 'other' }], T0)).toEqual(['lease-lost'])
      expect((await store.listQueueItems(campaign.id))[0]!.status).toBe('sending')
    })
  })
}
