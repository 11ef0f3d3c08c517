/**
 * Store contract: the optional inspection reads (`listCampaigns`, `listMailboxes`,
 * `listFailedSends`, `listRecentSends`, `listSendTimes`). A store without one of them passes its
 * test vacuously: core falls back or says the method is missing.
 */
import { describe, expect, it } from 'vitest'
import type { Campaign } from '../../../model/types.js'
import type { Store } from '../../../store.js'
import type { Fixtures } from './fixtures.js'

export function inspectContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, newLead, setup, request, sendOf, reserve, sent, makeStore } = fixtures

  /** Every page of `listCampaigns`, `limit` at a time. */
  async function allPages(store: Store, status?: Campaign['status']): Promise<Campaign[][]> {
    const pages: Campaign[][] = []
    let after: string | undefined
    for (;;) {
      const page = await store.listCampaigns!({
        ...(status ? { status } : {}),
        ...(after ? { after } : {}),
        limit: 3,
      })
      if (page.length === 0) break
      pages.push(page)
      after = page[page.length - 1]!.id
      if (pages.length > 10) throw new Error('listCampaigns never ends')
    }
    return pages
  }

  describe('inspection reads', () => {
    it('listCampaigns: keyset pages in a stable id order, each campaign once, filtered by status', async () => {
      const store = await makeStore()
      if (!store.listCampaigns) return
      const box = await store.createMailbox(
        { email: 'm@acme.test', name: null, dailyEmailLimit: 9, timezone: 'UTC', skipDates: [] },
        T0,
      )
      const created: Campaign[] = []
      for (let i = 0; i < 8; i++)
        created.push(await store.createCampaign(newCampaign([box.id], { name: `C${i}` }), at(i)))
      for (const c of created.filter((_, i) => i % 3 === 0))
        await store.setCampaignStatus(c.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, at(10))

      const pages = await allPages(store)
      expect(pages.map((p) => p.length)).toEqual([3, 3, 2])
      // Creation order is id order for every shipped store; each campaign exactly once.
      expect(pages.flat().map((c) => c.name)).toEqual(created.map((c) => c.name))
      const running = (await allPages(store, 'IN_PROGRESS')).flat()
      expect(running.map((c) => c.name)).toEqual(['C0', 'C3', 'C6'])
      expect(running.every((c) => c.status === 'IN_PROGRESS')).toBe(true)
      expect(await store.listCampaigns({ status: 'PAUSED', limit: 5 })).toEqual([])
      // A campaign created after page 1 was read never shifts what page 2 holds.
      const first = await store.listCampaigns({ limit: 3 })
      await store.createCampaign(newCampaign([box.id], { name: 'late' }), at(20))
      const second = await store.listCampaigns({ after: first[2]!.id, limit: 3 })
      expect(second.map((c) => c.name)).toEqual(['C3', 'C4', 'C5'])
      expect(await store.listCampaigns({ after: 'nope', limit: 3 })).toEqual([])
    })

    it('listMailboxes: every mailbox, as copies', async () => {
      const { store, mailboxes } = await setup({ limits: [5, 6, 7] })
      if (!store.listMailboxes) return
      const listed = await store.listMailboxes()
      expect(listed).toEqual(mailboxes)
      listed[0]!.dailyEmailLimit = 99
      expect((await store.listMailboxes())[0]!.dailyEmailLimit).toBe(5)
    })

    it('listFailedSends: failed items of the campaign, latest first, with their address and answer', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [10],
        leads: ['a@x.test', 'b@x.test', 'c@x.test'],
      })
      if (!store.listFailedSends) return
      const a = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const b = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const c = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const fail = (s: typeof a, error: string) => ({
        kind: 'failed' as const,
        itemId: s.item.id,
        leaseToken: s.item.leaseToken!,
        error,
        attempts: 1,
      })
      await store.completeSends([fail(a, '550 5.1.1 <a@x.test>: User unknown')], at(1))
      await store.completeSends([sent(b)], at(2))
      await store.completeSends([fail(c, '554 5.6.0 Content rejected')], at(3))
      // Another campaign's failures are not this one's.
      const other = await store.createCampaign(newCampaign([mailboxes[0]!.id]), T0)
      await store.setCampaignStatus(other.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
      await store.addLeads(other.id, [newLead('z@x.test')], T0)
      const z = sendOf(await reserve(store, request(other.id, mailboxes, T0), T0))
      await store.completeSends([fail(z, '550 no')], at(4))

      const failed = await store.listFailedSends(campaign.id, { limit: 10 })
      expect(failed.map((f) => [f.to, f.item.lastError, f.item.status])).toEqual([
        ['c@x.test', '554 5.6.0 Content rejected', 'failed'],
        ['a@x.test', '550 5.1.1 <a@x.test>: User unknown', 'failed'],
      ])
      expect(failed[0]!.item).toMatchObject({ campaignId: campaign.id, leadId: c.lead.id, updatedAt: at(3) })
      expect((await store.listFailedSends(campaign.id, { limit: 1 })).map((f) => f.to)).toEqual(['c@x.test'])
      expect(await store.listFailedSends('nope', { limit: 5 })).toEqual([])
    })

    it('listRecentSends and listSendTimes: the last rows newest first; send instants in [from, to)', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [10],
        leads: ['a@x.test', 'b@x.test', 'c@x.test'],
      })
      for (const [i, minute] of [1, 2, 3].entries()) {
        const s = sendOf(await reserve(store, request(campaign.id, mailboxes, at(minute)), at(minute)))
        await store.completeSends([sent(s, { subject: `S${i}` })], at(minute))
      }
      if (store.listRecentSends) {
        const recent = await store.listRecentSends(campaign.id, { limit: 2 })
        expect(recent.map((e) => [e.subject, e.sentAt])).toEqual([
          ['S2', at(3)],
          ['S1', at(2)],
        ])
        expect(await store.listRecentSends('nope', { limit: 2 })).toEqual([])
      }
      if (store.listSendTimes) {
        expect(await store.listSendTimes(campaign.id, { from: at(2), to: at(3) })).toEqual([at(2)])
        expect(await store.listSendTimes(campaign.id, { from: T0, to: at(60) })).toEqual([
          at(1),
          at(2),
          at(3),
        ])
        expect(await store.listSendTimes('nope', { from: T0, to: at(60) })).toEqual([])
      }
    })
  })
}
