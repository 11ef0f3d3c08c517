/** Store contract: stopping leads, campaign status, reading, and copies. */
import { describe, expect, it } from 'vitest'
import type { Fixtures } from './fixtures.js'

export function lifecycleContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, newLead, setup, request, sendOf, reserve, sent, makeStore } = fixtures
  describe('stopping leads', () => {
    it('stopLead moves an active lead and cancels its pending items', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const out = await store.stopLead(campaign.id, 'a@x.test', 'replied', 'lead replied', at(1))
      expect(out!.lead).toMatchObject({ email: 'a@x.test', status: 'replied', updatedAt: at(1) })
      expect(out!.cancelled).toBe(1)
      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => [i.status, i.lastError])).toEqual([
        ['cancelled', 'lead replied'],
        ['pending', null],
      ])
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      expect(send.lead.email).toBe('b@x.test')
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'queue-empty',
      })
    })

    it('stopLead is compare-and-set on active and null for an unknown lead', async () => {
      const { store, campaign } = await setup({ leads: ['a@x.test'] })
      await store.stopLead(campaign.id, 'a@x.test', 'replied', 'r', T0)
      const again = await store.stopLead(campaign.id, 'a@x.test', 'bounced', 'b', T0)
      expect(again).toMatchObject({ lead: { status: 'replied' }, cancelled: 0 })
      expect(await store.stopLead(campaign.id, 'nobody@x.test', 'replied', 'r', T0)).toBeNull()
      expect(await store.stopLead('nope', 'a@x.test', 'replied', 'r', T0)).toBeNull()
    })

    it('suppress stops the address in every campaign, idempotently, leaving sending items alone', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const other = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(other.id, [newLead('a@x.test')], T0)
      await store.setCampaignStatus(other.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const inFlight = sendOf(await reserve(store, request(other.id, mailboxes, T0), T0))

      expect(await store.suppress('a@x.test', 'unsubscribed', at(1))).toEqual({ cancelled: 1 })
      expect((await store.getLead(campaign.id, 'a@x.test'))!.status).toBe('suppressed')
      expect((await store.getLead(other.id, 'a@x.test'))!.status).toBe('suppressed')
      expect((await store.getLead(campaign.id, 'b@x.test'))!.status).toBe('active')
      expect((await store.listQueueItems(campaign.id))[0]).toMatchObject({
        status: 'cancelled',
        lastError: 'unsubscribed',
      })
      expect((await store.listQueueItems(other.id))[0]!.status).toBe('sending')
      // The in-flight send may still complete, but starts nothing after it.
      await store.completeSends([sent(inFlight, { next: { step: 1, scheduledAt: at(2) } })], at(2))
      expect(await store.queueStats(other.id)).toMatchObject({ pending: 0, sent: 1 })

      expect(await store.suppress('a@x.test', 'again', at(3))).toEqual({ cancelled: 0 })
      expect((await store.addLeads(campaign.id, [newLead('a@x.test')], at(3))).duplicates).toBe(1)
      const third = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      expect((await store.addLeads(third.id, [newLead('a@x.test')], at(3))).suppressed).toEqual(['a@x.test'])
    })
  })

  describe('campaign status', () => {
    it('setCampaignStatus is compare-and-set and null for an unknown campaign', async () => {
      const { store, campaign } = await setup({ leads: ['a@x.test'], start: false })
      const miss = await store.setCampaignStatus(campaign.id, { from: ['PAUSED'], to: 'IN_PROGRESS' }, at(1))
      expect(miss).toMatchObject({ changed: false, campaign: { status: 'DRAFT', updatedAt: T0 } })
      const hit = await store.setCampaignStatus(
        campaign.id,
        { from: ['DRAFT', 'PAUSED'], to: 'IN_PROGRESS' },
        at(1),
      )
      expect(hit).toMatchObject({ changed: true, campaign: { status: 'IN_PROGRESS', updatedAt: at(1) } })
      expect(await store.setCampaignStatus('nope', { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)).toBeNull()
    })

    it('cancelPending cancels pending items atomically with the change, and only then', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test', 'c@x.test'] })
      const inFlight = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const miss = await store.setCampaignStatus(
        campaign.id,
        { from: ['PAUSED'], to: 'CANCELLED', cancelPending: 'campaign stopped' },
        T0,
      )
      expect(miss!.changed).toBe(false)
      expect((await store.queueStats(campaign.id)).pending).toBe(2)

      await store.setCampaignStatus(
        campaign.id,
        { from: ['IN_PROGRESS', 'PAUSED'], to: 'CANCELLED', cancelPending: 'campaign stopped' },
        T0,
      )
      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => [i.status, i.lastError])).toEqual([
        ['sending', null],
        ['cancelled', 'campaign stopped'],
        ['cancelled', 'campaign stopped'],
      ])
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'not-running',
      })
      expect(await store.completeSends([sent(inFlight)], T0)).toEqual(['ok'])
    })

    it('a paused campaign reserves nothing and keeps its queue', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      await store.setCampaignStatus(campaign.id, { from: ['IN_PROGRESS'], to: 'PAUSED' }, T0)
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'not-running',
      })
      expect(await store.listRunnableCampaigns(T0)).toEqual([])
      await store.setCampaignStatus(campaign.id, { from: ['PAUSED'], to: 'IN_PROGRESS' }, T0)
      expect((await reserve(store, request(campaign.id, mailboxes, T0), T0)).ok).toBe(true)
    })

    it('completeIfDrained completes only an IN_PROGRESS campaign with nothing pending or sending', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      expect(await store.completeIfDrained(campaign.id, T0)).toBe(false)
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      expect(await store.completeIfDrained(campaign.id, T0)).toBe(false)
      await store.completeSends([sent(send)], T0)
      expect(await store.completeIfDrained(campaign.id, at(1))).toBe(true)
      expect(await store.getCampaign(campaign.id)).toMatchObject({ status: 'COMPLETED', updatedAt: at(1) })
      expect(await store.completeIfDrained(campaign.id, at(2))).toBe(false)
      expect(await store.completeIfDrained('nope', at(2))).toBe(false)

      const draft = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      expect(await store.completeIfDrained(draft.id, T0)).toBe(false)
    })
  })

  describe('reading', () => {
    it('listRunnableCampaigns lists IN_PROGRESS campaigns with pending items, and drained ones with null', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'], now: at(3) })
      const empty = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.setCampaignStatus(empty.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const draft = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(draft.id, [newLead('a@x.test')], T0)
      await store.addLeads(campaign.id, [newLead('b@x.test')], at(1))
      const listed = async (filter?: { ids: string[] }) =>
        (await store.listRunnableCampaigns(T0, filter)).map((r) => [r.campaign.id, r.nextItemAt])

      expect(await listed()).toEqual([
        [campaign.id, at(1)],
        [empty.id, null],
      ])
      expect(await listed({ ids: [empty.id, draft.id, 'nope'] })).toEqual([[empty.id, null]])
      expect(await listed({ ids: [campaign.id, campaign.id] })).toEqual([[campaign.id, at(1)]])

      // Sending and cancelled items are not pending; a campaign with a send in flight is not drained.
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, at(1)), at(1)))
      expect(await listed({ ids: [campaign.id] })).toEqual([[campaign.id, at(3)]])
      await store.stopLead(campaign.id, 'a@x.test', 'replied', 'r', at(1))
      expect(await listed({ ids: [campaign.id] })).toEqual([])
      await store.completeSends([sent(send)], at(2))
      expect(await listed({ ids: [campaign.id] })).toEqual([[campaign.id, null]])
      expect(await store.completeIfDrained(campaign.id, at(2))).toBe(true)
      expect(await listed({ ids: [campaign.id] })).toEqual([])
    })

    it('listDueCampaigns (when a store has it) leaves out campaigns not due before dueBefore, and says when the first is', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      if (!store.listDueCampaigns) return
      const later = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(later.id, [newLead('b@x.test')], at(10))
      await store.setCampaignStatus(later.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const latest = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(latest.id, [newLead('c@x.test')], at(20))
      await store.setCampaignStatus(latest.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const empty = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.setCampaignStatus(empty.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const paused = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.addLeads(paused.id, [newLead('d@x.test')], at(5))
      const sorted = (rows: Array<[string, Date | null]>) =>
        rows.sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
      const due = async (dueBefore: Date, ids?: string[]) => {
        const out = await store.listDueCampaigns!(T0, { dueBefore, ...(ids ? { ids } : {}) })
        return {
          ids: sorted(out.campaigns.map((r) => [r.campaign.id, r.nextItemAt])),
          laterAt: out.laterAt,
        }
      }
      expect(await due(T0)).toEqual({
        ids: sorted([
          [campaign.id, T0],
          [empty.id, null],
        ]),
        laterAt: at(10),
      })
      expect(await due(at(10))).toEqual({
        ids: sorted([
          [campaign.id, T0],
          [later.id, at(10)],
          [empty.id, null],
        ]),
        laterAt: at(20),
      })
      expect(await due(at(30))).toMatchObject({ laterAt: null })
      expect((await due(at(30))).ids).toHaveLength(4)
      expect(await due(T0, [later.id, paused.id, 'nope'])).toEqual({ ids: [], laterAt: at(10) })
      // The same campaigns as listRunnableCampaigns, when dueBefore is far enough.
      const all = (await store.listRunnableCampaigns(T0)).map((r): [string, Date | null] => [
        r.campaign.id,
        r.nextItemAt,
      ])
      expect((await due(at(30))).ids).toEqual(sorted(all))
    })

    it('deferCampaigns (when a store has it) keeps a campaign out of listDueCampaigns until then, or until it is updated', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      if (!store.listDueCampaigns || !store.deferCampaigns) return
      const empty = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.setCampaignStatus(empty.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      const due = async (dueBefore: Date) => {
        const out = await store.listDueCampaigns!(T0, { dueBefore })
        return { ids: out.campaigns.map((r) => r.campaign.id).sort(), laterAt: out.laterAt }
      }
      const both = [campaign.id, empty.id].sort()
      const deferral = async (id: string, until: Date, shift = 0) => {
        const current = (await store.getCampaign(id))!
        return { campaignId: id, until, settingsVersion: current.settingsVersion + shift }
      }
      // Read before a change that core did not see: ignored.
      await store.deferCampaigns([await deferral(campaign.id, at(10), -1)], T0)
      expect(await due(T0)).toEqual({ ids: both, laterAt: null })
      // Deferred: out until then, and its time is the next one; a drained campaign is always listed.
      await store.deferCampaigns([await deferral(campaign.id, at(10)), await deferral(empty.id, at(10))], T0)
      expect(await due(T0)).toEqual({ ids: [empty.id], laterAt: at(10) })
      expect(await due(at(9))).toEqual({ ids: [empty.id], laterAt: at(10) })
      expect((await due(at(10))).ids).toEqual(both)
      // Deferring again to an earlier time does not bring it back sooner than the store knows.
      await store.deferCampaigns([await deferral(campaign.id, at(5))], T0)
      expect((await due(T0)).ids).toEqual([empty.id])
      // Its settings changed (another window, perhaps): listed again at once.
      await store.updateCampaign(campaign.id, { name: 'renamed' }, at(1))
      expect((await due(at(1))).ids).toEqual(both)
    })

    it('settingsVersion starts at 1 and each updateCampaign adds one, in the same millisecond too', async () => {
      const { store, campaign } = await setup({ leads: ['a@x.test'] })
      expect(campaign.settingsVersion).toBe(1)
      expect((await store.updateCampaign(campaign.id, { name: 'one' }, at(1)))!.settingsVersion).toBe(2)
      expect((await store.updateCampaign(campaign.id, { name: 'two' }, at(1)))!.settingsVersion).toBe(3)
      expect(await store.getCampaign(campaign.id)).toMatchObject({ settingsVersion: 3, updatedAt: at(1) })
      // Status changes are not settings.
      await store.setCampaignStatus(campaign.id, { from: ['IN_PROGRESS'], to: 'PAUSED' }, at(2))
      expect((await store.getCampaign(campaign.id))!.settingsVersion).toBe(3)
    })

    it('deferCampaigns ignores a deferral read between two updates of the same millisecond', async () => {
      const { store, campaign } = await setup({ leads: ['a@x.test'] })
      if (!store.listDueCampaigns || !store.deferCampaigns) return
      const ids = async (dueBefore: Date) =>
        (await store.listDueCampaigns!(at(1), { dueBefore })).campaigns.map((r) => r.campaign.id)
      // A tick reads the campaign after a first change, a second change lands in the same
      // millisecond (updatedAt is the same), then the tick's deferral arrives: it must not hold.
      await store.updateCampaign(campaign.id, { name: 'first' }, at(1))
      const read = (await store.getCampaign(campaign.id))!
      const changed = (await store.updateCampaign(campaign.id, { name: 'second' }, at(1)))!
      expect(changed.updatedAt).toEqual(read.updatedAt)
      await store.deferCampaigns(
        [{ campaignId: campaign.id, until: at(10), settingsVersion: read.settingsVersion }],
        at(1),
      )
      expect(await ids(at(1))).toEqual([campaign.id])
      // The same deferral from the current settings holds.
      await store.deferCampaigns(
        [{ campaignId: campaign.id, until: at(10), settingsVersion: changed.settingsVersion }],
        at(1),
      )
      expect(await ids(at(1))).toEqual([])
    })

    it('queueStats counts per status with the next scheduled time', async () => {
      const { store, mailboxes, campaign } = await setup({
        leads: ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'],
      })
      const a = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const b = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      await store.completeSends(
        [
          sent(a, { next: { step: 1, scheduledAt: at(30) } }),
          { kind: 'failed', itemId: b.item.id, leaseToken: b.item.leaseToken!, error: 'x', attempts: 1 },
        ],
        T0,
      )
      await store.stopLead(campaign.id, 'd@x.test', 'replied', 'r', T0)
      expect(await store.queueStats(campaign.id)).toEqual({
        pending: 1,
        sending: 1,
        sent: 1,
        failed: 1,
        cancelled: 1,
        nextScheduledAt: at(30),
      })
      expect(await store.queueStats('nope')).toEqual({
        pending: 0,
        sending: 0,
        sent: 0,
        failed: 0,
        cancelled: 0,
        nextScheduledAt: null,
      })
    })

    it('listQueueItems is ordered by createdAt then id, listSendLog by send order', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'], now: at(1) })
      const a = sendOf(await reserve(store, request(campaign.id, mailboxes, at(1)), at(1)))
      const b = sendOf(await reserve(store, request(campaign.id, mailboxes, at(1)), at(1)))
      await store.completeSends([sent(b, { next: { step: 1, scheduledAt: at(9) } })], at(2))
      await store.completeSends([sent(a, { next: { step: 1, scheduledAt: at(9) } })], at(3))
      // A lead added with an earlier `now` (another worker's clock) still sorts by its createdAt.
      await store.addLeads(campaign.id, [newLead('c@x.test')], T0)

      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => [i.leadId, i.step, i.createdAt])).toEqual([
        [(await store.getLead(campaign.id, 'c@x.test'))!.id, 0, T0],
        [a.lead.id, 0, at(1)],
        [b.lead.id, 0, at(1)],
        [b.lead.id, 1, at(2)],
        [a.lead.id, 1, at(3)],
      ])
      expect((await store.listSendLog(campaign.id)).map((e) => e.leadId)).toEqual([b.lead.id, a.lead.id])
      expect(await store.listQueueItems('nope')).toEqual([])
      expect(await store.listSendLog('nope')).toEqual([])
    })

    it('close resolves', async () => {
      await expect((await makeStore()).close()).resolves.toBeUndefined()
    })
  })

  describe('copies', () => {
    it('hands out copies that callers cannot use to change the store', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const c = (await store.getCampaign(campaign.id))!
      c.status = 'CANCELLED'
      c.mailboxIds.push('x')
      c.steps[0]!.subject = 'hacked'
      c.variables.push('x')
      c.createdAt.setTime(0)
      const m = (await store.getMailboxes([mailboxes[0]!.id]))[0]!
      m.dailyEmailLimit = 0
      m.createdAt.setTime(0)
      const lead = (await store.getLead(campaign.id, 'a@x.test'))!
      lead.status = 'bounced'
      lead.variables.city = 'Nowhere'

      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      send.item.status = 'sent'
      send.item.references.push('x')
      send.item.leaseUntil!.setTime(0)
      send.lead.variables.city = 'Nowhere'
      await store.completeSends([sent(send, { next: { step: 1, scheduledAt: at(1) } })], T0)
      const log = await store.listSendLog(campaign.id)
      log[0]!.sentAt.setTime(0)
      log.pop()
      const items = await store.listQueueItems(campaign.id)
      items[1]!.references.push('x')
      items[1]!.scheduledAt.setTime(0)
      const runnable = await store.listRunnableCampaigns(T0)
      runnable[0]!.nextItemAt!.setTime(0)
      runnable[0]!.campaign.status = 'PAUSED'

      expect(await store.getCampaign(campaign.id)).toMatchObject({
        status: 'IN_PROGRESS',
        mailboxIds: [mailboxes[0]!.id],
        steps: [{ subject: 'Hi {{firstName}}' }, {}],
        variables: [],
        createdAt: T0,
      })
      expect((await store.getMailboxes([mailboxes[0]!.id]))[0]).toMatchObject({
        dailyEmailLimit: 10,
        createdAt: T0,
      })
      expect(await store.getLead(campaign.id, 'a@x.test')).toMatchObject({
        status: 'active',
        variables: { city: 'Warsaw' },
      })
      expect(await store.listSendLog(campaign.id)).toEqual([expect.objectContaining({ sentAt: T0 })])
      expect((await store.listQueueItems(campaign.id))[1]).toMatchObject({
        references: [send.item.messageId],
        scheduledAt: at(1),
      })
      expect((await store.listRunnableCampaigns(T0))[0]).toMatchObject({ nextItemAt: at(1) })
    })

    it('keeps its own copies of inputs', async () => {
      const store = await makeStore()
      const now = new Date(T0)
      const input = newCampaign(['m1'])
      const campaign = await store.createCampaign(input, now)
      input.mailboxIds.push('m2')
      input.steps[0]!.subject = 'changed'
      now.setTime(0)
      const lead = newLead('a@x.test')
      await store.addLeads(campaign.id, [lead], T0)
      lead.variables.city = 'Nowhere'
      expect(await store.getCampaign(campaign.id)).toMatchObject({
        mailboxIds: ['m1'],
        steps: [{ subject: 'Hi {{firstName}}' }, {}],
        createdAt: T0,
      })
      expect((await store.getLead(campaign.id, 'a@x.test'))!.variables).toEqual({ city: 'Warsaw' })
    })
  })
}
