/**
 * The optional inspection reads of the `Store` contract (dashboards, the CLI). None runs on a
 * tick; each reads by an index prefix (the primary key, or `campaignId` first) with a `take`.
 */
import type { Campaign, CampaignListQuery, FailedSend, Mailbox, SendLogEntry } from '@mailcadence/core'
import type { CampaignRow, ItemRow, LeadRow, MailboxRow, Models, SendLogRow } from './client.js'
import { idOf, parseId, toCampaign, toItem, toMailbox, toSendLogEntry } from './rows.js'

/** Keyset pagination on the primary key: page 200 costs what page 1 does. */
export async function listCampaigns(db: Models, query: CampaignListQuery): Promise<Campaign[]> {
  const after = query.after === undefined ? 0n : parseId(query.after)
  if (after === undefined) return []
  const where: Record<string, unknown> = { id: { gt: after } }
  if (query.status !== undefined) where.status = query.status
  const rows = (await db.mcCampaign.findMany({
    where,
    orderBy: { id: 'asc' },
    take: query.limit,
  })) as CampaignRow[]
  return rows.map(toCampaign)
}

export async function listMailboxes(db: Models): Promise<Mailbox[]> {
  const rows = (await db.mcMailbox.findMany({ orderBy: { id: 'asc' } })) as MailboxRow[]
  return rows.map(toMailbox)
}

export async function listFailedSends(
  db: Models,
  campaignIdText: string,
  limit: number,
): Promise<FailedSend[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const items = (await db.mcQueueItem.findMany({
    where: { campaignId, status: 'failed' },
    orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
    take: limit,
  })) as ItemRow[]
  if (items.length === 0) return []
  const leads = (await db.mcLead.findMany({
    where: { id: { in: [...new Set(items.map((i) => i.leadId))] } },
  })) as LeadRow[]
  const emails = new Map(leads.map((l) => [idOf(l.id), l.email]))
  return items.map((row) => ({ item: toItem(row), to: emails.get(idOf(row.leadId)) ?? '' }))
}

export async function listRecentSends(
  db: Models,
  campaignIdText: string,
  limit: number,
): Promise<SendLogEntry[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const rows = (await db.mcSendLog.findMany({
    where: { campaignId },
    orderBy: [{ sentAt: 'desc' }, { id: 'desc' }],
    take: limit,
  })) as SendLogRow[]
  return rows.map(toSendLogEntry)
}

export async function listSendTimes(
  db: Models,
  campaignIdText: string,
  from: Date,
  to: Date,
): Promise<Date[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const rows = (await db.mcSendLog.findMany({
    where: { campaignId, sentAt: { gte: from, lt: to } },
    select: { sentAt: true },
    orderBy: { sentAt: 'asc' },
  })) as Array<{ sentAt: Date }>
  return rows.map((row) => new Date(row.sentAt.getTime()))
}
