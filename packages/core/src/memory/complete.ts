import { MailcadenceError } from '../errors.js'
import type { Completion, CompletionOutcome, RecoveredItem } from '../index.js'
import { requeueStopReason } from '../policy/requeue.js'
import {
  cancelLeadPending,
  clearLease,
  insertItem,
  recordSent,
  setItemStatus,
  stopActiveLead,
} from './items.js'
import { type CampaignRecord, counterKey, type ItemRecord, type State } from './state.js'

/**
 * Why an item that would go back to `pending` must not (core's `requeueStopReason`): its lead was
 * stopped (replied, unsubscribed, suppressed…) or its campaign ended while the send was in flight.
 * `stopLead`, `suppress` and `setCampaignStatus` only cancel `pending` items and a reservation does
 * not look at the lead, so without this check a retry would revive an item they meant to stop and
 * send it, breaking "stops hold".
 */
function stoppedReason(cs: CampaignRecord, item: ItemRecord): string | null {
  return requeueStopReason(item.lead.status, cs.campaign.status)
}

/** Gives back the day counts of a reservation, but only the ones it actually counted. */
function refund(state: State, item: ItemRecord, r: NonNullable<Completion['refund']>): void {
  if (r.campaignDayKey !== undefined && r.campaignDayKey === item.resCampaignDayKey) {
    decrement(state.campaignDayCounts, counterKey(item.campaignId, r.campaignDayKey))
  }
  if (
    r.mailboxId !== undefined &&
    r.mailboxDayKey !== undefined &&
    r.mailboxId === item.mailboxId &&
    r.mailboxDayKey === item.resMailboxDayKey
  ) {
    decrement(state.mailboxDayCounts, counterKey(r.mailboxId, r.mailboxDayKey))
  }
  // The pacing slot, compare-and-set: a later reservation's (or external send's) slot is kept.
  const campaign = state.campaigns.get(item.campaignId)!.campaign
  if (r.nextSlotAt !== undefined && campaign.nextSlotAt?.getTime() === r.nextSlotAt.getTime()) {
    campaign.nextSlotAt = null
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = counts.get(key) ?? 0
  if (n > 0) counts.set(key, n - 1)
}

/** One completion, as `Store.completeSends` specifies; synchronous, so atomic in this process. */
export function completeOne(state: State, c: Completion, now: Date): CompletionOutcome {
  // Only a `sending` item can be completed, so the items in `sending` are the ones to look in.
  const item = state.sending.get(c.itemId)
  if (item === undefined || item.leaseToken !== c.leaseToken) return 'lease-lost'
  const cs = state.campaigns.get(item.campaignId)!
  const lead = item.lead
  const nowMs = now.getTime()
  if (c.kind === 'sent' && lead.items.some((i) => i.step === item.step && i.status === 'sent')) {
    // Unreachable while items are unique per (campaign, lead, step); refuse before changing anything.
    throw new MailcadenceError(
      'store-conflict',
      `send log already has campaign ${item.campaignId}, lead ${lead.id}, step ${item.step}`,
    )
  }

  if (c.refund !== undefined) refund(state, item, c.refund)
  // Fixed once: a later completion never changes the variant an item's lead was given.
  if (item.variantId === null && c.variantId != null) item.variantId = c.variantId
  clearLease(item)
  item.updatedAt = nowMs

  switch (c.kind) {
    case 'sent': {
      setItemStatus(state, cs, item, 'sent')
      item.sentAt = c.sentAt === undefined ? nowMs : c.sentAt.getTime()
      item.messageId = c.messageId
      if (c.mailboxId !== undefined) item.mailboxId = c.mailboxId
      recordSent(state, cs, item, c.to, c.subject)
      const next = c.next
      if (next === undefined) {
        stopActiveLead(lead, 'completed', nowMs)
      } else if (
        lead.status === 'active' &&
        cs.campaign.status !== 'CANCELLED' &&
        !lead.items.some((i) => i.step === next.step)
      ) {
        const fields = {
          step: next.step,
          scheduledAt: next.scheduledAt.getTime(),
          mailboxId: item.mailboxId,
          windowKey: item.windowKey,
          // concat, not a spread: a spread leaves room for more elements than the thread will hold.
          references: item.references.concat(c.messageId),
          threadSubject: item.threadSubject ?? c.subject,
        }
        insertItem(state, cs, lead, fields, nowMs)
      }
      break
    }
    case 'retry': {
      item.attempts = c.attempts
      const stopped = stoppedReason(cs, item)
      if (stopped !== null) {
        setItemStatus(state, cs, item, 'cancelled')
        item.lastError = `${stopped} (was retrying after: ${c.error})`
        break
      }
      setItemStatus(state, cs, item, 'pending')
      item.scheduledAt = c.retryAt.getTime()
      item.lastError = c.error
      // Unassigned, it waits in the campaign's shared heap and may leave from any mailbox.
      if (c.unassignMailbox === true) item.mailboxId = null
      cs.pending.add(item)
      break
    }
    case 'failed': {
      setItemStatus(state, cs, item, 'failed')
      item.attempts = c.attempts
      item.lastError = c.error
      if (c.leadStatus !== undefined && stopActiveLead(lead, c.leadStatus, nowMs)) {
        cancelLeadPending(state, cs, lead, `lead ${c.leadStatus}`, nowMs)
      }
      break
    }
    case 'cancelled': {
      setItemStatus(state, cs, item, 'cancelled')
      item.lastError = c.reason
      break
    }
  }
  return 'ok'
}

/**
 * `Store.recoverExpiredLeases`. Only the `sending` set is scanned, never the queue. With `'retry'`,
 * an item whose lead or campaign was stopped meanwhile is failed as `interrupted` instead of
 * revived (see `stoppedReason`); `RecoveredItem.status` reports what was done.
 */
export function recoverExpired(state: State, now: Date, policy: 'fail' | 'retry'): RecoveredItem[] {
  const nowMs = now.getTime()
  const recovered: RecoveredItem[] = []
  for (const item of [...state.sending.values()]) {
    // A lease is held while `now < leaseUntil`, as core's own check before sending assumes.
    if (item.leaseUntil === null || item.leaseUntil > nowMs) continue
    const cs = state.campaigns.get(item.campaignId)!
    clearLease(item)
    item.updatedAt = nowMs
    item.lastError = 'interrupted'
    const status = policy === 'retry' && stoppedReason(cs, item) === null ? 'pending' : 'failed'
    setItemStatus(state, cs, item, status)
    if (status === 'pending') {
      item.scheduledAt = nowMs
      cs.pending.add(item)
    }
    recovered.push({
      itemId: item.id,
      campaignId: item.campaignId,
      leadId: item.lead.id,
      step: item.step,
      status,
    })
  }
  return recovered
}
