/**
 * What comes back from the inbox (`InboxStore`): sends by Message-ID, the record of inbound
 * messages applied, postponing a lead, stopping a domain's leads, and the inbox cursors.
 *
 * Every write is a compare-and-set (`updateMany` with the state it expects in its `where`), so a
 * reservation, a completion or another call racing it either happened first and is respected, or
 * comes after and finds the new state.
 */
import type { InboundRecord, InboxCursor, Lead, LeadStatus, QueueItem, SentMessage } from '@mailcadence/core'
import type { InboundRow, InboxCursorRow, ItemRow, LeadRow, Models, SendLogRow } from './client.js'
import { chunks } from './leads.js'
import { insertIfMissing, type Provider } from './provider.js'
import { idOf, parseId, toItem, toLead, toSendLogEntry } from './rows.js'

export async function findSentByMessageIds(
  db: Models,
  messageIds: readonly string[],
): Promise<SentMessage[]> {
  const wanted = new Set(messageIds)
  const ids = [...wanted]
  if (ids.length === 0) return []
  // MySQL compares the TEXT column by its collation (case-insensitive, trailing spaces ignored):
  // keep only the rows whose id is exactly one asked for, as Message-IDs compare everywhere else.
  const rows = (await db.mcSendLog.findMany({ where: { messageId: { in: ids } } })) as SendLogRow[]
  const sends = rows.filter((s) => wanted.has(s.messageId))
  if (sends.length === 0) return []
  const leads = (await db.mcLead.findMany({
    where: { id: { in: [...new Set(sends.map((s) => s.leadId))] } },
  })) as LeadRow[]
  const byId = new Map(leads.map((l) => [l.id, toLead(l)]))
  return sends.flatMap((s) => {
    const lead = byId.get(s.leadId)
    return lead === undefined ? [] : [{ send: toSendLogEntry(s), lead }]
  })
}

export async function getInbound(db: Models, messageId: string): Promise<InboundRecord | null> {
  const row = (await db.mcInboundMessage.findUnique({ where: { messageId } })) as InboundRow | null
  if (row === null) return null
  return {
    messageId: row.messageId,
    kind: row.kind,
    campaignId: row.campaignId === null ? null : idOf(row.campaignId),
    leadId: row.leadId === null ? null : idOf(row.leadId),
    processedAt: row.processedAt,
  }
}

export async function recordInbound(
  tx: Models,
  provider: Provider,
  record: Omit<InboundRecord, 'processedAt'>,
  now: Date,
): Promise<boolean> {
  const row = {
    messageId: record.messageId,
    kind: record.kind,
    campaignId: record.campaignId === null ? null : (parseId(record.campaignId) ?? null),
    leadId: record.leadId === null ? null : (parseId(record.leadId) ?? null),
    processedAt: now,
  }
  return insertIfMissing(tx.mcInboundMessage, provider, row, { messageId: record.messageId })
}

export async function postponeLead(
  tx: Models,
  campaignIdText: string,
  emailKey: string,
  until: Date,
  now: Date,
): Promise<QueueItem | null> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return null
  const lead = (await tx.mcLead.findUnique({
    where: { campaignId_emailKey: { campaignId, emailKey } },
    select: { id: true },
  })) as { id: bigint } | null
  if (lead === null) return null
  const next = (await tx.mcQueueItem.findFirst({
    where: { leadId: lead.id, status: 'pending' },
    orderBy: { step: 'asc' },
    select: { id: true },
  })) as { id: bigint } | null
  if (next === null) return null
  // Compare-and-set: only while still pending, and only later.
  await tx.mcQueueItem.updateMany({
    where: { id: next.id, status: 'pending', scheduledAt: { lt: until } },
    data: { scheduledAt: until, updatedAt: now },
  })
  const row = (await tx.mcQueueItem.findUnique({ where: { id: next.id } })) as ItemRow | null
  return row === null ? null : toItem(row)
}

export async function stopLeadsOfDomain(
  tx: Models,
  campaignIdText: string,
  domain: string,
  status: Exclude<LeadStatus, 'active'>,
  reason: string,
  now: Date,
): Promise<{ leads: Lead[]; cancelled: number }> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return { leads: [], cancelled: 0 }
  const suffix = `@${domain}`
  const candidates = (await tx.mcLead.findMany({
    where: { campaignId, status: 'active', emailKey: { endsWith: suffix } },
    select: { id: true, emailKey: true },
    orderBy: { id: 'asc' },
  })) as Array<{ id: bigint; emailKey: string }>
  // The database's LIKE may read `_` and `%` as patterns, or compare without case: keep exact suffixes.
  const stopped: bigint[] = []
  for (const lead of candidates.filter((c) => c.emailKey.endsWith(suffix))) {
    const changed = await tx.mcLead.updateMany({
      where: { id: lead.id, status: 'active' },
      data: { status, updatedAt: now },
    })
    if (changed.count === 1) stopped.push(lead.id)
  }
  let cancelled = 0
  const leads: Lead[] = []
  for (const part of chunks(stopped)) {
    const result = await tx.mcQueueItem.updateMany({
      where: { leadId: { in: part }, status: 'pending' },
      data: { status: 'cancelled', lastError: reason, updatedAt: now },
    })
    cancelled += result.count
    const rows = (await tx.mcLead.findMany({
      where: { id: { in: part } },
      orderBy: { id: 'asc' },
    })) as LeadRow[]
    leads.push(...rows.map(toLead))
  }
  return { leads, cancelled }
}

export async function getInboxCursor(
  db: Models,
  mailboxId: string,
  folder: string,
): Promise<InboxCursor | null> {
  const row = (await db.mcInboxCursor.findUnique({
    where: { mailboxId_folder: { mailboxId, folder } },
  })) as InboxCursorRow | null
  return row === null ? null : { uidValidity: row.uidValidity, lastUid: Number(row.lastUid) }
}

export async function saveInboxCursor(
  tx: Models,
  provider: Provider,
  mailboxId: string,
  folder: string,
  cursor: InboxCursor,
  now: Date,
): Promise<void> {
  const data = { uidValidity: cursor.uidValidity, lastUid: BigInt(cursor.lastUid), updatedAt: now }
  const where = { mailboxId, folder }
  if ((await tx.mcInboxCursor.updateMany({ where, data })).count > 0) return
  // None yet; a concurrent save may insert first, then this one replaces it.
  if (await insertIfMissing(tx.mcInboxCursor, provider, { ...where, ...data }, { mailboxId_folder: where }))
    return
  await tx.mcInboxCursor.updateMany({ where, data })
}
