/** Builders shared by the store contract tests: a store with mailboxes and a campaign, requests, completions. */
import type { Campaign, Mailbox } from '../../../model/types.js'
import type {
  Completion,
  NewCampaign,
  NewLead,
  ReservedSend,
  ReserveOutcome,
  ReserveRequest,
  Store,
} from '../../../store.js'

export interface Fixture {
  store: Store
  mailboxes: Mailbox[]
  campaign: Campaign
}

export type Fixtures = ReturnType<typeof createFixtures>

export function createFixtures(makeStore: () => Promise<Store>) {
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
      windowTimezone: 'campaign',
      skipDates: [],
      stopOnReply: 'lead',
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
      timezone: null,
      country: null,
      windowKey: '',
    }
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
          { email: `m${i}@acme.test`, name: `M${i}`, dailyEmailLimit: limit, timezone: 'UTC', skipDates: [] },
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

  return { makeStore, T0, at, newCampaign, newLead, setup, request, sendOf, reserve, sent }
}
