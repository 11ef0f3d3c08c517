/** Store contract: reservation: skip reasons in order, and what a reservation takes. */
import { describe, expect, it } from 'vitest'
import type { Mailbox } from '../../../model/types.js'
import type { Fixtures } from './fixtures.js'

export function reserveContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, newLead, setup, request, sendOf, reserve, sent } = fixtures
  describe('reserveSends: skip reasons, in order', () => {
    it('not-running for a campaign that is not IN_PROGRESS or does not exist, before anything else', async () => {
      const { store, mailboxes, campaign } = await setup({ start: false })
      // Also paced, over its cap and empty: not-running still wins.
      const req = request(campaign.id, mailboxes, T0, { maxEmailsPerDay: 0 })
      expect(await reserve(store, req, T0)).toEqual({ ok: false, reason: 'not-running' })
      expect(await reserve(store, request('nope', mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'not-running',
      })
    })

    it('pacing (until nextSlotAt) before campaign-limit', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      sendOf(await reserve(store, request(campaign.id, mailboxes, T0, { nextSlotAt: at(2) }), T0))
      const refused = await reserve(
        store,
        request(campaign.id, mailboxes, at(1), { maxEmailsPerDay: 1 }),
        at(1),
      )
      expect(refused).toEqual({ ok: false, reason: 'pacing', until: at(2) })
      // At nextSlotAt exactly, pacing lets it through and the cap is next.
      const capped = await reserve(
        store,
        request(campaign.id, mailboxes, at(2), { maxEmailsPerDay: 1 }),
        at(2),
      )
      expect(capped).toEqual({ ok: false, reason: 'campaign-limit' })
    })

    it('campaign-limit before queue-empty', async () => {
      const { store, mailboxes, campaign } = await setup()
      expect(await reserve(store, request(campaign.id, mailboxes, T0, { maxEmailsPerDay: 0 }), T0)).toEqual({
        ok: false,
        reason: 'campaign-limit',
      })
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'queue-empty',
      })
    })

    it('queue-empty counts only pending items (a sending one is not enough)', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'queue-empty',
      })
    })

    it('not-due until the earliest scheduledAt, before mailbox-limit', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'], now: at(30) })
      // All mailboxes full too: not-due still wins because nothing is due.
      const full = mailboxes.map((m) => ({ ...m, dailyEmailLimit: 0 }))
      expect(await reserve(store, request(campaign.id, full, T0), T0)).toEqual({
        ok: false,
        reason: 'not-due',
        until: at(30),
      })
      expect(await reserve(store, request(campaign.id, full, at(30)), at(30))).toEqual({
        ok: false,
        reason: 'mailbox-limit',
      })
    })

    it('mailbox-limit when no candidate has room, or there is no candidate', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [1], leads: ['a@x.test', 'b@x.test'] })
      sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'mailbox-limit',
      })
      expect(await reserve(store, request(campaign.id, [], T0), T0)).toEqual({
        ok: false,
        reason: 'mailbox-limit',
      })
      // The mailbox's count is per day key: another day has room.
      const tomorrow = request(campaign.id, mailboxes, T0)
      tomorrow.mailboxes = tomorrow.mailboxes.map((c) => ({ ...c, dayKey: 'D2' }))
      expect((await reserve(store, tomorrow, T0)).ok).toBe(true)
    })

    it('a refused reservation changes nothing', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [0], leads: ['a@x.test'] })
      const before = await store.listQueueItems(campaign.id)
      expect(await reserve(store, request(campaign.id, mailboxes, T0, { nextSlotAt: at(9) }), T0)).toEqual({
        ok: false,
        reason: 'mailbox-limit',
      })
      expect(await store.listQueueItems(campaign.id)).toEqual(before)
      expect((await store.getCampaign(campaign.id))!.nextSlotAt).toBeNull()
      expect(
        await store.dayCounts({
          campaignId: campaign.id,
          campaignDayKey: 'D1',
          mailboxes: [{ mailboxId: mailboxes[0]!.id, dayKey: 'D1' }],
        }),
      ).toEqual({ campaign: 0, mailboxes: { [mailboxes[0]!.id]: 0 } })
    })
  })

  describe('reserveSends: what a reservation takes', () => {
    it('claims the slot, both day counts, the rotation cursor and the item, and returns the lead', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10], leads: ['a@x.test'] })
      const req = request(campaign.id, [mailboxes[1]!, mailboxes[0]!], T0, {
        nextSlotAt: at(1),
        leaseUntil: at(5),
      })
      const send = sendOf(await reserve(store, req, T0))
      expect(send.item).toMatchObject({
        status: 'sending',
        step: 0,
        mailboxId: mailboxes[1]!.id,
        leaseToken: req.leaseToken,
        leaseUntil: at(5),
        messageId: req.mailboxes[0]!.messageId,
      })
      expect(send.lead).toMatchObject({ email: 'a@x.test', status: 'active', variables: { city: 'Warsaw' } })
      expect(send).toMatchObject({ campaignDayKey: 'D1', mailboxDayKey: 'D1', nextPendingAt: null })

      const c = await store.getCampaign(campaign.id)
      expect(c).toMatchObject({ nextSlotAt: at(1), lastMailboxId: mailboxes[1]!.id })
      const counts = await store.dayCounts({
        campaignId: campaign.id,
        campaignDayKey: 'D1',
        mailboxes: mailboxes.map((m) => ({ mailboxId: m.id, dayKey: 'D1' })),
      })
      expect(counts).toEqual({ campaign: 1, mailboxes: { [mailboxes[0]!.id]: 0, [mailboxes[1]!.id]: 1 } })
      expect(await store.queueStats(campaign.id)).toMatchObject({ pending: 0, sending: 1 })
    })

    it('caps the campaign per day key with compare-and-set, request by request in a batch', async () => {
      const { store, mailboxes, campaign } = await setup({
        leads: ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'],
      })
      const reqs = [0, 1, 2].map(() => request(campaign.id, mailboxes, T0, { maxEmailsPerDay: 2 }))
      const outcomes = await store.reserveSends(reqs, T0)
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['ok', 'ok', 'campaign-limit'])
      // A new campaign day starts a new count.
      const nextDay = request(campaign.id, mailboxes, T0, { maxEmailsPerDay: 2, campaignDayKey: 'D2' })
      expect((await reserve(store, nextDay, T0)).ok).toBe(true)
    })

    it('never passes a mailbox limit, counted across campaigns, even with concurrent calls', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [3],
        leads: ['a@x.test', 'b@x.test', 'c@x.test'],
      })
      const other = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(other.id, [newLead('d@x.test'), newLead('e@x.test')], T0)
      await store.setCampaignStatus(other.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)

      const calls = [campaign.id, other.id, campaign.id, other.id, campaign.id].map((id) =>
        store.reserveSends([request(id, mailboxes, T0)], T0),
      )
      const outcomes = (await Promise.all(calls)).flat()
      expect(outcomes.filter((o) => o.ok)).toHaveLength(3)
      expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.reason)).toEqual([
        'mailbox-limit',
        'mailbox-limit',
      ])
    })

    it('gives an unassigned item the first candidate with room, in the order given', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [1, 5, 5],
        leads: ['a@x.test', 'b@x.test', 'c@x.test'],
      })
      const [m0, m1, m2] = mailboxes as [Mailbox, Mailbox, Mailbox]
      const order = [m0, m2, m1]
      const first = sendOf(await reserve(store, request(campaign.id, order, T0), T0))
      const second = sendOf(await reserve(store, request(campaign.id, order, T0), T0))
      const third = sendOf(await reserve(store, request(campaign.id, [m1, m2], T0), T0))
      expect([first.item.mailboxId, second.item.mailboxId, third.item.mailboxId]).toEqual([
        m0.id,
        m2.id,
        m1.id,
      ])
      expect((await store.getCampaign(campaign.id))!.lastMailboxId).toBe(m1.id)
    })

    it('with a rotation, gives unassigned items the candidates round-robin after lastMailboxId, in one batch', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [100, 100, 100],
        leads: Array.from({ length: 7 }, (_, i) => `r${i}@x.test`),
      })
      const [m0, m1, m2] = mailboxes as [Mailbox, Mailbox, Mailbox]
      const rotation = [m0.id, m1.id, m2.id]
      // One request first (the cursor moves to m0), one without rotation, then a batch of five.
      const one = sendOf(await reserve(store, request(campaign.id, [m1, m0, m2], T0, { rotation }), T0))
      expect(one.item.mailboxId).toBe(m0.id)
      await store.completeSends([sent(one)], T0)
      const sneaky = sendOf(await reserve(store, request(campaign.id, [m0, m1, m2], T0), T0))
      expect(sneaky.item.mailboxId).toBe(m0.id) // no rotation: the order given
      await store.completeSends([sent(sneaky)], T0)
      const batch = [0, 1, 2, 3, 4].map(() => request(campaign.id, [m2, m0, m1], T0, { rotation }))
      const outcomes = await store.reserveSends(batch, T0)
      expect(outcomes.map((o) => sendOf(o).item.mailboxId)).toEqual([m1.id, m2.id, m0.id, m1.id, m2.id])
      expect((await store.getCampaign(campaign.id))!.lastMailboxId).toBe(m2.id)
      // A full mailbox is passed over; one outside the rotation comes after the rotation.
      const full = await setup({ limits: [0, 100, 100], leads: ['f1@x.test', 'f2@x.test'] })
      const [f0, f1, f2] = full.mailboxes as [Mailbox, Mailbox, Mailbox]
      const rot = [f0.id, f1.id]
      const two = await full.store.reserveSends(
        [0, 1].map(() => request(full.campaign.id, [f2, f0, f1], T0, { rotation: rot })),
        T0,
      )
      expect(two.map((o) => sendOf(o).item.mailboxId)).toEqual([f1.id, f1.id])
    })

    it('handles a batch of several campaigns and several requests each in order, each on its own', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [100, 100],
        leads: ['a@x.test', 'b@x.test', 'c@x.test'],
      })
      const other = await store.createCampaign(newCampaign(mailboxes.map((m) => m.id)), T0)
      await store.addLeads(other.id, [newLead('d@x.test')], T0)
      await store.setCampaignStatus(other.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const paced = { nextSlotAt: at(5) }
      const reqs = [
        request(campaign.id, mailboxes, T0),
        request(other.id, mailboxes, T0),
        request(campaign.id, mailboxes, T0, paced), // succeeds, and moves the slot to T0 + 5 min
        request(other.id, mailboxes, T0), // queue empty now
        request(campaign.id, mailboxes, T0), // paced by the request before it
      ]
      const outcomes = await store.reserveSends(reqs, T0)
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual([
        'ok',
        'ok',
        'ok',
        'queue-empty',
        'pacing',
      ])
      expect(outcomes[4]).toEqual({ ok: false, reason: 'pacing', until: at(5) })
      const ids = outcomes.flatMap((o) => (o.ok ? [o.send.item.id] : []))
      expect(new Set(ids).size).toBe(3)
      // nextPendingAt after each: the campaign's third lead is still pending after the first two.
      expect(sendOf(outcomes[0]).nextPendingAt).toEqual(T0)
      expect(sendOf(outcomes[2]).nextPendingAt).toEqual(T0)
      expect(sendOf(outcomes[1]).nextPendingAt).toBeNull()
      const counts = await store.dayCounts({
        campaignId: campaign.id,
        campaignDayKey: 'D1',
        mailboxes: mailboxes.map((m) => ({ mailboxId: m.id, dayKey: 'D1' })),
      })
      expect(counts.campaign).toBe(2)
      expect(Object.values(counts.mailboxes).reduce((a, b) => a + b, 0)).toBe(3)
      expect(await store.queueStats(campaign.id)).toMatchObject({ pending: 1, sending: 2 })
    })

    it('takes the oldest due item first, ties by numeric id', async () => {
      const emails = Array.from({ length: 12 }, (_, i) => `l${i}@x.test`)
      const { store, mailboxes, campaign } = await setup({ limits: [100], leads: emails })
      const ids: number[] = []
      for (let i = 0; i < 12; i++)
        ids.push(Number(sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0)).item.id))
      expect(ids).toEqual([...ids].sort((a, b) => a - b))
      expect(new Set(ids).size).toBe(12)
    })

    it('sends a follow-up only from the mailbox of its lead, whatever the candidate order', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10], leads: ['a@x.test'] })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      const first = sendOf(await reserve(store, request(campaign.id, [m0, m1], T0), T0))
      await store.completeSends([sent(first, { next: { step: 1, scheduledAt: at(10) } })], T0)

      // m0 is not a candidate: the follow-up is passed over.
      expect(await reserve(store, request(campaign.id, [m1], at(10)), at(10))).toEqual({
        ok: false,
        reason: 'mailbox-limit',
      })
      const followUp = sendOf(await reserve(store, request(campaign.id, [m1, m0], at(10)), at(10)))
      expect(followUp.item).toMatchObject({ step: 1, mailboxId: m0.id, references: [first.item.messageId] })
      // A follow-up does not move the rotation cursor (it only moves for unassigned items).
      expect((await store.getCampaign(campaign.id))!.lastMailboxId).toBe(m0.id)
    })

    it('takes the oldest due item across the queues of several mailboxes', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [10, 10],
        leads: ['a@x.test', 'b@x.test'],
      })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      const a = sendOf(await reserve(store, request(campaign.id, [m0], T0), T0))
      const b = sendOf(await reserve(store, request(campaign.id, [m1], T0), T0))
      await store.completeSends(
        [
          sent(a, { next: { step: 1, scheduledAt: at(2) } }),
          sent(b, { next: { step: 1, scheduledAt: at(1) } }),
        ],
        T0,
      )
      const first = sendOf(await reserve(store, request(campaign.id, [m0, m1], at(5)), at(5)))
      const second = sendOf(await reserve(store, request(campaign.id, [m0, m1], at(5)), at(5)))
      expect([first.lead.email, first.item.mailboxId, first.nextPendingAt]).toEqual([
        'b@x.test',
        m1.id,
        at(2),
      ])
      expect([second.lead.email, second.item.mailboxId, second.nextPendingAt]).toEqual([
        'a@x.test',
        m0.id,
        null,
      ])
    })

    it('passes over an older item whose mailbox is full, so it does not block a younger one', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [1, 10], leads: ['a@x.test'] })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      const first = sendOf(await reserve(store, request(campaign.id, [m0, m1], T0), T0))
      await store.completeSends([sent(first, { next: { step: 1, scheduledAt: at(1) } })], T0)
      await store.addLeads(campaign.id, [newLead('b@x.test')], at(5))

      // The follow-up (due at(1)) is older, but m0 used its one send today.
      const taken = sendOf(await reserve(store, request(campaign.id, [m0, m1], at(6)), at(6)))
      expect(taken.item).toMatchObject({ step: 0, mailboxId: m1.id })
      // The stuck follow-up is still pending: nextPendingAt reports it.
      expect(taken.nextPendingAt).toEqual(at(1))
      expect(taken.lead.email).toBe('b@x.test')
      // Only the stuck follow-up is left: mailbox-limit, not not-due.
      expect(await reserve(store, request(campaign.id, [m0, m1], at(6)), at(6))).toEqual({
        ok: false,
        reason: 'mailbox-limit',
      })
    })

    it('prefers an older sticky item over a younger unassigned one when its mailbox has room', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10], leads: ['a@x.test'] })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      const first = sendOf(await reserve(store, request(campaign.id, [m1, m0], T0), T0))
      await store.completeSends([sent(first, { next: { step: 1, scheduledAt: at(1) } })], T0)
      await store.addLeads(campaign.id, [newLead('b@x.test')], at(2))
      const taken = sendOf(await reserve(store, request(campaign.id, [m0, m1], at(3)), at(3)))
      expect(taken.item).toMatchObject({ step: 1, mailboxId: m1.id })
    })
  })
}
