/**
 * The memory store's reads: queue stats and day counts for a tick and `explain()`, and the
 * inspection reads (listing campaigns, items, the send log) for dashboards and the CLI.
 */
import type { QueueStats, Store } from '../index.js'
import { copyItem, copySendLogEntry } from './copy.js'
import * as inspect from './inspect.js'
import { counterKey, type State } from './state.js'

export type ReadingMethods = Pick<
  Required<Store>,
  | 'queueStats'
  | 'countDueByMailbox'
  | 'listWindowKeys'
  | 'dayCounts'
  | 'listQueueItems'
  | 'listSendLog'
  | 'listCampaigns'
  | 'listMailboxes'
  | 'listFailedSends'
  | 'listRecentSends'
  | 'listSendTimes'
>

export function readingMethods(state: State): ReadingMethods {
  return {
    async queueStats(campaignId) {
      const cs = state.campaigns.get(campaignId)
      const stats: QueueStats = {
        pending: 0,
        sending: 0,
        sent: 0,
        failed: 0,
        cancelled: 0,
        nextScheduledAt: null,
      }
      if (cs === undefined) return stats
      Object.assign(stats, cs.counts)
      const earliest = cs.pending.earliest()
      stats.nextScheduledAt = earliest === undefined ? null : new Date(earliest.scheduledAt)
      return stats
    },

    async countDueByMailbox(campaignId, now) {
      return state.campaigns.get(campaignId)?.pending.dueCounts(now.getTime()) ?? []
    },

    async listWindowKeys(campaignId) {
      return state.campaigns.get(campaignId)?.pending.windowKeys() ?? []
    },

    async dayCounts(query) {
      const mailboxes: Record<string, number> = {}
      for (const { mailboxId, dayKey } of query.mailboxes) {
        mailboxes[mailboxId] = state.mailboxDayCounts.get(counterKey(mailboxId, dayKey)) ?? 0
      }
      const campaign = state.campaignDayCounts.get(counterKey(query.campaignId, query.campaignDayKey)) ?? 0
      return { campaign, mailboxes }
    },

    async listQueueItems(campaignId) {
      const cs = state.campaigns.get(campaignId)
      if (cs === undefined) return []
      // Items are kept in id order, which is createdAt order unless callers passed a `now` that
      // went back (several workers' clocks); sort only then.
      const items = cs.items
      const ordered = items.every((item, i) => i === 0 || items[i - 1]!.createdAt <= item.createdAt)
      const sorted = ordered ? items : [...items].sort((a, b) => a.createdAt - b.createdAt || a.num - b.num)
      return sorted.map(copyItem)
    },

    async listSendLog(campaignId) {
      return (state.campaigns.get(campaignId)?.sendLog ?? []).map(copySendLogEntry)
    },

    async listCampaigns(query) {
      return inspect.listCampaigns(state, query)
    },
    async listMailboxes() {
      return inspect.listMailboxes(state)
    },
    async listFailedSends(campaignId, { limit }) {
      return inspect.listFailedSends(state, campaignId, limit)
    },
    async listRecentSends(campaignId, { limit }) {
      return inspect.listRecentSends(state, campaignId, limit)
    },
    async listSendTimes(campaignId, { from, to }) {
      return inspect.listSendTimes(state, campaignId, from, to)
    },
  }
}
