/** Store contract: mailboxes, campaigns and lead intake. */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../../../errors.js'
import type { Fixtures } from './fixtures.js'

export function catalogContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, newLead, setup, makeStore } = fixtures
  describe('mailboxes and campaigns', () => {
    it('creates, updates and reads mailboxes', async () => {
      const store = await makeStore()
      const a = await store.createMailbox(
        { email: 'a@acme.test', name: null, dailyEmailLimit: 5, timezone: 'UTC', skipDates: [] },
        T0,
      )
      const b = await store.createMailbox(
        { email: 'b@acme.test', name: 'B', dailyEmailLimit: 7, timezone: 'UTC', skipDates: [] },
        T0,
      )
      expect(a.id).not.toBe(b.id)
      expect(a).toMatchObject({ pausedUntil: null, pauseReason: null, createdAt: T0, updatedAt: T0 })

      const updated = await store.updateMailbox(
        a.id,
        { pausedUntil: at(60), pauseReason: '421 slow down' },
        at(1),
      )
      expect(updated).toMatchObject({ dailyEmailLimit: 5, pausedUntil: at(60), pauseReason: '421 slow down' })
      expect(updated!.updatedAt).toEqual(at(1))
      expect(await store.updateMailbox('nope', { dailyEmailLimit: 1 }, T0)).toBeNull()

      const got = await store.getMailboxes([b.id, 'nope', a.id])
      expect(got.map((m) => m.id).sort()).toEqual([a.id, b.id].sort())
    })

    it('creates a campaign as DRAFT and updates settings but not status or pacing', async () => {
      const { store, mailboxes, campaign } = await setup({ start: false })
      expect(campaign).toMatchObject({ status: 'DRAFT', nextSlotAt: null, lastMailboxId: null })
      const updated = await store.updateCampaign(campaign.id, { maxEmailsPerDay: 3, name: 'Renamed' }, at(1))
      expect(updated).toMatchObject({
        status: 'DRAFT',
        maxEmailsPerDay: 3,
        name: 'Renamed',
        nextSlotAt: null,
      })
      expect(updated!.mailboxIds).toEqual([mailboxes[0]!.id])
      expect(await store.updateCampaign('nope', { name: 'x' }, T0)).toBeNull()
      expect(await store.getCampaign('nope')).toBeNull()
    })
  })

  describe('addLeads', () => {
    it('inserts leads with a pending step 0 each', async () => {
      const { store, campaign } = await setup({ start: false })
      const out = await store.addLeads(campaign.id, [newLead('a@x.test'), newLead('b@x.test')], T0)
      expect(out.duplicates).toBe(0)
      expect(out.suppressed).toEqual([])
      expect(out.added.map((l) => [l.email, l.status, l.campaignId])).toEqual([
        ['a@x.test', 'active', campaign.id],
        ['b@x.test', 'active', campaign.id],
      ])
      const items = await store.listQueueItems(campaign.id)
      expect(items).toHaveLength(2)
      for (const [i, item] of items.entries()) {
        expect(item).toMatchObject({
          leadId: out.added[i]!.id,
          step: 0,
          status: 'pending',
          scheduledAt: T0,
          mailboxId: null,
          attempts: 0,
          references: [],
          messageId: null,
          threadSubject: null,
          leaseToken: null,
        })
      }
    })

    it('counts addresses already in the campaign or repeated in the call as duplicates, by emailKey', async () => {
      const { store, campaign } = await setup({ leads: ['a@x.test'], start: false })
      const out = await store.addLeads(
        campaign.id,
        [newLead('A@X.test'), newLead('b@x.test'), newLead('B@x.TEST ')],
        T0,
      )
      expect(out.added.map((l) => l.email)).toEqual(['b@x.test'])
      expect(out.duplicates).toBe(2)
      expect((await store.queueStats(campaign.id)).pending).toBe(2)
    })

    it('refuses suppressed addresses, and lets the same address join another campaign', async () => {
      const { store, mailboxes, campaign } = await setup({ start: false })
      await store.suppress('no@x.test', 'unsubscribed', T0)
      const out = await store.addLeads(
        campaign.id,
        [newLead('no@x.test'), newLead('NO@x.test'), newLead('ok@x.test')],
        T0,
      )
      expect(out.suppressed).toEqual(['no@x.test'])
      expect(out.duplicates).toBe(1)
      expect(out.added.map((l) => l.email)).toEqual(['ok@x.test'])
      expect(await store.getLead(campaign.id, 'no@x.test')).toBeNull()

      const other = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      const again = await store.addLeads(other.id, [newLead('ok@x.test')], T0)
      expect(again.added).toHaveLength(1)
    })

    it('throws not-found for an unknown campaign', async () => {
      const store = await makeStore()
      const err = await store.addLeads('nope', [newLead('a@x.test')], T0).catch((e: unknown) => e)
      expect(isMailcadenceError(err, 'not-found')).toBe(true)
    })
  })
}
