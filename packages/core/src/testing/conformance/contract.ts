/**
 * The store contract, method by method, driven directly (not through the scheduler): reservation
 * skip reasons and their order, compare-and-set limits, candidate order, sticky mailboxes,
 * completions and their lease check, refunds, recovery, stopping leads, status changes, reading,
 * and copies. Part of what `runStoreContract` checks; every adapter runs it on its real backend.
 */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../../errors.js'
import type { Campaign, Mailbox } from '../../model/types.js'
import type {
  Completion,
  NewCampaign,
  NewLead,
  ReservedSend,
  ReserveOutcome,
  ReserveRequest,
  Store,
} from '../../store.js'

/**
 * Registers the contract tests. `makeStore` returns a fresh, empty store each call; the caller
 * closes what it made after each test.
 */
export function contractTests(makeStore: () => Promise<Store>): void {
  const T0 = new Date('2025-01-06T09:00:00.000Z')
  /** `T0` plus some minutes. */
  const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000)

  function newCampaign(mailboxIds: string[], over: Partial<NewCampaign> = {}): NewCampaign {
    return {
      name: 'Q4 outreach',
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
      steps: [
        { subject: 'Hi {{firstName}}', text: 'Hello' },
        { delayDays: 3, text: 'Following up' },
      ],
      variables: [],
      ...over,
    }
  }

  function newLead(email: string): NewLead {
    return {
      email,
      emailKey: email.trim().toLowerCase(),
      firstName: 'Jan',
      lastName: null,
      company: null,
      variables: { city: 'Warsaw' },
    }
  }

  interface Fixture {
    store: Store
    mailboxes: Mailbox[]
    campaign: Campaign
  }

  /** A store with mailboxes of the given limits and one campaign over them, started unless told. */
  async function setup(
    opts: { limits?: number[]; leads?: string[]; start?: boolean; now?: Date } = {},
  ): Promise<Fixture> {
    const store = await makeStore()
    const now = opts.now ?? T0
    const mailboxes: Mailbox[] = []
    for (const [i, limit] of (opts.limits ?? [10]).entries()) {
      mailboxes.push(
        await store.createMailbox(
          { email: `m${i}@acme.test`, name: `M${i}`, dailyEmailLimit: limit, timezone: 'UTC' },
          now,
        ),
      )
    }
    let campaign = await store.createCampaign(newCampaign(mailboxes.map((m) => m.id)), now)
    if (opts.leads !== undefined) await store.addLeads(campaign.id, opts.leads.map(newLead), now)
    if (opts.start !== false) {
      const r = await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, now)
      campaign = r!.campaign
    }
    return { store, mailboxes, campaign }
  }

  let tokens = 0

  /** A request that passes pacing and limits by default (`nextSlotAt` = `now`, so several fit in one instant). */
  function request(
    campaignId: string,
    mailboxes: Array<Pick<Mailbox, 'id' | 'dailyEmailLimit'>>,
    now: Date,
    over: Partial<ReserveRequest> = {},
  ): ReserveRequest {
    tokens += 1
    return {
      campaignId,
      leaseToken: `lease-${tokens}`,
      leaseUntil: new Date(now.getTime() + 5 * 60_000),
      campaignDayKey: 'D1',
      maxEmailsPerDay: 100,
      nextSlotAt: now,
      mailboxes: mailboxes.map((m) => ({
        mailboxId: m.id,
        dayKey: 'D1',
        dailyEmailLimit: m.dailyEmailLimit,
        messageId: `<${tokens}.${m.id}@acme.test>`,
      })),
      ...over,
    }
  }

  function sendOf(outcome: ReserveOutcome | undefined): ReservedSend {
    if (outcome === undefined || !outcome.ok)
      throw new Error(`expected a reservation, got ${JSON.stringify(outcome)}`)
    return outcome.send
  }

  async function reserve(store: Store, req: ReserveRequest, now: Date): Promise<ReserveOutcome> {
    const [outcome] = await store.reserveSends([req], now)
    return outcome!
  }

  function sent(send: ReservedSend, over: Partial<Extract<Completion, { kind: 'sent' }>> = {}): Completion {
    return {
      kind: 'sent',
      itemId: send.item.id,
      leaseToken: send.item.leaseToken!,
      messageId: send.item.messageId!,
      subject: 'Hi Jan',
      to: send.lead.email,
      ...over,
    }
  }

  describe('mailboxes and campaigns', () => {
    it('creates, updates and reads mailboxes', async () => {
      const store = await makeStore()
      const a = await store.createMailbox(
        { email: 'a@acme.test', name: null, dailyEmailLimit: 5, timezone: 'UTC' },
        T0,
      )
      const b = await store.createMailbox(
        { email: 'b@acme.test', name: 'B', dailyEmailLimit: 7, timezone: 'UTC' },
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
  })

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
