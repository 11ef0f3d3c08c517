/** Store contract: `countDueByMailbox`, what `explain()` reads to tell which mailbox due items wait for. */
import { describe, expect, it } from 'vitest'
import type { DueCount } from '../../../store.js'
import type { Fixtures } from './fixtures.js'

/** In one order, since a store may answer in any. */
const sorted = (counts: DueCount[]) =>
  [...counts].sort((a, b) => String(a.mailboxId).localeCompare(String(b.mailboxId)))

export function dueContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, newLead, setup, request, sendOf, reserve, sent } = fixtures
  describe('countDueByMailbox', () => {
    it('counts due pending items by mailbox, null for those without one, leaving out every other item', async () => {
      const { store, mailboxes, campaign } = await setup({
        limits: [10, 10],
        leads: ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test', 'e@x.test'],
      })
      const [m0, m1] = mailboxes as [(typeof mailboxes)[0], (typeof mailboxes)[0]]
      // a leaves from m0 and b from m1, each with a follow-up on its mailbox; c is stopped.
      const a = sendOf(await reserve(store, request(campaign.id, [m0], T0), T0))
      const b = sendOf(await reserve(store, request(campaign.id, [m1], T0), T0))
      await store.completeSends(
        [
          sent(a, { next: { step: 1, scheduledAt: at(10) } }),
          sent(b, { next: { step: 1, scheduledAt: at(5) } }),
        ],
        at(1),
      )
      await store.stopLead(campaign.id, 'c@x.test', 'replied', 'lead replied', at(1))
      // Another campaign's due items never count.
      const other = await store.createCampaign(newCampaign([m0.id]), T0)
      await store.addLeads(other.id, [newLead('a@x.test')], T0)

      expect(sorted(await store.countDueByMailbox(campaign.id, at(4)))).toEqual([
        { mailboxId: null, windowKey: '', count: 2 },
      ])
      expect(sorted(await store.countDueByMailbox(campaign.id, at(5)))).toEqual(
        sorted([
          { mailboxId: null, windowKey: '', count: 2 },
          { mailboxId: m1.id, windowKey: '', count: 1 },
        ]),
      )
      // d is being sent: only e is left without a mailbox.
      const d = sendOf(await reserve(store, request(campaign.id, [m1], at(10)), at(10)))
      expect(d.lead.email).toBe('d@x.test')
      expect(sorted(await store.countDueByMailbox(campaign.id, at(10)))).toEqual(
        sorted([
          { mailboxId: null, windowKey: '', count: 1 },
          { mailboxId: m0.id, windowKey: '', count: 1 },
          { mailboxId: m1.id, windowKey: '', count: 1 },
        ]),
      )
      expect(await store.countDueByMailbox(other.id, at(10))).toEqual([
        { mailboxId: null, windowKey: '', count: 1 },
      ])
    })

    it('is empty when nothing is due, for an empty queue and for an unknown campaign', async () => {
      const { store, campaign } = await setup({ leads: ['a@x.test'], now: at(30) })
      expect(await store.countDueByMailbox(campaign.id, at(29))).toEqual([])
      expect(await store.countDueByMailbox(campaign.id, at(30))).toEqual([
        { mailboxId: null, windowKey: '', count: 1 },
      ])
      const empty = await setup()
      expect(await empty.store.countDueByMailbox(empty.campaign.id, at(30))).toEqual([])
      expect(await store.countDueByMailbox('999999', at(30))).toEqual([])
      expect(await store.countDueByMailbox('nope', at(30))).toEqual([])
    })
  })
}
