/**
 * The scheduler's inspection reads, for dashboards and the CLI: campaigns by page, mailboxes,
 * failures with the server's answers, the recent send log and sends per local day. None of them
 * runs on a tick. Each uses the store's optional read when it has one and otherwise falls back on
 * the required reads, or says which store method is missing.
 */
import { invalidInput, MailcadenceError } from '../errors.js'
import type { Campaign, CampaignStatus, Mailbox } from '../model/types.js'
import { dayKey } from '../policy/calendar.js'
import type { FailedSend, SendLogEntry, Store } from '../store.js'

const STATUSES: readonly CampaignStatus[] = ['DRAFT', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'CANCELLED']
const DAY_MS = 86_400_000

export interface CampaignPageQuery {
  /** Only campaigns in this status. Default: all. */
  status?: CampaignStatus
  /** `next` of the previous page; omitted for the first page. */
  after?: string
  /** Campaigns per page, 1 to 500. Default 50. */
  limit?: number
}

export interface CampaignPage {
  campaigns: Campaign[]
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null
}

/** Sends of one local day of a campaign (`day` is `YYYY-MM-DD` in the campaign's time zone). */
export interface DaySends {
  day: string
  sent: number
}

function limitOf(value: unknown, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw invalidInput(field, `must be an integer from 1 to ${max}`)
  return value
}

function unsupported(method: string): MailcadenceError {
  return new MailcadenceError(
    'invalid-state',
    `the store cannot ${method === 'listCampaigns' ? 'list campaigns' : 'list mailboxes'} (it has no ${method} method, an optional Store read)`,
  )
}

export async function listCampaignPage(store: Store, query: CampaignPageQuery = {}): Promise<CampaignPage> {
  if (typeof query !== 'object' || query === null) throw invalidInput('query', 'must be an object')
  if (query.status !== undefined && !STATUSES.includes(query.status))
    throw invalidInput('status', `must be one of ${STATUSES.join(', ')}`)
  if (query.after !== undefined && (typeof query.after !== 'string' || query.after === ''))
    throw invalidInput('after', 'must be a non-empty string (the `next` of the previous page)')
  const limit = limitOf(query.limit, 'limit', 50, 500)
  if (!store.listCampaigns) throw unsupported('listCampaigns')
  // One more than asked tells whether a next page exists without a second query.
  const rows = await store.listCampaigns({
    ...(query.status ? { status: query.status } : {}),
    ...(query.after ? { after: query.after } : {}),
    limit: limit + 1,
  })
  const campaigns = rows.slice(0, limit)
  return { campaigns, next: rows.length > limit ? campaigns[campaigns.length - 1]!.id : null }
}

export async function listAllMailboxes(store: Store): Promise<Mailbox[]> {
  if (!store.listMailboxes) throw unsupported('listMailboxes')
  return store.listMailboxes()
}

export async function listFailures(
  store: Store,
  campaignId: string,
  options: { limit?: number } = {},
): Promise<FailedSend[]> {
  const limit = limitOf(options.limit, 'limit', 50, 1000)
  if (store.listFailedSends) return store.listFailedSends(campaignId, { limit })
  const [items, leads] = await Promise.all([store.listQueueItems(campaignId), store.listLeads(campaignId)])
  const emails = new Map(leads.map((l) => [l.id, l.email]))
  return items
    .filter((item) => item.status === 'failed')
    .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? 1 : -1))
    .slice(0, limit)
    .map((item) => ({ item, to: emails.get(item.leadId) ?? '' }))
}

export async function listRecentSends(
  store: Store,
  campaignId: string,
  options: { limit?: number } = {},
): Promise<SendLogEntry[]> {
  const limit = limitOf(options.limit, 'limit', 50, 1000)
  if (store.listRecentSends) return store.listRecentSends(campaignId, { limit })
  return (await store.listSendLog(campaignId)).slice(-limit).reverse()
}

/**
 * Sends per local day of the campaign (its `timezone`, as `dayKey` counts days) for the `days`
 * days ending today, oldest first, days without sends included as 0.
 */
export async function sendsPerLocalDay(
  store: Store,
  campaign: Campaign,
  now: Date,
  options: { days?: number } = {},
): Promise<DaySends[]> {
  const days = limitOf(options.days, 'days', 7, 366)
  // The last `days` local days: walk back in half days (a local day lasts 23 to 25 hours).
  const keys: string[] = []
  for (let t = now.getTime(); keys.length < days; t -= DAY_MS / 2) {
    const key = dayKey(new Date(t), campaign.timezone)
    if (keys[keys.length - 1] !== key) keys.push(key)
  }
  // A day and a half before the oldest key's half-day step surely starts before that day.
  const from = new Date(now.getTime() - (days + 1) * DAY_MS)
  const to = new Date(now.getTime() + 1)
  const times = store.listSendTimes
    ? await store.listSendTimes(campaign.id, { from, to })
    : (await store.listSendLog(campaign.id)).map((e) => e.sentAt).filter((at) => at >= from && at < to)
  const counts = new Map(keys.map((k) => [k, 0]))
  for (const at of times) {
    const key = dayKey(at, campaign.timezone)
    const n = counts.get(key)
    if (n !== undefined) counts.set(key, n + 1)
  }
  return keys.reverse().map((day) => ({ day, sent: counts.get(day)! }))
}
