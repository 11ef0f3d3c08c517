/**
 * `@mailcadence/dashboard`: an operator's page for a mailcadence scheduler, as one Fetch-API
 * handler `(request: Request) => Promise<Response>` to mount in any framework.
 *
 * @packageDocumentation
 */
import { type CampaignStatus, isMailcadenceError, MailcadenceError, type Scheduler } from '@mailcadence/core'
import { createCsrf } from './csrf.js'
import { html, layout, pageHeaders } from './html.js'
import { campaignPage, campaignsPage, mailboxesPage, type PageContext } from './pages.js'

export { toNodeHandler } from './node.js'

export interface DashboardOptions {
  /** The scheduler to show and act on (its store needs `listCampaigns` and `listMailboxes`, as every shipped store has). */
  scheduler: Scheduler
  /**
   * Required: decides whether a request may see the dashboard and act. Return `true` to let it
   * through, `false` for a 403, or a `Response` to send instead (a 401 asking for credentials, a
   * redirect to your login page). There is no anonymous default.
   */
  authorize: (request: Request) => boolean | Response | Promise<boolean | Response>
  /** Path the dashboard is mounted under, such as `/admin/mail`. Default `''` (the root). */
  basePath?: string
  /**
   * Key of the CSRF tokens' HMAC. Default: random per dashboard, so tokens last as long as the
   * process; give every process behind one load balancer the same secret (32 bytes or more).
   */
  secret?: string | Uint8Array
  /** Campaigns per page. Default 50. */
  pageSize?: number
  /** Where "now" comes from (pause states). Default: the system clock; tests pass a fake one. */
  clock?: { now(): Date }
}

export type DashboardHandler = (request: Request) => Promise<Response>

const STATUSES = new Set<string>(['DRAFT', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'CANCELLED'])
const CAMPAIGN_ACTIONS = { pause: 'paused', resume: 'resumed', stop: 'stopped' } as const
const MAILBOX_ACTIONS = { pause: 'mailbox-paused', resume: 'mailbox-resumed' } as const
const MAX_FORM_BYTES = 4096

export function createDashboard(options: DashboardOptions): DashboardHandler {
  const { scheduler, authorize } = validate(options)
  const base = (options.basePath ?? '').replace(/\/+$/, '')
  const csrf = createCsrf(options.secret)
  const clock = options.clock ?? { now: () => new Date() }
  const pageSize = options.pageSize ?? 50

  return async function dashboard(request) {
    const url = new URL(request.url)
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`))
      return errorPage(base, 404, 'Not found.')
    const allowed = await authorize(request)
    if (allowed instanceof Response) return allowed
    if (allowed !== true) return errorPage(base, 403, 'Forbidden.')
    const path = url.pathname.slice(base.length) || '/'
    try {
      if (request.method === 'POST') return await act(request, path)
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return errorPage(base, 405, 'Method not allowed.')
      return await show(request, url, path)
    } catch (error) {
      return failure(base, error)
    }
  }

  async function show(request: Request, url: URL, path: string): Promise<Response> {
    const { token, setCookie } = csrf.issue(request, base || '/')
    const ctx: PageContext = { scheduler, base, now: clock.now(), csrfToken: token, pageSize }
    const done = url.searchParams.get('done')
    let page: { title: string; body: ReturnType<typeof html> }
    const campaign = /^\/campaigns\/([^/]+)$/.exec(path)
    if (path === '/') {
      const status = url.searchParams.get('status') ?? ''
      const after = url.searchParams.get('after') ?? ''
      page = await campaignsPage(ctx, {
        status: STATUSES.has(status) ? (status as CampaignStatus) : undefined,
        after: after || undefined,
        done,
      })
    } else if (path === '/mailboxes') page = await mailboxesPage(ctx, done)
    else if (campaign) page = await campaignPage(ctx, decodeURIComponent(campaign[1]!), done)
    else return errorPage(base, 404, 'Not found.')
    const response = layout({ title: page.title, base, body: page.body })
    if (setCookie) response.headers.append('set-cookie', setCookie)
    return response
  }

  async function act(request: Request, path: string): Promise<Response> {
    const form = await readForm(request)
    if (!csrf.verify(request, form?.get('_csrf') ?? null))
      return errorPage(
        base,
        403,
        'The form expired or did not come from this dashboard: reload the page and try again.',
      )
    const campaign = /^\/campaigns\/([^/]+)\/(pause|resume|stop)$/.exec(path)
    if (campaign) {
      const id = decodeURIComponent(campaign[1]!)
      const action = campaign[2] as keyof typeof CAMPAIGN_ACTIONS
      if (action === 'pause') await scheduler.pauseCampaign(id)
      else if (action === 'resume') await scheduler.resumeCampaign(id)
      else await scheduler.stopCampaign(id)
      return redirect(`${base}/campaigns/${encodeURIComponent(id)}?done=${CAMPAIGN_ACTIONS[action]}`)
    }
    const mailbox = /^\/mailboxes\/([^/]+)\/(pause|resume)$/.exec(path)
    if (mailbox) {
      const id = decodeURIComponent(mailbox[1]!)
      const action = mailbox[2] as keyof typeof MAILBOX_ACTIONS
      if (action === 'pause') await scheduler.pauseMailbox(id, { reason: 'paused from the dashboard' })
      else await scheduler.resumeMailbox(id)
      return redirect(`${base}/mailboxes?done=${MAILBOX_ACTIONS[action]}`)
    }
    return errorPage(base, 404, 'Not found.')
  }
}

function validate(options: DashboardOptions): DashboardOptions {
  if (typeof options !== 'object' || options === null)
    throw new MailcadenceError('invalid-input', 'options: must be an object', { field: 'options' })
  if (typeof options.authorize !== 'function')
    throw new MailcadenceError(
      'invalid-input',
      'authorize: required, a function (request) => boolean | Response deciding who may see and act; there is no anonymous default',
      { field: 'authorize' },
    )
  if (
    typeof options.scheduler !== 'object' ||
    options.scheduler === null ||
    typeof options.scheduler.explain !== 'function'
  )
    throw new MailcadenceError('invalid-input', 'scheduler: required, a scheduler from createScheduler()', {
      field: 'scheduler',
    })
  if (
    options.basePath !== undefined &&
    (typeof options.basePath !== 'string' || !/^(\/[A-Za-z0-9._~-]+)*\/?$/.test(options.basePath))
  )
    throw new MailcadenceError('invalid-input', 'basePath: must be a path such as "/admin/mail"', {
      field: 'basePath',
    })
  if (
    options.pageSize !== undefined &&
    (!Number.isInteger(options.pageSize) || options.pageSize < 1 || options.pageSize > 500)
  )
    throw new MailcadenceError('invalid-input', 'pageSize: must be an integer from 1 to 500', {
      field: 'pageSize',
    })
  return options
}

async function readForm(request: Request): Promise<URLSearchParams | null> {
  const type = request.headers.get('content-type') ?? ''
  if (!type.startsWith('application/x-www-form-urlencoded')) return null
  const body = await request.text()
  return body.length > MAX_FORM_BYTES ? null : new URLSearchParams(body)
}

function redirect(location: string): Response {
  // 303: the browser follows with a GET, so reloading the page does not repeat the action.
  return new Response(null, { status: 303, headers: pageHeaders({ location }) })
}

function errorPage(base: string, status: number, message: string): Response {
  return layout({
    title: `Error ${status}`,
    base,
    status,
    body: html`<h1>Error ${status}</h1><p class="error">${message}</p>`,
  })
}

function failure(base: string, error: unknown): Response {
  if (isMailcadenceError(error, 'not-found')) return errorPage(base, 404, error.message)
  if (isMailcadenceError(error, 'invalid-state')) return errorPage(base, 409, error.message)
  if (isMailcadenceError(error, 'invalid-input')) return errorPage(base, 400, error.message)
  // Anything else may carry details of the store (a connection string in a driver's message):
  // the page says only that it failed.
  return errorPage(base, 500, 'The dashboard could not read the scheduler. See the server log.')
}
