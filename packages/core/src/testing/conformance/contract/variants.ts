/**
 * Store contract: step variants (issue 16). The variant core chose rides on the completion
 * (`Completion.variantId`) and is written on the item, first choice kept; steps keep their
 * `variants`, `autoWinner` and `winner`; a reply after the last step still counts.
 */
import { describe, expect, it } from 'vitest'
import type { Step } from '../../../model/types.js'
import type { ReservedSend } from '../../../store.js'
import type { Fixtures } from './fixtures.js'

export function variantContract(fixtures: Fixtures): void {
  const { T0, at, setup, request, sendOf, reserve, sent } = fixtures
  describe('variants', () => {
    it('a completion writes its variantId on the item, and a later one never changes it', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const first = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      expect(first.item.variantId ?? null).toBeNull()
      const retry = {
        kind: 'retry' as const,
        itemId: first.item.id,
        leaseToken: first.item.leaseToken!,
        retryAt: at(1),
        attempts: 1,
        error: '451 try later',
        variantId: 'short',
      }
      expect(await store.completeSends([retry], at(0))).toEqual(['ok'])
      const again = sendOf(await reserve(store, request(campaign.id, mailboxes, at(1)), at(1)))
      expect(again.item).toMatchObject({ id: first.item.id, variantId: 'short' })
      expect(await store.completeSends([sent(again, { variantId: 'long' })], at(2))).toEqual(['ok'])
      expect((await store.listQueueItems(campaign.id))[0]).toMatchObject({
        status: 'sent',
        variantId: 'short',
      })
    })

    it('sent and failed completions write it too, batched or not', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test', 'c@x.test'] })
      const sends = []
      for (let i = 0; i < 3; i++)
        sends.push(sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0)))
      const [one, two, three] = sends as [ReservedSend, ReservedSend, ReservedSend]
      // Two sent completions at once (a store may batch them).
      expect(
        await store.completeSends([sent(one, { variantId: 'x' }), sent(two, { variantId: 'y' })], at(1)),
      ).toEqual(['ok', 'ok'])
      const failed = {
        kind: 'failed' as const,
        itemId: three.item.id,
        leaseToken: three.item.leaseToken!,
        error: '550 no such user',
        attempts: 1,
        leadStatus: 'bounced' as const,
        variantId: 'z',
      }
      expect(await store.completeSends([failed], at(1))).toEqual(['ok'])
      const byId = new Map((await store.listQueueItems(campaign.id)).map((i) => [i.id, i]))
      expect(byId.get(one.item.id)).toMatchObject({ status: 'sent', variantId: 'x' })
      expect(byId.get(two.item.id)).toMatchObject({ status: 'sent', variantId: 'y' })
      expect(byId.get(three.item.id)).toMatchObject({ status: 'failed', variantId: 'z' })
    })

    it('keeps variants, autoWinner and winner in steps, through create and update', async () => {
      const { store, campaign } = await setup({ start: false })
      const steps: Step[] = [
        {
          subject: 'Hi',
          text: 'x',
          variants: [
            { id: 'a', subject: '{Hi|Hello} {{firstName}}', weight: 2 },
            { id: 'b', html: '<p>{x|y}</p>' },
          ],
          autoWinner: { metric: 'reply', minSends: 50, confidence: 0.9 },
        },
      ]
      await store.updateCampaign(campaign.id, { steps }, at(1))
      expect((await store.getCampaign(campaign.id))?.steps).toEqual(steps)
      const decided = [{ ...steps[0], winner: 'b' }] as Step[]
      await store.updateCampaign(campaign.id, { steps: decided }, at(2))
      expect((await store.getCampaign(campaign.id))?.steps).toEqual(decided)
    })

    it('stopLead(replied) counts a reply after the last step: completed → replied, other statuses kept', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const one = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      await store.completeSends([sent(one)], T0)
      expect((await store.getLead(campaign.id, 'a@x.test'))?.status).toBe('completed')
      expect(
        (await store.stopLead(campaign.id, 'a@x.test', 'replied', 'lead replied', at(1)))?.lead.status,
      ).toBe('replied')
      await store.stopLead(campaign.id, 'b@x.test', 'bounced', 'bounced', at(1))
      await store.stopLead(campaign.id, 'b@x.test', 'replied', 'lead replied', at(2))
      expect((await store.getLead(campaign.id, 'b@x.test'))?.status).toBe('bounced')
    })
  })
}
