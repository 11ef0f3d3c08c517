/**
 * Lead intake and stops: `addLeads`, `listLeads`, `stopLead`, `suppress` (`importLeads` is in
 * imports.ts, on the same terms as `addLeads`).
 *
 * `addLeads` locks its campaign's row first, so concurrent calls for one campaign take turns and
 * the unique key on (campaign, address) is never raced. `suppress` locks every campaign that can
 * still take leads before it reads any: an `addLeads` racing it either committed first (its lead is
 * then found and suppressed) or waits and then finds the address on the suppression list.
 */
import type { AddLeadsOutcome, Lead, LeadStatus, NewLead } from '@mailcadence/core'
import { MailcadenceError } from '@mailcadence/core'
import type { LeadRow, Models } from './client.js'
import type { Provider } from './provider.js'
import { parseId, toLead } from './rows.js'

/** Rows per `createMany` or `IN (…)` list: well under every database's limit on bound parameters. */
const CHUNK = 500

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

/** Leads per `addLeads` transaction: a big import commits in steps instead of one long transaction. */
export const LEADS_PER_TRANSACTION = 2000

/**
 * Adds one slice of an `addLeads` call, in one transaction. `refused` holds the suppressed
 * addresses earlier slices of the same call refused (read only: the caller merges `outcome`).
 */
export async function addLeads(
  tx: Models,
  campaignIdText: string,
  leads: readonly NewLead[],
  now: Date,
  refused: ReadonlySet<string> = new Set(),
): Promise<AddLeadsOutcome> {
  const campaignId = await lockCampaign(tx, campaignIdText)
  const { present, suppressed } = await knownKeys(tx, campaignId, leads)

  const outcome: AddLeadsOutcome = { added: [], duplicates: 0, suppressed: [] }
  const refusedNow = new Set(refused)
  const fresh: NewLead[] = []
  for (const lead of leads) {
    const key = lead.emailKey
    if (present.has(key) || refusedNow.has(key)) {
      outcome.duplicates += 1
      continue
    }
    if (suppressed.has(key)) {
      // A suppressed address repeated in one call is refused once, then counted as a duplicate.
      refusedNow.add(key)
      outcome.suppressed.push(key)
      continue
    }
    present.add(key)
    fresh.push(lead)
  }

  const rowsByKey = new Map<string, LeadRow>()
  for (const part of chunks(fresh)) {
    const rows = await insertLeadRows(tx, campaignId, part, () => 'active', now)
    for (const row of rows) rowsByKey.set(row.emailKey, row)
    // Step 0 of each new lead, due now, on no mailbox yet, with the lead's window key; in the
    // leads' order, so ids follow it.
    await tx.mcQueueItem.createMany({
      data: rows.map((row) => ({
        campaignId,
        leadId: row.id,
        step: 0,
        status: 'pending',
        scheduledAt: now,
        attempts: 0,
        references: '[]',
        windowKey: row.windowKey,
        createdAt: now,
        updatedAt: now,
      })),
    })
  }
  outcome.added = fresh.map((lead) => toLead(rowsByKey.get(lead.emailKey)!))
  return outcome
}

/**
 * Locks the campaign's row (a write that bumps `revision`) for the rest of the transaction, so that
 * lead intakes of one campaign take turns; `not-found` if it does not exist.
 */
export async function lockCampaign(tx: Models, campaignIdText: string): Promise<bigint> {
  const campaignId = parseId(campaignIdText)
  const locked =
    campaignId === undefined
      ? { count: 0 }
      : await tx.mcCampaign.updateMany({ where: { id: campaignId }, data: { revision: { increment: 1 } } })
  if (campaignId === undefined || locked.count === 0) {
    throw new MailcadenceError('not-found', `campaign ${campaignIdText} does not exist`)
  }
  return campaignId
}

/** Which of the leads' addresses the campaign already has, and which are suppressed. */
export async function knownKeys(
  tx: Models,
  campaignId: bigint,
  leads: ReadonlyArray<{ emailKey: string }>,
): Promise<{ present: Set<string>; suppressed: Set<string> }> {
  const keys = [...new Set(leads.map((l) => l.emailKey))]
  const present = new Set<string>()
  const suppressed = new Set<string>()
  for (const part of chunks(keys)) {
    const existing = (await tx.mcLead.findMany({
      where: { campaignId, emailKey: { in: part } },
      select: { emailKey: true },
    })) as Array<{ emailKey: string }>
    for (const row of existing) present.add(row.emailKey)
    const listed = (await tx.mcSuppression.findMany({
      where: { emailKey: { in: part } },
      select: { emailKey: true },
    })) as Array<{ emailKey: string }>
    for (const row of listed) suppressed.add(row.emailKey)
  }
  return { present, suppressed }
}

export async function getLead(db: Models, campaignIdText: string, emailKey: string) {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return null
  const row = (await db.mcLead.findUnique({
    where: { campaignId_emailKey: { campaignId, emailKey } },
  })) as LeadRow | null
  return row === null ? null : toLead(row)
}

/** Every lead of the campaign, oldest first (ids follow the order leads came in). */
export async function listLeads(db: Models, campaignIdText: string): Promise<Lead[]> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return []
  const rows = (await db.mcLead.findMany({
    where: { campaignId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  })) as LeadRow[]
  return rows.map(toLead)
}

export async function stopLead(
  tx: Models,
  campaignIdText: string,
  emailKey: string,
  status: Exclude<LeadStatus, 'active'>,
  reason: string,
  now: Date,
): Promise<{ lead: Lead; cancelled: number } | null> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return null
  // Compare-and-set on `active` (which also locks the lead against a completion enqueuing its next step).
  await tx.mcLead.updateMany({
    where: { campaignId, emailKey, status: 'active' },
    data: { status, updatedAt: now },
  })
  if (status === 'replied') {
    // A reply after the last step still counts as one (variant stats read it).
    await tx.mcLead.updateMany({
      where: { campaignId, emailKey, status: 'completed' },
      data: { status, updatedAt: now },
    })
  }
  const row = (await tx.mcLead.findUnique({
    where: { campaignId_emailKey: { campaignId, emailKey } },
  })) as LeadRow | null
  if (row === null) return null
  // Pending items are cancelled even if the lead had stopped before: none should be left.
  const cancelled = await tx.mcQueueItem.updateMany({
    where: { leadId: row.id, status: 'pending' },
    data: { status: 'cancelled', lastError: reason, updatedAt: now },
  })
  return { lead: toLead(row), cancelled: cancelled.count }
}

export async function suppress(
  tx: Models,
  provider: Provider,
  emailKey: string,
  reason: string,
  now: Date,
): Promise<{ cancelled: number }> {
  await tx.mcCampaign.updateMany({
    where: { status: { not: 'CANCELLED' } },
    data: { revision: { increment: 1 } },
  })
  const row = { emailKey, reason, createdAt: now }
  if (provider === 'sqlite') {
    // This transaction holds SQLite's only write lock: nobody inserts the address meanwhile.
    if ((await tx.mcSuppression.findUnique({ where: { emailKey } })) === null) {
      await tx.mcSuppression.create({ data: row })
    }
  } else {
    // Idempotent: the first reason given stays.
    await tx.mcSuppression.createMany({ data: [row], skipDuplicates: true })
  }
  const leads = (await tx.mcLead.findMany({ where: { emailKey }, select: { id: true } })) as Array<{
    id: bigint
  }>
  if (leads.length === 0) return { cancelled: 0 }
  await tx.mcLead.updateMany({
    where: { emailKey, status: 'active' },
    data: { status: 'suppressed', updatedAt: now },
  })
  let cancelled = 0
  for (const part of chunks(leads.map((l) => l.id))) {
    const result = await tx.mcQueueItem.updateMany({
      where: { leadId: { in: part }, status: 'pending' },
      data: { status: 'cancelled', lastError: reason, updatedAt: now },
    })
    cancelled += result.count
  }
  return { cancelled }
}

/**
 * Inserts one chunk of new leads (their addresses known to be free: the caller holds the
 * campaign's lock) and reads them back, in id order, which is the chunk's order.
 */
export async function insertLeadRows<L extends NewLead>(
  tx: Models,
  campaignId: bigint,
  part: readonly L[],
  statusOf: (lead: L) => string,
  now: Date,
): Promise<LeadRow[]> {
  await tx.mcLead.createMany({
    data: part.map((lead) => ({
      campaignId,
      email: lead.email,
      emailKey: lead.emailKey,
      firstName: lead.firstName,
      lastName: lead.lastName,
      company: lead.company,
      variables: JSON.stringify(lead.variables),
      timezone: lead.timezone,
      country: lead.country,
      windowKey: lead.windowKey,
      status: statusOf(lead),
      createdAt: now,
      updatedAt: now,
    })),
  })
  return (await tx.mcLead.findMany({
    where: { campaignId, emailKey: { in: part.map((l) => l.emailKey) } },
    orderBy: { id: 'asc' },
  })) as LeadRow[]
}
