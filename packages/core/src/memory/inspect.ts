/** The optional inspection reads of the `Store` contract (dashboards, the CLI); none runs on a tick. */
import type { Campaign, CampaignListQuery, FailedSend, Mailbox, SendLogEntry } from '../index.js'
import { copyCampaign, copyItem, copyMailbox, copySendLogEntry } from './copy.js'
import type { State } from './state.js'

/** Ids are decimal counters, so ids order numerically; anything else is not one of ours. */
function idNumber(id: string): number | undefined {
  return /^[1-9][0-9]{0,14}$/.test(id) ? Number(id) : undefined
}

export function listCampaigns(state: State, query: CampaignListQuery): Campaign[] {
  const after = query.after === undefined ? 0 : idNumber(query.after)
  if (after === undefined) return []
  const out: Campaign[] = []
  // The map holds campaigns in creation order, which is id order.
  for (const [id, record] of state.campaigns) {
    if (out.length >= query.limit) break
    if (Number(id) <= after) continue
    if (query.status !== undefined && record.campaign.status !== query.status) continue
    out.push(copyCampaign(record.campaign))
  }
  return out
}

export function listMailboxes(state: State): Mailbox[] {
  return [...state.mailboxes.values()].map(copyMailbox)
}

export function listFailedSends(state: State, campaignId: string, limit: number): FailedSend[] {
  const record = state.campaigns.get(campaignId)
  if (record === undefined) return []
  return record.items
    .filter((item) => item.status === 'failed')
    .sort((a, b) => b.updatedAt - a.updatedAt || b.num - a.num)
    .slice(0, limit)
    .map((item) => ({ item: copyItem(item), to: item.lead.email }))
}

export function listRecentSends(state: State, campaignId: string, limit: number): SendLogEntry[] {
  const log = state.campaigns.get(campaignId)?.sendLog ?? []
  return log.slice(-limit).reverse().map(copySendLogEntry)
}

export function listSendTimes(state: State, campaignId: string, from: Date, to: Date): Date[] {
  const log = state.campaigns.get(campaignId)?.sendLog ?? []
  const [lo, hi] = [from.getTime(), to.getTime()]
  return log
    .flatMap((item) => (item.sentAt !== null && item.sentAt >= lo && item.sentAt < hi ? [item.sentAt] : []))
    .sort((a, b) => a - b)
    .map((ms) => new Date(ms))
}
