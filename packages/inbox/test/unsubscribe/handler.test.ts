/**
 * The unsubscribe handler against a real scheduler on the memory store: what each request does
 * to the lead, read back through the scheduler and the store.
 */
import { randomBytes } from 'node:crypto'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type Scheduler } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createUnsubscribe, type UnsubscribeSecret } from '../../src/index.js'

const KEY_A = 'a'.repeat(16) + randomBytes(16).toString('hex')
const KEY_B = randomBytes(32)
const BASE = 'https://acme.test/unsubscribe'
const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

async function setup(secrets: UnsubscribeSecret[] = [{ id: 'k1', key: KEY_A }]) {
  const store = createMemoryStore()
  const transport = createRecordingTransport()
  const clock = createFakeClock(new Date('2026-03-03T10:00:00Z'))
  const scheduler = createScheduler({ store, transport, clock, lookahead: 0 })
  closers.push(() => scheduler.close())
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
  const campaign = await scheduler.createCampaign({
    name: 'Q1',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    mailboxIds: [mailbox.id],
    steps: [
      { subject: 'Hi', text: 'One' },
      { delayDays: 1, text: 'Two' },
    ],
  })
  await scheduler.addLeads(campaign.id, [{ email: 'Jan@Example.com' }, { email: 'eve@example.com' }])
  const unsubscribe = createUnsubscribe({ scheduler, baseUrl: BASE, secrets })
  const jan = (await store.getLead(campaign.id, 'jan@example.com'))!
  return { store, scheduler, campaign, unsubscribe, jan, link: unsubscribe.url(jan, campaign) }
}

const oneClick = (
  url: string,
  body = 'List-Unsubscribe=One-Click',
  type = 'application/x-www-form-urlencoded',
) => new Request(url, { method: 'POST', body, headers: { 'content-type': type } })

async function statusOf(store: ReturnType<typeof createMemoryStore>, campaignId: string, email: string) {
  return (await store.getLead(campaignId, email))?.status
}

describe('createUnsubscribe: links', () => {
  it('puts a base64url token in the t parameter of baseUrl', async () => {
    const { link } = await setup()
    const url = new URL(link)
    expect(`${url.origin}${url.pathname}`).toBe(BASE)
    expect(url.searchParams.get('t')).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
  })

  it('is accepted by the scheduler as unsubscribeUrl (List-Unsubscribe and the body link)', async () => {
    const store = createMemoryStore()
    const transport = createRecordingTransport()
    const clock = createFakeClock(new Date('2026-03-03T10:00:00Z'))
    const unsubscribe = createUnsubscribe({
      scheduler: { suppress: async () => ({ cancelled: 0 }) },
      baseUrl: BASE,
      secrets: [{ id: 'k1', key: KEY_A }],
    })
    const scheduler = createScheduler({
      store,
      transport,
      clock,
      lookahead: 0,
      unsubscribeUrl: unsubscribe.url,
    })
    closers.push(() => scheduler.close())
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
    const campaign = await scheduler.createCampaign({
      name: 'Q1',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      mailboxIds: [mailbox.id],
      steps: [{ subject: 'Hi', text: 'Stop: {{unsubscribeUrl}}' }],
    })
    await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com' }])
    await scheduler.startCampaign(campaign.id)
    await scheduler.tick()
    const [sent] = transport.sent
    const link = unsubscribe.url({ email: 'jan@example.com' }, campaign)
    expect(sent?.headers['List-Unsubscribe']).toBe(`<${link}>`)
    expect(sent?.text).toBe(`Stop: ${link}`)
  })
})

describe('createUnsubscribe: handle', () => {
  it('GET shows a confirmation page with a POST button and changes nothing', async () => {
    const { store, scheduler, campaign, unsubscribe, link } = await setup()
    const suppress = vi.spyOn(scheduler, 'suppress')
    for (let i = 0; i < 3; i++) {
      const response = await unsubscribe.handle(new Request(link))
      expect(response.status).toBe(200)
      const html = await response.text()
      expect(html).toContain('<form method="post">')
      expect(html).toContain('name="List-Unsubscribe" value="One-Click"')
      expect(html).toContain('j…@example.com')
      expect(html).not.toContain('jan@example.com')
    }
    const head = await unsubscribe.handle(new Request(link, { method: 'HEAD' }))
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect(suppress).not.toHaveBeenCalled()
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('active')
    expect((await scheduler.queueStats(campaign.id)).pending).toBe(2)
  })

  it('POST List-Unsubscribe=One-Click suppresses the address once; again is harmless', async () => {
    const { store, scheduler, campaign, unsubscribe, link } = await setup()
    const suppress = vi.spyOn(scheduler, 'suppress')
    const first = await unsubscribe.handle(oneClick(link))
    expect(first.status).toBe(200)
    expect(first.headers.get('location')).toBeNull()
    expect(first.headers.get('set-cookie')).toBeNull()
    expect(await first.text()).toContain('will not receive any more emails')
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('suppressed')
    expect(await statusOf(store, campaign.id, 'eve@example.com')).toBe('active')
    // Suppressed everywhere: the address cannot be added to another campaign.
    const other = await scheduler.createCampaign({
      name: 'Q2',
      mailboxIds: campaign.mailboxIds,
      steps: campaign.steps,
    })
    expect((await scheduler.addLeads(other.id, [{ email: 'jan@example.com' }])).invalid).toEqual([
      { email: 'jan@example.com', reason: 'suppressed' },
    ])

    const second = await unsubscribe.handle(oneClick(link))
    expect(second.status).toBe(200)
    expect(suppress).toHaveBeenCalledTimes(2)
    expect(suppress).toHaveBeenLastCalledWith('jan@example.com', expect.stringContaining(campaign.id))
    expect((await scheduler.queueStats(campaign.id)).pending).toBe(1)
  })

  it("the page's button (multipart or urlencoded form) suppresses too", async () => {
    const { store, campaign, unsubscribe, link } = await setup()
    const form = new FormData()
    form.set('List-Unsubscribe', 'One-Click')
    const response = await unsubscribe.handle(new Request(link, { method: 'POST', body: form }))
    expect(response.status).toBe(200)
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('suppressed')
  })

  it('a POST without List-Unsubscribe=One-Click changes nothing (400)', async () => {
    const { store, campaign, unsubscribe, link } = await setup()
    for (const body of ['', 'List-Unsubscribe=Yes', 'other=1']) {
      expect((await unsubscribe.handle(oneClick(link, body))).status).toBe(400)
    }
    expect((await unsubscribe.handle(oneClick(link, '{}', 'application/json'))).status).toBe(400)
    const huge = oneClick(link, `List-Unsubscribe=One-Click&x=${'a'.repeat(20_000)}`)
    expect((await unsubscribe.handle(huge)).status).toBe(413)
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('active')
  })

  it('tampered, truncated, unknown-key and malformed tokens get 400 and a page saying so', async () => {
    const { store, campaign, unsubscribe, link } = await setup()
    const token = new URL(link).searchParams.get('t')!
    const [payload, mac] = token.split('.') as [string, string]
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
    // Another lead's address under the same signature.
    const forged = Buffer.from(JSON.stringify([1, 'k1', campaign.id, 'eve@example.com'])).toString(
      'base64url',
    )
    const other = createUnsubscribe({
      scheduler: { suppress: async () => ({ cancelled: 0 }) },
      baseUrl: BASE,
      secrets: [{ id: 'k1', key: randomBytes(32) }],
    }).url({ email: 'jan@example.com' }, campaign)
    const bad = [
      `${payload}.${flip(mac, 5)}`,
      `${payload}.${flip(mac, mac.length - 1)}`,
      `${flip(payload, 3)}.${mac}`,
      `${forged}.${mac}`,
      token.slice(0, -3),
      payload,
      '',
      'not a token',
      `${token}.x`,
      new URL(other).searchParams.get('t')!,
      `${Buffer.from(JSON.stringify([1, 'old', campaign.id, 'jan@example.com'])).toString('base64url')}.${mac}`,
      `${Buffer.from(JSON.stringify([2, 'k1', campaign.id, 'jan@example.com'])).toString('base64url')}.${mac}`,
    ]
    for (const t of bad) {
      const url = `${BASE}?t=${encodeURIComponent(t)}`
      for (const request of [new Request(url), oneClick(url)]) {
        const response = await unsubscribe.handle(request)
        expect(response.status, t).toBe(400)
        expect(await response.text()).toContain('This unsubscribe link is not valid')
      }
    }
    expect((await unsubscribe.handle(oneClick(BASE))).status).toBe(400)
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('active')
    expect(await statusOf(store, campaign.id, 'eve@example.com')).toBe('active')
  })

  it('rotation: links of an older key work while it is listed, and stop when it is dropped', async () => {
    const { store, scheduler, campaign, unsubscribe: old, jan } = await setup([{ id: 'k1', key: KEY_A }])
    const oldLink = old.url(jan, campaign)
    const rotated = createUnsubscribe({
      scheduler,
      baseUrl: BASE,
      secrets: [
        { id: 'k2', key: KEY_B },
        { id: 'k1', key: KEY_A },
      ],
    })
    const newLink = rotated.url(jan, campaign)
    expect(newLink).not.toBe(oldLink)
    expect((await rotated.handle(new Request(newLink))).status).toBe(200)
    const dropped = createUnsubscribe({ scheduler, baseUrl: BASE, secrets: [{ id: 'k2', key: KEY_B }] })
    expect((await dropped.handle(oneClick(oldLink))).status).toBe(400)
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('active')
    expect((await rotated.handle(oneClick(oldLink))).status).toBe(200)
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('suppressed')
  })

  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s gets 405 with Allow', async (method) => {
    const { store, campaign, unsubscribe, link } = await setup()
    const response = await unsubscribe.handle(new Request(link, { method }))
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST')
    expect(await statusOf(store, campaign.id, 'jan@example.com')).toBe('active')
  })

  it('answers with no cookies, no caching, no referrer, and no script', async () => {
    const { unsubscribe, link } = await setup()
    for (const request of [new Request(link), oneClick(link), new Request(`${BASE}?t=x`)]) {
      const response = await unsubscribe.handle(request)
      expect(response.headers.get('set-cookie')).toBeNull()
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('referrer-policy')).toBe('no-referrer')
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(await response.text()).not.toContain('<script')
    }
  })

  it('a failing store gives 503 without its error text', async () => {
    const { campaign, jan } = await setup()
    const unsubscribe = createUnsubscribe({
      scheduler: {
        suppress: async () => {
          throw new Error('connect ECONNREFUSED postgres://admin:hunter2@db')
        },
      },
      baseUrl: BASE,
      secrets: [{ id: 'k1', key: KEY_A }],
    })
    const response = await unsubscribe.handle(oneClick(unsubscribe.url(jan, campaign)))
    expect(response.status).toBe(503)
    expect(await response.text()).not.toMatch(/hunter2|ECONNREFUSED/)
  })
})

describe('createUnsubscribe: options', () => {
  const scheduler = { suppress: async () => ({ cancelled: 0 }) } as Pick<Scheduler, 'suppress'>
  const make = (patch: object) =>
    createUnsubscribe({ scheduler, baseUrl: BASE, secrets: [{ id: 'k1', key: KEY_A }], ...patch } as never)
  const refusal = (field: string) => expect.objectContaining({ code: 'invalid-input', field })

  it.each<[string, object]>([
    ['scheduler', { scheduler: {} }],
    ['baseUrl', { baseUrl: 'http://acme.test/u' }],
    ['baseUrl', { baseUrl: '/unsubscribe' }],
    ['baseUrl', { baseUrl: 'https://u:p@acme.test/u' }],
    ['secrets', { secrets: [] }],
    ['secrets[0].id', { secrets: [{ id: 'has space', key: KEY_A }] }],
    [
      'secrets[1].id',
      {
        secrets: [
          { id: 'k1', key: KEY_A },
          { id: 'k1', key: KEY_B },
        ],
      },
    ],
    ['secrets[0].key', { secrets: [{ id: 'k1', key: 42 }] }],
  ])('refuses a bad %s', (field, patch) => {
    expect(() => make(patch)).toThrow(refusal(field))
  })

  it('refuses a key shorter than 32 bytes without showing it', () => {
    const short = 'short-secret-31-bytes-long-xxxx'
    expect(new TextEncoder().encode(short).byteLength).toBe(31)
    let error: unknown
    try {
      make({
        secrets: [
          { id: 'k2', key: KEY_B },
          { id: 'k1', key: short },
        ],
      })
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'invalid-input', field: 'secrets[1].key' })
    expect(String((error as Error).message)).not.toContain(short)
    expect(() => make({ secrets: [{ id: 'k1', key: randomBytes(32) }] })).not.toThrow()
  })
})
