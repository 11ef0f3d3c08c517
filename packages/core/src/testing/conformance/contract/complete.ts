/** Store contract: completions, refunds and lease recovery. */
import { describe, expect, it } from 'vitest'
import type { Mailbox } from '../../../model/types.js'
import type { Completion, ReservedSend } from '../../../store.js'
import type { Fixture, Fixtures } from './fixtures.js'

export function completeContract(fixtures: Fixtures): void {
  const { T0, at, setup, request, sendOf, reserve, sent } = fixtures
  describe('completeSends', () => {
    it('sent: records the send, logs it and enqueues the next step on the same mailbox, in the thread', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10], leads: ['a@x.test'] })
      const first = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const outcome = await store.completeSends(
        [sent(first, { subject: 'Hi Jan', next: { step: 1, scheduledAt: at(60) } })],
        at(1),
      )
      expect(outcome).toEqual(['ok'])
      const items = await store.listQueueItems(campaign.id)
      expect(items[0]).toMatchObject({
        status: 'sent',
        sentAt: at(1),
        messageId: first.item.messageId,
        leaseToken: null,
        leaseUntil: null,
      })
      expect(items[1]).toMatchObject({
        step: 1,
        status: 'pending',
        scheduledAt: at(60),
        mailboxId: first.item.mailboxId,
        references: [first.item.messageId],
        threadSubject: 'Hi Jan',
        createdAt: at(1),
      })
      expect(await store.listSendLog(campaign.id)).toEqual([
        {
          campaignId: campaign.id,
          leadId: first.lead.id,
          step: 0,
          mailboxId: first.item.mailboxId,
          messageId: first.item.messageId,
          to: 'a@x.test',
          subject: 'Hi Jan',
          sentAt: at(1),
        },
      ])

      // The follow-up keeps the thread subject and extends the references.
      const second = sendOf(await reserve(store, request(campaign.id, mailboxes, at(60)), at(60)))
      await store.completeSends(
        [sent(second, { subject: 'Re: Hi Jan', next: { step: 2, scheduledAt: at(120) } })],
        at(61),
      )
      const third = (await store.listQueueItems(campaign.id))[2]
      expect(third).toMatchObject({
        step: 2,
        threadSubject: 'Hi Jan',
        references: [first.item.messageId, second.item.messageId],
      })
      expect((await store.listSendLog(campaign.id)).map((e) => e.step)).toEqual([0, 1])
    })

    it('sent without next completes an active lead', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      await store.completeSends([sent(send)], T0)
      expect((await store.getLead(campaign.id, 'a@x.test'))!.status).toBe('completed')
    })

    it('never enqueues a step twice', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const first = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      await store.completeSends([sent(first, { next: { step: 1, scheduledAt: T0 } })], T0)
      const second = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      // A confused caller asks for step 1 again: it already exists.
      await store.completeSends([sent(second, { next: { step: 1, scheduledAt: T0 } })], T0)
      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => [i.step, i.status])).toEqual([
        [0, 'sent'],
        [1, 'sent'],
      ])
    })

    it('does not enqueue the next step for a stopped lead or a cancelled campaign', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const a = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const b = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      await store.stopLead(campaign.id, 'a@x.test', 'replied', 'replied', T0)
      await store.completeSends([sent(a, { next: { step: 1, scheduledAt: at(1) } })], T0)
      await store.setCampaignStatus(campaign.id, { from: ['IN_PROGRESS'], to: 'CANCELLED' }, T0)
      await store.completeSends([sent(b, { next: { step: 1, scheduledAt: at(1) } })], T0)
      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => i.status)).toEqual(['sent', 'sent'])
      expect((await store.getLead(campaign.id, 'a@x.test'))!.status).toBe('replied')
    })

    it('refuses a completion with a stale or unknown lease, and a second completion', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      expect(await store.completeSends([{ ...sent(send), leaseToken: 'someone-else' }], T0)).toEqual([
        'lease-lost',
      ])
      expect(await store.completeSends([{ ...sent(send), itemId: 'nope' }], T0)).toEqual(['lease-lost'])
      expect((await store.listQueueItems(campaign.id))[0]!.status).toBe('sending')
      expect(await store.completeSends([sent(send), sent(send)], T0)).toEqual(['ok', 'lease-lost'])
      expect(await store.listSendLog(campaign.id)).toHaveLength(1)
    })

    it('retry: back to pending at retryAt with the lease cleared, still on its mailbox', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10], leads: ['a@x.test'] })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      const send = sendOf(await reserve(store, request(campaign.id, [m0, m1], T0), T0))
      const token = send.item.leaseToken!
      await store.completeSends(
        [
          {
            kind: 'retry',
            itemId: send.item.id,
            leaseToken: token,
            retryAt: at(15),
            attempts: 1,
            error: '451 try later',
          },
        ],
        at(1),
      )
      const item = (await store.listQueueItems(campaign.id))[0]
      expect(item).toMatchObject({
        status: 'pending',
        scheduledAt: at(15),
        attempts: 1,
        lastError: '451 try later',
        leaseToken: null,
        leaseUntil: null,
        mailboxId: m0.id,
      })
      expect(await reserve(store, request(campaign.id, [m0], at(14)), at(14))).toEqual({
        ok: false,
        reason: 'not-due',
        until: at(15),
      })
      const again = sendOf(await reserve(store, request(campaign.id, [m1, m0], at(15)), at(15)))
      expect(again.item).toMatchObject({ id: send.item.id, mailboxId: m0.id, attempts: 1 })
      // The old token is dead even though the item is sending again.
      expect(await store.completeSends([{ ...sent(again), leaseToken: token }], at(15))).toEqual([
        'lease-lost',
      ])
    })

    it('retry with unassignMailbox frees a first email to leave from another mailbox', async () => {
      const { store, mailboxes, campaign } = await setup({ limits: [10, 10], leads: ['a@x.test'] })
      const [m0, m1] = mailboxes as [Mailbox, Mailbox]
      const send = sendOf(await reserve(store, request(campaign.id, [m0, m1], T0), T0))
      expect(send.item.mailboxId).toBe(m0.id)
      const refund = { campaignDayKey: 'D1', mailboxId: m0.id, mailboxDayKey: 'D1' }
      await store.completeSends(
        [
          {
            kind: 'retry',
            itemId: send.item.id,
            leaseToken: send.item.leaseToken!,
            retryAt: T0,
            attempts: 0,
            error: '535 auth failed',
            refund,
            unassignMailbox: true,
          },
        ],
        T0,
      )
      expect((await store.listQueueItems(campaign.id))[0]).toMatchObject({
        status: 'pending',
        mailboxId: null,
      })
      // m0 is left out (paused): the item now leaves from m1, which becomes the rotation cursor.
      const again = sendOf(await reserve(store, request(campaign.id, [m1], T0), T0))
      expect(again.item).toMatchObject({ id: send.item.id, mailboxId: m1.id })
      expect((await store.getCampaign(campaign.id))!.lastMailboxId).toBe(m1.id)
      const counts = await store.dayCounts({
        campaignId: campaign.id,
        campaignDayKey: 'D1',
        mailboxes: mailboxes.map((m) => ({ mailboxId: m.id, dayKey: 'D1' })),
      })
      expect(counts).toEqual({ campaign: 1, mailboxes: { [m0.id]: 0, [m1.id]: 1 } })
    })

    it('retry of an item whose lead was stopped meanwhile cancels it instead of reviving it', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test'] })
      const send = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      await store.stopLead(campaign.id, 'a@x.test', 'replied', 'replied', T0)
      await store.completeSends(
        [
          {
            kind: 'retry',
            itemId: send.item.id,
            leaseToken: send.item.leaseToken!,
            retryAt: T0,
            attempts: 1,
            error: 'x',
          },
        ],
        T0,
      )
      expect(await store.queueStats(campaign.id)).toMatchObject({ pending: 0, sending: 0, cancelled: 1 })
      expect(await reserve(store, request(campaign.id, mailboxes, T0), T0)).toEqual({
        ok: false,
        reason: 'queue-empty',
      })
    })

    it('failed: the item fails, and with leadStatus an active lead takes it', async () => {
      const { store, mailboxes, campaign } = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const a = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      const b = sendOf(await reserve(store, request(campaign.id, mailboxes, T0), T0))
      await store.stopLead(campaign.id, 'b@x.test', 'replied', 'replied', T0)
      const base = { kind: 'failed', error: '550 no such user', attempts: 1, leadStatus: 'bounced' } as const
      await store.completeSends(
        [
          { ...base, itemId: a.item.id, leaseToken: a.item.leaseToken! },
          { ...base, itemId: b.item.id, leaseToken: b.item.leaseToken! },
        ],
        T0,
      )
      const items = await store.listQueueItems(campaign.id)
      expect(items.map((i) => [i.status, i.lastError, i.attempts, i.leaseToken])).toEqual([
        ['failed', '550 no such user', 1, null],
        ['failed', '550 no such user', 1, null],
      ])
      expect((await store.getLead(campaign.id, 'a@x.test'))!.status).toBe('bounced')
      // Compare-and-set on active: a replied lead stays replied.
      expect((await store.getLead(campaign.id, 'b@x.test'))!.status).toBe('replied')
    })
  })

  describe('refunds', () => {
    async function reservedOne(): Promise<Fixture & { send: ReservedSend }> {
      const f = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const send = sendOf(await reserve(f.store, request(f.campaign.id, f.mailboxes, T0), T0))
      return { ...f, send }
    }
    const counts = (f: Fixture, day: string) =>
      f.store.dayCounts({
        campaignId: f.campaign.id,
        campaignDayKey: day,
        mailboxes: [{ mailboxId: f.mailboxes[0]!.id, dayKey: day }],
      })
    const retry = (send: ReservedSend, refund: NonNullable<Completion['refund']>): Completion => ({
      kind: 'retry',
      itemId: send.item.id,
      leaseToken: send.item.leaseToken!,
      retryAt: T0,
      attempts: 1,
      error: 'connection refused',
      refund,
    })

    it('gives back both day counts of the reservation', async () => {
      const f = await reservedOne()
      // A store may keep the campaign's count for its current day only (the contract asks no more),
      // so D1's campaign count reads 1 or 0 once D2 started; the mailbox's D1 count is kept per day.
      const d1 = await counts(f, 'D1')
      expect([0, 1]).toContain(d1.campaign)
      expect(d1.mailboxes).toEqual({ [f.mailboxes[0]!.id]: 1 })
      const refund = { campaignDayKey: 'D1', mailboxId: f.send.item.mailboxId!, mailboxDayKey: 'D1' }
      expect(await f.store.completeSends([retry(f.send, refund)], T0)).toEqual(['ok'])
      expect(await counts(f, 'D1')).toEqual({ campaign: 0, mailboxes: { [f.mailboxes[0]!.id]: 0 } })
    })

    it('gives back nothing for day keys the reservation did not count', async () => {
      const f = await reservedOne()
      // Another reservation counts on D2; a refund naming D2 must not take it away.
      const d2 = request(f.campaign.id, f.mailboxes, T0, { campaignDayKey: 'D2' })
      d2.mailboxes = d2.mailboxes.map((c) => ({ ...c, dayKey: 'D2' }))
      sendOf(await reserve(f.store, d2, T0))
      const refund = { campaignDayKey: 'D2', mailboxId: f.send.item.mailboxId!, mailboxDayKey: 'D2' }
      await f.store.completeSends([retry(f.send, refund)], T0)
      // A store may keep the campaign's count for its current day only (the contract asks no more),
      // so D1's campaign count reads 1 or 0 once D2 started; the mailbox's D1 count is kept per day.
      const d1 = await counts(f, 'D1')
      expect([0, 1]).toContain(d1.campaign)
      expect(d1.mailboxes).toEqual({ [f.mailboxes[0]!.id]: 1 })
      expect(await counts(f, 'D2')).toEqual({ campaign: 1, mailboxes: { [f.mailboxes[0]!.id]: 1 } })
    })

    it('gives back nothing on a lost lease', async () => {
      const f = await reservedOne()
      const refund = { campaignDayKey: 'D1', mailboxId: f.send.item.mailboxId!, mailboxDayKey: 'D1' }
      expect(await f.store.completeSends([{ ...retry(f.send, refund), leaseToken: 'stale' }], T0)).toEqual([
        'lease-lost',
      ])
      // A store may keep the campaign's count for its current day only (the contract asks no more),
      // so D1's campaign count reads 1 or 0 once D2 started; the mailbox's D1 count is kept per day.
      const d1 = await counts(f, 'D1')
      expect([0, 1]).toContain(d1.campaign)
      expect(d1.mailboxes).toEqual({ [f.mailboxes[0]!.id]: 1 })
    })
  })

  describe('recoverExpiredLeases', () => {
    async function twoSending() {
      const f = await setup({ leads: ['a@x.test', 'b@x.test'] })
      const old = sendOf(
        await reserve(f.store, request(f.campaign.id, f.mailboxes, T0, { leaseUntil: at(5) }), T0),
      )
      const fresh = sendOf(
        await reserve(f.store, request(f.campaign.id, f.mailboxes, T0, { leaseUntil: at(10) }), T0),
      )
      return { ...f, old, fresh }
    }

    it("'fail' fails expired items as interrupted and refuses their late completion", async () => {
      const { store, campaign, old, fresh } = await twoSending()
      // A lease is held while now < leaseUntil: it still holds 1 ms before, and has ended at leaseUntil.
      expect(await store.recoverExpiredLeases(new Date(at(5).getTime() - 1), 'fail')).toEqual([])
      const recovered = await store.recoverExpiredLeases(at(5), 'fail')
      expect(recovered).toEqual([
        { itemId: old.item.id, campaignId: campaign.id, leadId: old.lead.id, step: 0, status: 'failed' },
      ])
      const items = await store.listQueueItems(campaign.id)
      expect(items[0]).toMatchObject({
        status: 'failed',
        lastError: 'interrupted',
        leaseToken: null,
        leaseUntil: null,
      })
      expect(items[1]).toMatchObject({ status: 'sending', leaseToken: fresh.item.leaseToken })
      expect(await store.completeSends([sent(old)], at(6))).toEqual(['lease-lost'])
      expect(await store.listSendLog(campaign.id)).toEqual([])
      expect(await store.recoverExpiredLeases(at(6), 'fail')).toEqual([])
    })

    it("'retry' makes expired items pending at now, reservable again from their mailbox", async () => {
      const { store, mailboxes, campaign, old } = await twoSending()
      const recovered = await store.recoverExpiredLeases(at(6), 'retry')
      expect(recovered.map((r) => [r.itemId, r.status])).toEqual([[old.item.id, 'pending']])
      expect((await store.listQueueItems(campaign.id))[0]).toMatchObject({
        status: 'pending',
        scheduledAt: at(6),
        leaseToken: null,
        mailboxId: old.item.mailboxId,
      })
      expect(await store.completeSends([sent(old)], at(6))).toEqual(['lease-lost'])
      const again = sendOf(await reserve(store, request(campaign.id, mailboxes, at(6)), at(6)))
      expect(again.item.id).toBe(old.item.id)
    })

    it("'retry' does not revive an item whose lead was stopped meanwhile", async () => {
      const { store, campaign, old } = await twoSending()
      await store.stopLead(campaign.id, 'a@x.test', 'replied', 'replied', at(1))
      const recovered = await store.recoverExpiredLeases(at(6), 'retry')
      expect(recovered).toEqual([expect.objectContaining({ itemId: old.item.id, status: 'failed' })])
      expect(await store.queueStats(campaign.id)).toMatchObject({ pending: 0, failed: 1 })
    })

    // One rule for both ways back to the queue (core's requeueStopReason): a campaign ended
    // (CANCELLED, or COMPLETED around an item in flight, by a status written directly) keeps its
    // item out of the queue; a paused one gets it back, to send when it resumes.
    for (const [status, revived] of [
      ['COMPLETED', false],
      ['CANCELLED', false],
      ['PAUSED', true],
    ] as const) {
      it(`'retry' ${revived ? 'revives' : 'fails'} an expired item of a campaign made ${status} meanwhile, as a retry completion ${revived ? 'revives' : 'cancels'} one`, async () => {
        const { store, campaign, old, fresh } = await twoSending()
        const changed = await store.setCampaignStatus(
          campaign.id,
          { from: ['IN_PROGRESS'], to: status },
          at(1),
        )
        expect(changed?.changed).toBe(true)
        const recovered = await store.recoverExpiredLeases(at(6), 'retry')
        expect(recovered).toEqual([
          expect.objectContaining({ itemId: old.item.id, status: revived ? 'pending' : 'failed' }),
        ])
        expect((await store.listQueueItems(campaign.id))[0]).toMatchObject({
          status: revived ? 'pending' : 'failed',
          lastError: 'interrupted',
          leaseToken: null,
        })
        const retried = await store.completeSends(
          [
            {
              kind: 'retry',
              itemId: fresh.item.id,
              leaseToken: fresh.item.leaseToken!,
              retryAt: at(6),
              attempts: 1,
              error: 'x',
            },
          ],
          at(6),
        )
        expect(retried).toEqual(['ok'])
        expect((await store.listQueueItems(campaign.id))[1]).toMatchObject({
          status: revived ? 'pending' : 'cancelled',
        })
      })
    }
  })
}
