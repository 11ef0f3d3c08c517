/**
 * Which items taken back from a send may go back to `pending`: the one rule behind a `retry`
 * completion and `recoverExpiredLeases(now, 'retry')` (see `Store`), shared by every store.
 */
import type { CampaignStatus, LeadStatus } from '../model/types.js'

/**
 * Campaign statuses in which an item taken back from a send does not go back to `pending`.
 * `CANCELLED` is a stop. `COMPLETED` means the campaign had nothing pending or sending when it
 * ended (`completeIfDrained`), so an item still in flight there had its campaign ended around it
 * (a status written directly): reviving it would leave work in a campaign reported finished, to be
 * sent whenever something next restarts it, out of its sequence's timing.
 */
export const REQUEUE_ENDED_STATUSES: readonly CampaignStatus[] = ['CANCELLED', 'COMPLETED']

/**
 * Why an item taken back from a send must not go back to `pending` (`lead replied`, `campaign
 * cancelled`…), or null when it may: its lead is `active` and its campaign not ended.
 */
export function requeueStopReason(leadStatus: LeadStatus, campaignStatus: CampaignStatus): string | null {
  if (leadStatus !== 'active') return `lead ${leadStatus}`
  if (REQUEUE_ENDED_STATUSES.includes(campaignStatus)) return `campaign ${campaignStatus.toLowerCase()}`
  return null
}
