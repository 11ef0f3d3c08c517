/**
 * Completions (`Store.completeSends`) and lease recovery (`Store.recoverExpiredLeases`).
 *
 * Each starts with a compare-and-set on the item (`WHERE status = 'sending' AND lease_token = …`)
 * that clears its lease: a count of 0 means recovery or another worker decided first
 * (`lease-lost`), and from then on this transaction holds the item. Where the outcome depends on
 * whether the lead or the campaign was stopped meanwhile, their rows are locked with a
 * compare-and-set on their status (bumping `revision`), so a concurrent stop either ran before and is
 * seen, or waits and then sees (and cancels) what this transaction enqueued. A completion takes
 * its locks in the order item → campaign → lead → day counters, and a reservation campaign →
 * counters → (a pending) item, so the two never wait on each other in a cycle. Completions that
 * share a transaction (see batches.ts) may still deadlock with another such batch; the database
 * then rolls one back and it runs again.
 */
import {
  type Completion,
  type CompletionOutcome,
  REQUEUE_ENDED_STATUSES,
  type RecoveredItem,
} from '@mailcadence/core'
import type { CampaignRow, ItemRow, LeadRow, Models } from './client.js'
import { releaseDay } from './counters.js'
import { idOf, parseId } from './rows.js'

/** Campaign statuses in which an item taken back from a send is not revived (core's rule). */
const ENDED = [...REQUEUE_ENDED_STATUSES]

export async function completeOne(tx: Models, c: Completion, now: Date): Promise<CompletionOutcome> {
  const itemId = parseId(c.itemId)
  if (itemId === undefined) return 'lease-lost'
  // Sent, failed and cancelled items reach their final state in the same compare-and-set.
  const final =
    c.kind === 'sent'
      ? { status: 'sent', sentAt: c.sentAt ?? now, messageId: c.messageId }
      : c.kind === 'failed'
        ? { status: 'failed', attempts: c.attempts, lastError: c.error }
        : c.kind === 'cancelled'
          ? { status: 'cancelled', lastError: c.reason }
          : {}
  const claimed = await tx.mcQueueItem.updateMany({
    where: { id: itemId, status: 'sending', leaseToken: c.leaseToken },
    data: { leaseToken: null, leaseUntil: null, updatedAt: now, ...final },
  })
  if (claimed.count === 0) return 'lease-lost'
  if (c.variantId != null) {
    // The first choice is kept: written only while the item has none (compare-and-set on null).
    await tx.mcQueueItem.updateMany({
      where: { id: itemId, variantId: null },
      data: { variantId: c.variantId },
    })
  }
  const item = (await tx.mcQueueItem.findUnique({ where: { id: itemId } })) as ItemRow

  switch (c.kind) {
    case 'sent': {
      const enqueue = c.next !== undefined && (await holdsOn(tx, item, ['CANCELLED']))
      // Sent earlier from another mailbox (`beforeSend` said so): the thread goes on from that one.
      // The refund below still looks at the reserved mailbox (`item`).
      const from = c.mailboxId === undefined ? item : { ...item, mailboxId: parseId(c.mailboxId) ?? null }
      if (from !== item) {
        await tx.mcQueueItem.updateMany({ where: { id: itemId }, data: { mailboxId: from.mailboxId } })
      }
      // Unique on (campaign, lead, step): a second row is a store-conflict, and rolls all of this back.
      await tx.mcSendLog.createMany({
        data: {
          campaignId: item.campaignId,
          leadId: item.leadId,
          step: item.step,
          mailboxId: from.mailboxId ?? 0n,
          messageId: c.messageId,
          to: c.to,
          subject: c.subject,
          sentAt: c.sentAt ?? now,
        },
      })
      if (c.next === undefined) {
        await tx.mcLead.updateMany({
          where: { id: item.leadId, status: 'active' },
          data: { status: 'completed', updatedAt: now },
        })
      } else if (enqueue) {
        await enqueueNext(tx, from, c, c.next, now)
      }
      break
    }
    case 'retry': {
      const goesOn = await holdsOn(tx, item, ENDED)
      if (!goesOn) {
        const stopped = await stoppedReason(tx, item)
        await tx.mcQueueItem.updateMany({
          where: { id: itemId },
          data: {
            status: 'cancelled',
            attempts: c.attempts,
            lastError: `${stopped} (was retrying after: ${c.error})`,
            updatedAt: now,
          },
        })
        break
      }
      await tx.mcQueueItem.updateMany({
        where: { id: itemId },
        data: {
          status: 'pending',
          scheduledAt: c.retryAt,
          attempts: c.attempts,
          lastError: c.error,
          updatedAt: now,
          ...(c.unassignMailbox === true ? { mailboxId: null } : {}),
        },
      })
      break
    }
    case 'failed': {
      if (c.leadStatus !== undefined) {
        const stopped = await tx.mcLead.updateMany({
          where: { id: item.leadId, status: 'active' },
          data: { status: c.leadStatus, updatedAt: now },
        })
        if (stopped.count === 1) {
          await tx.mcQueueItem.updateMany({
            where: { leadId: item.leadId, status: 'pending' },
            data: { status: 'cancelled', lastError: `lead ${c.leadStatus}`, updatedAt: now },
          })
        }
      }
      break
    }
    case 'cancelled':
      // Not sent on purpose: the lead and its sequence stay as they are, nothing is enqueued.
      break
  }

  // Gives back the day counts, but only those the reservation counted on (no mail left).
  const refund = c.refund
  if (refund !== undefined) {
    if (refund.campaignDayKey !== undefined && refund.campaignDayKey === item.resCampaignDayKey) {
      await releaseDay(tx, 'campaign', item.campaignId, refund.campaignDayKey)
    }
    const mailboxId = item.mailboxId === null ? null : idOf(item.mailboxId)
    if (
      refund.mailboxDayKey !== undefined &&
      refund.mailboxId === mailboxId &&
      refund.mailboxDayKey === item.resMailboxDayKey
    ) {
      await releaseDay(tx, 'mailbox', item.mailboxId!, refund.mailboxDayKey)
    }
    // The pacing slot, compare-and-set: a later reservation's (or external send's) slot is kept.
    if (refund.nextSlotAt !== undefined) {
      await tx.mcCampaign.updateMany({
        where: { id: item.campaignId, nextSlotAt: refund.nextSlotAt },
        data: { nextSlotAt: null },
      })
    }
  }
  return 'ok'
}

/**
 * Locks the item's campaign (unless its status is one of `ended`) and its lead (if `active`), and
 * tells whether both still go on. Each lock is a compare-and-set on the status that bumps
 * `revision`: a stop that committed first is seen; one that comes later waits for this transaction.
 */
async function holdsOn(tx: Models, item: ItemRow, ended: string[]): Promise<boolean> {
  const campaign = await tx.mcCampaign.updateMany({
    where: { id: item.campaignId, status: { notIn: ended } },
    data: { revision: { increment: 1 } },
  })
  if (campaign.count === 0) return false
  const lead = await tx.mcLead.updateMany({
    where: { id: item.leadId, status: 'active' },
    data: { revision: { increment: 1 } },
  })
  return lead.count === 1
}

/** Why an item that would go back to the queue must not: its lead or its campaign stopped. */
async function stoppedReason(tx: Models, item: ItemRow): Promise<string> {
  const lead = (await tx.mcLead.findUnique({ where: { id: item.leadId }, select: { status: true } })) as Pick<
    LeadRow,
    'status'
  > | null
  if (lead !== null && lead.status !== 'active') return `lead ${lead.status}`
  const campaign = (await tx.mcCampaign.findUnique({
    where: { id: item.campaignId },
    select: { status: true },
  })) as Pick<CampaignRow, 'status'> | null
  return `campaign ${(campaign?.status ?? 'deleted').toLowerCase()}`
}

/** Enqueues the lead's next step on the same mailbox, thread and window key, unless it already exists. */
async function enqueueNext(
  tx: Models,
  item: ItemRow,
  c: Extract<Completion, { kind: 'sent' }>,
  next: { step: number; scheduledAt: Date },
  now: Date,
): Promise<void> {
  const key = {
    campaignId_leadId_step: { campaignId: item.campaignId, leadId: item.leadId, step: next.step },
  }
  // The lead's row is locked by this transaction, so no one else enqueues its steps meanwhile.
  if ((await tx.mcQueueItem.findUnique({ where: key, select: { id: true } })) !== null) return
  const references = [...(JSON.parse(item.references) as string[]), c.messageId]
  await tx.mcQueueItem.createMany({
    data: {
      campaignId: item.campaignId,
      leadId: item.leadId,
      step: next.step,
      status: 'pending',
      scheduledAt: next.scheduledAt,
      attempts: 0,
      mailboxId: item.mailboxId,
      references: JSON.stringify(references),
      threadSubject: item.threadSubject ?? c.subject,
      windowKey: item.windowKey,
      createdAt: now,
      updatedAt: now,
    },
  })
}

/** The `sending` items whose lease ended at or before `now`, for recovery. */
export async function expiredLeases(db: Models, now: Date): Promise<ItemRow[]> {
  return (await db.mcQueueItem.findMany({
    where: { status: 'sending', leaseUntil: { lte: now } },
    orderBy: { id: 'asc' },
  })) as ItemRow[]
}

/**
 * Recovers one expired item, if its lease is still the one read: `failed` ("interrupted"), or with
 * `retry` back to `pending` at `now` unless its lead or campaign stopped. Null if it moved meanwhile.
 */
export async function recoverOne(
  tx: Models,
  item: ItemRow,
  policy: 'fail' | 'retry',
  now: Date,
): Promise<RecoveredItem | null> {
  const claimed = await tx.mcQueueItem.updateMany({
    where: { id: item.id, status: 'sending', leaseToken: item.leaseToken, leaseUntil: { lte: now } },
    data: { leaseToken: null, leaseUntil: null, lastError: 'interrupted', updatedAt: now },
  })
  if (claimed.count === 0) return null
  const status = policy === 'retry' && (await holdsOn(tx, item, ENDED)) ? 'pending' : 'failed'
  await tx.mcQueueItem.updateMany({
    where: { id: item.id },
    data: status === 'pending' ? { status, scheduledAt: now } : { status },
  })
  return {
    itemId: idOf(item.id),
    campaignId: idOf(item.campaignId),
    leadId: idOf(item.leadId),
    step: item.step,
    status,
  }
}
