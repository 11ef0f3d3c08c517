/** The reading side: queue stats, day counts, and the inspection lists. */
import type {
  DayCountQuery,
  DayCounts,
  DueCount,
  QueueItem,
  QueueStats,
  SendLogEntry,
  WindowKeyStat,
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

/** Due pending items by mailbox and window key: the index on (campaignId, status, scheduledAt) finds them. */
export async function countDueByMailbox(db: Models, campaignIdText: string, now: Date): Promise<DueCount[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const groups = (await db.mcQueueItem.groupBy({
    by: ['mailboxId', 'windowKey'],
    where: { campaignId, status: 'pending', scheduledAt: { lte: now } },
    _count: { _all: true },
  })) as Array<{ mailboxId: bigint | null; windowKey: string; _count: { _all: number } }>
  return groups.map((g) => ({
    mailboxId: g.mailboxId === null ? null : idOf(g.mailboxId),
    windowKey: g.windowKey,
    count: g._count._all,
  }))
}

/**
 * The window keys of the campaign's pending items, each with its earliest `scheduledAt`: a loose
 * index scan done from here, one probe per key. Each probe asks for the first pending item of the
 * campaign whose key sorts after the last one found, ordered by (windowKey, scheduledAt): on the
 * index (campaignId, status, windowKey, scheduledAt) that is one index entry, which holds both the
 * next key and its earliest time. So the cost is (keys + 1) probes of O(log n), however many items
 * are pending. A `groupBy` on windowKey would be one statement, but PostgreSQL and SQLite answer it
 * by reading every pending entry of the campaign (only MySQL skips through the index for MIN per
 * group); a recursive CTE would do the skipping in one statement but needs raw SQL written per
 * database, with its own date decoding, where the rest of the store runs the same Prisma calls on
 * all three. Keys are few (time zones × countries of the campaign's leads), probes are cheap.
 */
export async function listWindowKeys(db: Models, campaignIdText: string): Promise<WindowKeyStat[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const out: WindowKeyStat[] = []
  let after: string | undefined
  for (;;) {
    const first = (await db.mcQueueItem.findFirst({
      where: { campaignId, status: 'pending', ...(after === undefined ? {} : { windowKey: { gt: after } }) },
      orderBy: [{ windowKey: 'asc' }, { scheduledAt: 'asc' }],
      select: { windowKey: true, scheduledAt: true },
    })) as Pick<ItemRow, 'windowKey' | 'scheduledAt'> | null
    if (first === null) return out
    out.push({ windowKey: first.windowKey, nextAt: first.scheduledAt })
    after = first.windowKey
  }
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
