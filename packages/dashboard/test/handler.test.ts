/**
 * The dashboard as a Fetch handler, without a browser: authorization, routing under a base path,
 * escaping, CSRF on every action, pagination over 10,000 campaigns.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, isMailcadenceError } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createDashboard } from '../src/index.js'
import { SCRIPT_NAME, simulateWeek } from './support/week.js'

const ORIGIN = 'http://dash.test'
const AUTH = { authorization: 'Bearer ok' }
const authorize = (request: Request) => request.headers.get('authorization') === 'Bearer ok'

async function setUp() {
  const week = await simulateWeek()
  const dashboard = createDashboard({
    scheduler: week.scheduler,
    basePath: '/admin/mail',
    authorize,
    clock: week.clock,
  })
  const get = (path: string, headers: Record<string, string> = {}) =>
    dashboard(new Request(`${ORIGIN}/admin/mail${path}`, { headers: { ...AUTH, ...headers } }))
  return { ...week, dashboard, get }
}

/** The CSRF cookie a page set and the token of its forms. */
async function formCredentials(response: Response): Promise<{ cookie: string; token: string; body: string }> {
  const body = await response.text()
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!
  const token = /name="_csrf" value="([^"]+)"/.exec(body)![1]!
  return { cookie, token, body }
}

function post(
  dashboard: (r: Request) => Promise<Response>,
  path: string,
  fields: Record<string, string>,
  cookie?: string,
) {
  return dashboard(
    new Request(`${ORIGIN}/admin/mail${path}`, {
      method: 'POST',
      headers: {
        ...AUTH,
        'content-type': 'application/x-www-form-urlencoded',
        ...(cookie ? { cookie } : {}),
      },
      body: new URLSearchParams(fields).toString(),
    }),
  )
}

describe('createDashboard', () => {
  it('requires authorize (no anonymous default) and a scheduler', () => {
    const scheduler = createScheduler({ store: createMemoryStore(), mode: 'shadow' })
    for (const [options, field] of [
      [{ scheduler }, 'authorize'],
      [{ scheduler, authorize: true }, 'authorize'],
      [{ authorize }, 'scheduler'],
      [{ scheduler, authorize, basePath: 'admin"><' }, 'basePath'],
      [{ scheduler, authorize, pageSize: 0 }, 'pageSize'],
    ] as const) {
      let error: unknown
      try {
        createDashboard(options as never)
      } catch (e) {
        error = e
      }
      expect(isMailcadenceError(error, 'invalid-input') && error.field).toBe(field)
    }
  })

  it('asks authorize on every request; a Response from it is sent as is', async () => {
    const { scheduler } = await simulateWeek()
    const seen: string[] = []
    const dashboard = createDashboard({
      scheduler,
      authorize: (r) => {
        seen.push(new URL(r.url).pathname)
        return r.headers.get('x-user') === 'ops' ? true : new Response('log in', { status: 401 })
      },
    })
    expect((await dashboard(new Request(`${ORIGIN}/`))).status).toBe(401)
    expect((await dashboard(new Request(`${ORIGIN}/mailboxes`, { method: 'POST' }))).status).toBe(401)
    expect((await dashboard(new Request(`${ORIGIN}/`, { headers: { 'x-user': 'ops' } }))).status).toBe(200)
    expect(seen).toEqual(['/', '/mailboxes', '/'])
    const denied = createDashboard({ scheduler, authorize: () => false })
    expect((await denied(new Request(`${ORIGIN}/`))).status).toBe(403)
  })

  it('serves its pages under basePath only, with headers that forbid scripts', async () => {
    const { get, dashboard, campaign } = await setUp()
    const home = await get('/')
    expect(home.status).toBe(200)
    expect(home.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect((await get(`/campaigns/${campaign.id}`)).status).toBe(200)
    expect((await get('/mailboxes')).status).toBe(200)
    expect((await get('/campaigns/999')).status).toBe(404)
    expect((await get('/nope')).status).toBe(404)
    expect((await dashboard(new Request(`${ORIGIN}/other`, { headers: AUTH }))).status).toBe(404)
  })

  it('escapes everything it shows: a lead named <script> and a campaign named with markup stay text', async () => {
    const { get, campaign } = await setUp()
    const home = await (await get('/')).text()
    expect(home).toContain('&lt;b&gt;Partners&lt;/b&gt; &amp; &quot;friends&quot;')
    expect(home).not.toContain('<b>Partners')
    const page = await (await get(`/campaigns/${campaign.id}`)).text()
    expect(page).toContain('Hi &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page).not.toContain(SCRIPT_NAME)
    expect(page).not.toMatch(/<script/i)
    // A hostile query string is never echoed.
    const hostile = await (await get('/?status=%3Cscript%3E&done=%3Cscript%3E')).text()
    expect(hostile).not.toMatch(/<script/i)
  })

  it('refuses an action without the CSRF token of its cookie, and performs it with one', async () => {
    const { get, dashboard, scheduler, campaign, other } = await setUp()
    const { cookie, token } = await formCredentials(await get(`/campaigns/${campaign.id}`))
    const path = `/campaigns/${campaign.id}/pause`
    expect((await post(dashboard, path, {})).status).toBe(403)
    expect((await post(dashboard, path, { _csrf: token })).status).toBe(403) // no cookie
    expect((await post(dashboard, path, { _csrf: 'x'.repeat(43) }, cookie)).status).toBe(403)
    // A cookie the attacker chose does not match a token signed for another nonce.
    expect((await post(dashboard, path, { _csrf: token }, `mc_csrf=${'A'.repeat(43)}`)).status).toBe(403)
    // Tokens from another dashboard (another secret) do not work here.
    const otherDashboard = createDashboard({ scheduler, authorize, basePath: '/admin/mail' })
    const foreign = await formCredentials(
      await otherDashboard(new Request(`${ORIGIN}/admin/mail/campaigns/${campaign.id}`, { headers: AUTH })),
    )
    expect((await post(dashboard, path, { _csrf: foreign.token }, foreign.cookie)).status).toBe(403)
    expect((await scheduler.getCampaign(campaign.id)).status).toBe('IN_PROGRESS')

    const done = await post(dashboard, path, { _csrf: token }, cookie)
    expect(done.status).toBe(303)
    expect(done.headers.get('location')).toBe(`/admin/mail/campaigns/${campaign.id}?done=paused`)
    expect((await scheduler.getCampaign(campaign.id)).status).toBe('PAUSED')
    // Pausing a draft is a 409 with the reason, not a crash.
    const draft = await post(dashboard, `/campaigns/${other.id}/pause`, { _csrf: token }, cookie)
    expect(draft.status).toBe(409)
    expect(await draft.text()).toContain('is DRAFT; cannot move it to PAUSED')
    expect((await post(dashboard, `/campaigns/${campaign.id}/resume`, { _csrf: token }, cookie)).status).toBe(
      303,
    )
    expect((await scheduler.getCampaign(campaign.id)).status).toBe('IN_PROGRESS')
    // The cookie is set once, then reused: same token on the next page.
    const again = await get(`/campaigns/${campaign.id}`, { cookie })
    expect(again.headers.get('set-cookie')).toBeNull()
    expect(await again.text()).toContain(`value="${token}"`)
  })

  it('pauses and resumes a mailbox', async () => {
    const { get, dashboard, scheduler } = await setUp()
    const { cookie, token } = await formCredentials(await get('/mailboxes'))
    const [anna] = await scheduler.listMailboxes()
    expect((await post(dashboard, `/mailboxes/${anna!.id}/pause`, { _csrf: token }, cookie)).status).toBe(303)
    expect((await scheduler.listMailboxes())[0]!.pauseReason).toBe('paused from the dashboard')
    expect(await (await get('/mailboxes?done=mailbox-paused', { cookie })).text()).toContain(
      'Mailbox paused.',
    )
    expect((await post(dashboard, `/mailboxes/${anna!.id}/resume`, { _csrf: token }, cookie)).status).toBe(
      303,
    )
    expect((await scheduler.listMailboxes())[0]!.pausedUntil).toBeNull()
  })

  it('pages through 10,000 campaigns by status, each page quickly', async () => {
    const clock = createFakeClock()
    const scheduler = createScheduler({ store: createMemoryStore(), mode: 'shadow', clock })
    const box = await scheduler.createMailbox({ email: 'a@acme.test', dailyEmailLimit: 10 })
    for (let i = 0; i < 10_000; i++) {
      const c = await scheduler.createCampaign({
        name: `C${i}`,
        mailboxIds: [box.id],
        steps: [{ subject: 's', text: 't' }],
      })
      if (i % 4 === 0) await scheduler.startCampaign(c.id)
    }
    const dashboard = createDashboard({ scheduler, authorize: () => true, clock })
    const names = (body: string) =>
      [...body.matchAll(/data-campaign-id="[^"]+"><td><a [^>]+>([^<]+)</g)].map((m) => m[1]!)
    let url = `${ORIGIN}/?status=IN_PROGRESS`
    const seen: string[] = []
    let slowest = 0
    for (let page = 0; page < 3; page++) {
      const started = performance.now()
      const body = await (await dashboard(new Request(url))).text()
      slowest = Math.max(slowest, performance.now() - started)
      seen.push(...names(body))
      url = ORIGIN + /rel="next" href="([^"]+)"/.exec(body)![1]!.replaceAll('&amp;', '&')
    }
    expect(seen).toHaveLength(150)
    expect(seen.slice(0, 3)).toEqual(['C0', 'C4', 'C8'])
    expect(new Set(seen).size).toBe(150)
    expect(slowest).toBeLessThan(1000)
  })
})
