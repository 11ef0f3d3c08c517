/** The reading side: queue stats, day counts, and the inspection lists. */
import type {
  DayCountQuery,
  DayCounts,
  DueCount,
  QueueItem,
  QueueStats,
  SendLogEntry,
} from '@mailcadence/core'
import type { ItemRow, Models, SendLogRow } from './client.js'
import { readDays } from './counters.js'
import { idOf, parseId, toItem, toSendLogEntry } from './rows.js'

const STATUSES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const

export async function queueStats(db: Models, campaignIdText: string): Promise<QueueStats> {
  const stats: QueueStats = {
    pending: 0,
    sending: 0,
    sent: 0,
    failed: 0,
    cancelled: 0,
    nextScheduledAt: null,
  }
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return stats
  const groups = (await db.mcQueueItem.groupBy({
    by: ['status'],
    where: { campaignId },
    _count: { _all: true },
    _min: { scheduledAt: true },
  })) as Array<{ status: string; _count: { _all: number }; _min: { scheduledAt: Date | null } }>
  for (const group of groups) {
    const status = STATUSES.find((s) => s === group.status)
    if (status === undefined) continue
    stats[status] = group._count._all
    if (status === 'pending') stats.nextScheduledAt = group._min.scheduledAt
  }
  return stats
}

/** Due pending items by mailbox: the index on (campaignId, status, scheduledAt) finds them. */
export async function countDueByMailbox(db: Models, campaignIdText: string, now: Date): Promise<DueCount[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const groups = (await db.mcQueueItem.groupBy({
    by: ['mailboxId'],
    where: { campaignId, status: 'pending', scheduledAt: { lte: now } },
    _count: { _all: true },
  })) as Array<{ mailboxId: bigint | null; _count: { _all: number } }>
  return groups.map((g) => ({
    mailboxId: g.mailboxId === null ? null : idOf(g.mailboxId),
    count: g._count._all,
  }))
}

export async function dayCounts(db: Models, query: DayCountQuery): Promise<DayCounts> {
  const out: DayCounts = { campaign: 0, mailboxes: {} }
  const campaignId = parseId(query.campaignId)
  if (campaignId !== undefined) {
    const days = await readDays(db, 'campaign', [{ id: campaignId, dayKey: query.campaignDayKey }])
    out.campaign = days.get(`${campaignId}|${query.campaignDayKey}`) ?? 0
  }
  const pairs = query.mailboxes.flatMap((m) => {
    const id = parseId(m.mailboxId)
    return id === undefined ? [] : [{ id, dayKey: m.dayKey }]
  })
  const days = await readDays(db, 'mailbox', pairs)
  for (const { mailboxId, dayKey } of query.mailboxes)
    out.mailboxes[mailboxId] = days.get(`${mailboxId}|${dayKey}`) ?? 0
  return out
}

export async function listQueueItems(db: Models, campaignIdText: string): Promise<QueueItem[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const rows = (await db.mcQueueItem.findMany({
    where: { campaignId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  })) as ItemRow[]
  return rows.map(toItem)
}

export async function listSendLog(db: Models, campaignIdText: string): Promise<SendLogEntry[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const rows = (await db.mcSendLog.findMany({
    where: { campaignId },
    orderBy: [{ sentAt: 'asc' }, { id: 'asc' }],
  })) as SendLogRow[]
  return rows.map(toSendLogEntry)
}
