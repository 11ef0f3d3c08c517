import { expect, it } from 'vitest'
import type { SentRecord } from '../transport.js'
import { campaign, DAY, drain, type Env, type EnvFn, MINUTE, MONDAY, mailbox } from './harness.js'

/** Monday's next midnight in UTC: when a mailbox of zone UTC has room again. */
const TUESDAY = new Date(MONDAY.getTime() - 8 * 60 * MINUTE + DAY)

/**
 * A stub `resolveMx`: Google Workspace and Microsoft 365 custom domains, a domain of its own MX,
 * one whose lookup fails and one that never answers; it counts the calls per domain.
 */
function stubResolver() {
  const calls = new Map<string, number>()
  const mx: Record<string, string[]> = {
    'workspace.test': ['aspmx.l.google.com.', 'alt1.aspmx.l.google.com'],
    'sender-google.test': ['ASPMX.L.GOOGLE.COM'],
    'm365.test': ['m365-test.mail.protection.outlook.com'],
    'sender-microsoft.test': ['sender-microsoft-test.mail.protection.outlook.com'],
    'plain.test': ['mx.plain.test'],
  }
  const resolveMx = (domain: string): Promise<string[]> => {
    calls.set(domain, (calls.get(domain) ?? 0) + 1)
    if (domain === 'broken.test') return Promise.reject(new Error('SERVFAIL'))
    if (domain === 'silent.test') return new Promise<string[]>(() => {})
    return Promise.resolve(mx[domain] ?? [])
  }
  return { resolveMx, calls }
}

type Stub = ReturnType<typeof stubResolver>

/** A Google mailbox (custom domain, Google MX) and a Microsoft one (custom domain, Microsoft 365 MX). */
async function googleAndMicrosoft(e: Env, limits: { google: number; microsoft: number }) {
  const google = await e.scheduler.createMailbox(
    mailbox({
      email: `g${Math.random()}@sender-google.test`.replace('0.', ''),
      dailyEmailLimit: limits.google,
    }),
  )
  const microsoft = await e.scheduler.createMailbox(
    mailbox({
      email: `m${Math.random()}@sender-microsoft.test`.replace('0.', ''),
      dailyEmailLimit: limits.microsoft,
    }),
  )
  return { google, microsoft }
}

const to = (addresses: readonly string[]) => addresses.map((email) => ({ email, firstName: 'Sam' }))
const fromOf = (sent: readonly SentRecord[]) => new Map(sent.map((s) => [s.to, s.mailboxId]))

/** Issue #14, provider matching: recipients and mailboxes paired by their domains' MX records. */
export function providerTests(env: EnvFn): void {
  let stub: Stub
  const matchingEnv = async (extra: Parameters<EnvFn>[0] = {}) => {
    stub = stubResolver()
    return env({ resolveMx: stub.resolveMx, resolveMxTimeout: 50, ...extra })
  }

  it('prefer: Google recipients (gmail.com or a Google MX) leave from the Google mailbox, then from another once it is full', async () => {
    const e = await matchingEnv()
    const { google, microsoft } = await googleAndMicrosoft(e, { google: 3, microsoft: 100 })
    const c = await e.scheduler.createCampaign(
      campaign([microsoft.id, google.id], { providerMatching: 'prefer' }),
    )
    const googleLeads = ['a@gmail.com', 'b@workspace.test', 'c@workspace.test', 'd@gmail.com']
    const microsoftLeads = ['e@hotmail.com', 'f@m365.test']
    await e.scheduler.addLeads(c.id, to([...googleLeads, ...microsoftLeads]))
    await e.scheduler.startCampaign(c.id)
    // The mailboxes were looked up when the campaign was created, and kept.
    const stored = await e.store.getMailboxes([google.id, microsoft.id])
    expect(stored.map((m) => m.provider).sort()).toEqual(['google', 'microsoft'])

    expect(await drain(e.scheduler)).toBe(6)
    const from = fromOf(e.transport.sent)
    for (const lead of microsoftLeads) expect(from.get(lead), lead).toBe(microsoft.id)
    const fromGoogle = googleLeads.filter((lead) => from.get(lead) === google.id)
    expect(fromGoogle).toHaveLength(3)
    // The fourth fell back to the Microsoft mailbox: prefer never waits.
    expect(googleLeads.filter((lead) => from.get(lead) === microsoft.id)).toHaveLength(1)
  })

  it('strict: waits for a mailbox of the recipient’s provider (explain says provider-wait), sends the next day', async () => {
    const e = await matchingEnv()
    const { google, microsoft } = await googleAndMicrosoft(e, { google: 2, microsoft: 100 })
    const c = await e.scheduler.createCampaign(
      campaign([google.id, microsoft.id], { providerMatching: 'strict' }),
    )
    await e.scheduler.addLeads(c.id, to(['a@gmail.com', 'b@workspace.test', 'c@gmail.com', 'd@m365.test']))
    await e.scheduler.startCampaign(c.id)
    const skips: string[] = []
    const scheduler = e.another({
      onEvent: (event) => {
        if (event.type === 'skipped') skips.push(event.reason)
      },
    })

    expect(await drain(scheduler)).toBe(3)
    const sentMonday = e.transport.sent
    expect(sentMonday.filter((s) => s.mailboxId === google.id)).toHaveLength(2)
    expect(sentMonday.filter((s) => s.mailboxId === microsoft.id).map((s) => s.to)).toEqual(['d@m365.test'])
    expect(skips).toContain('provider-wait')
    // Nothing was counted for the email given back: the Microsoft mailbox sent one today.
    const explanation = await e.scheduler.explain(c.id)
    expect(explanation.reasons.map((r) => r.code)).toEqual(['provider-wait'])
    expect(explanation.reasons[0]!.until).toEqual(TUESDAY)
    expect(explanation.mailboxes.find((m) => m.id === microsoft.id)?.currentDailySent).toBe(1)
    const waiting = (await e.store.listQueueItems(c.id)).filter((i) => i.status === 'pending')
    expect(waiting).toHaveLength(1)
    expect(waiting[0]).toMatchObject({ mailboxId: null, attempts: 0 })

    e.clock.set(new Date(TUESDAY.getTime() + MINUTE))
    expect(await drain(scheduler)).toBe(1)
    const last = e.transport.sent.at(-1)!
    expect(last.mailboxId).toBe(google.id)
    expect(['a@gmail.com', 'b@workspace.test', 'c@gmail.com']).toContain(last.to)
  })

  it('strict: a provider without any mailbox in the campaign waits; recipients of provider other leave from every mailbox in turn', async () => {
    const e = await matchingEnv()
    const { google, microsoft } = await googleAndMicrosoft(e, { google: 100, microsoft: 100 })
    const c = await e.scheduler.createCampaign(
      campaign([google.id, microsoft.id], { providerMatching: 'strict' }),
    )
    const others = ['a@plain.test', 'b@plain.test', 'c@broken.test', 'd@silent.test']
    await e.scheduler.addLeads(c.id, to([...others, 'y@yahoo.com']))
    await e.scheduler.startCampaign(c.id)
    expect(await drain(e.scheduler)).toBe(4)
    const perMailbox = e.transport.sent.map((s) => s.mailboxId)
    expect(perMailbox.filter((id) => id === google.id)).toHaveLength(2)
    expect(perMailbox.filter((id) => id === microsoft.id)).toHaveLength(2)
    expect(e.transport.sent.map((s) => s.to).sort()).toEqual(others)
    const explanation = await e.scheduler.explain(c.id)
    expect(explanation.reasons.map((r) => r.code)).toEqual(['provider-wait'])
    expect(explanation.reasons[0]!.until).toBeUndefined()
    expect(explanation.reasons[0]!.message).toContain('yahoo')
  })

  it('follow-ups leave from their thread’s mailbox, whatever its provider, in either mode', async () => {
    const e = await matchingEnv()
    const { google, microsoft } = await googleAndMicrosoft(e, { google: 1, microsoft: 100 })
    const c = await e.scheduler.createCampaign(
      campaign([google.id, microsoft.id], {
        providerMatching: 'prefer',
        steps: [
          { subject: 'Hello', text: 'Hi' },
          { delayDays: 1, text: 'Following up' },
        ],
      }),
    )
    await e.scheduler.addLeads(c.id, to(['a@gmail.com', 'b@gmail.com']))
    await e.scheduler.startCampaign(c.id)
    expect(await drain(e.scheduler)).toBe(2)
    const first = fromOf(e.transport.sent)
    expect([...first.values()].sort()).toEqual([google.id, microsoft.id].sort())

    // Strict now: the follow-up of the lead first mailed from Microsoft still leaves from there.
    await e.scheduler.updateCampaign(c.id, { providerMatching: 'strict' })
    e.clock.set(new Date(MONDAY.getTime() + DAY + MINUTE))
    expect(await drain(e.scheduler)).toBe(2)
    const followUps = e.transport.sent.filter((s) => s.step === 1)
    expect(followUps).toHaveLength(2)
    for (const s of followUps) expect(s.mailboxId, s.to).toBe(first.get(s.to))
  })

  it('looks each domain up once, never for a campaign that does not match, and a failing lookup never blocks a send', async () => {
    const e = await matchingEnv()
    const { google, microsoft } = await googleAndMicrosoft(e, { google: 100, microsoft: 100 })
    const off = await e.scheduler.createCampaign(campaign([google.id]))
    await e.scheduler.addLeads(off.id, to(['x@workspace.test', 'y@broken.test']))
    expect(stub.calls.size).toBe(0)

    const c = await e.scheduler.createCampaign(
      campaign([google.id, microsoft.id], { providerMatching: 'prefer' }),
    )
    await e.scheduler.addLeads(
      c.id,
      to(['a@workspace.test', 'b@workspace.test', 'c@broken.test', 'd@gmail.com']),
    )
    await e.scheduler.addLeads(c.id, to(['e@workspace.test', 'f@broken.test', 'g@m365.test']))
    await e.scheduler.startCampaign(c.id)
    await e.scheduler.startCampaign(off.id)
    expect(await drain(e.scheduler)).toBe(9)
    expect(Object.fromEntries(stub.calls)).toEqual({
      'sender-google.test': 1,
      'sender-microsoft.test': 1,
      'workspace.test': 1,
      'broken.test': 1,
      'm365.test': 1,
    })
    // The provider is part of the window key; a failed lookup keeps the plain key (other).
    const keys = new Map((await e.store.listQueueItems(c.id)).map((i) => [i.leadId, i.windowKey]))
    const leads = await e.store.listLeads(c.id)
    const keyOf = (email: string) => keys.get(leads.find((l) => l.email === email)!.id)
    expect(keyOf('a@workspace.test')).toBe('||google')
    expect(keyOf('g@m365.test')).toBe('||microsoft')
    expect(keyOf('c@broken.test')).toBe('')
    const from = fromOf(e.transport.sent.filter((s) => s.campaignId === c.id))
    expect(from.get('a@workspace.test')).toBe(google.id)
    expect(from.get('g@m365.test')).toBe(microsoft.id)
    expect(from.has('c@broken.test')).toBe(true)
  })

  it('prefer: a provider’s first emails go round its mailboxes, whatever was sent in between', async () => {
    const e = await matchingEnv()
    const { google, microsoft } = await googleAndMicrosoft(e, { google: 100, microsoft: 100 })
    const second = await e.scheduler.createMailbox(
      mailbox({ email: 'second@sender-google.test', dailyEmailLimit: 100 }),
    )
    const c = await e.scheduler.createCampaign(
      campaign([google.id, microsoft.id, second.id], { providerMatching: 'prefer' }),
    )
    // Google and Microsoft recipients due in turn: each Google send follows a Microsoft one.
    const googleLeads = Array.from({ length: 6 }, (_, i) => `g${i}@workspace.test`)
    for (const [i, lead] of googleLeads.entries()) {
      await e.scheduler.addLeads(c.id, to([lead]))
      e.clock.advance(MINUTE)
      await e.scheduler.addLeads(c.id, to([`m${i}@m365.test`]))
      e.clock.advance(MINUTE)
    }
    await e.scheduler.startCampaign(c.id)
    expect(await drain(e.scheduler)).toBe(12)
    const sent = e.transport.sent
    expect(sent.map((s) => s.to[0]).join('')).toBe('gmgmgmgmgmgm')
    const googleFrom = sent.filter((s) => s.to.startsWith('g')).map((s) => s.mailboxId)
    expect(googleFrom).toEqual([google.id, second.id, google.id, second.id, google.id, second.id])
    expect(sent.filter((s) => s.to.startsWith('m')).every((s) => s.mailboxId === microsoft.id)).toBe(true)
  })

  it('leads brought in by importCampaign are keyed by provider too', async () => {
    const e = await matchingEnv()
    const { google, microsoft } = await googleAndMicrosoft(e, { google: 100, microsoft: 100 })
    const imported = await e.scheduler.importCampaign({
      externalId: 'legacy-providers',
      campaign: campaign([microsoft.id, google.id], { providerMatching: 'strict' }),
      leads: to(['a@workspace.test', 'b@gmail.com', 'c@m365.test']),
      start: true,
    })
    expect(await drain(e.scheduler)).toBe(3)
    const from = fromOf(e.transport.sent.filter((s) => s.campaignId === imported.campaignId))
    expect(from.get('a@workspace.test')).toBe(google.id)
    expect(from.get('b@gmail.com')).toBe(google.id)
    expect(from.get('c@m365.test')).toBe(microsoft.id)
  })
}
