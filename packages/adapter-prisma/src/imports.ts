/**
 * Migration from another sender: `importLeads` (leads with the steps that sender already sent) and
 * `recordExternalSends` (its sends, counted once each against the day limits).
 *
 * `importLeads` runs on the terms of `addLeads`: it locks its campaign's row first, so intakes of
 * one campaign take turns and the unique key on (campaign, address) is never raced, and everything
 * it writes for a lead (the lead, its sent history and send-log rows, its next step) is in one
 * transaction, so a lead is imported whole or not at all. `recordExternalSends` inserts the send's
 * key if it is missing (the unique key decides between concurrent calls) and counts only when it
 * did, so a key is counted once however often, and by however many processes, it is recorded.
 */
import type { ExternalSend, ImportedLead, ImportLeadsOutcome, Lead } from '@mailcadence/core'
import type { ItemRow, LeadRow, Models } from './client.js'
import { addToDay } from './counters.js'
import { invalidInput } from './errors.js'
import { chunks, insertLeadRows, knownKeys, lockCampaign } from './leads.js'
import { insertIfMissing, type Provider } from './provider.js'
import { idOf, parseId, parseIds, toLead } from './rows.js'
import { Rollback } from './runner.js'

/** Leads per `importLeads` transaction (each brings several rows: its history and next step). */
export const IMPORT_LEADS_PER_TRANSACTION = 1000

/** Sends per `recordExternalSends` transaction. */
export const EXTERNAL_SENDS_PER_TRANSACTION = 50

/** Longest `key` of an external send, and `externalId` of a campaign (the MySQL columns' length). */
export const MAX_KEY_LENGTH = 255

/**
 * Checks what the database would refuse (or, with MySQL's `INSERT IGNORE`, silently cut) before
 * anything is written: mailbox ids this store can hold, and one row per step of a lead.
 */
export function checkImportedLeads(leads: readonly ImportedLead[]): void {
  for (const [i, lead] of leads.entries()) {
    const steps = new Set<number>()
    for (const [j, sent] of lead.history.entries()) {
      if (parseId(sent.mailboxId) === undefined) {
        throw invalidInput(
          `leads[${i}].history[${j}].mailboxId`,
          `${sent.mailboxId} is not a mailbox of this store`,
        )
      }
      if (steps.has(sent.step)) throw invalidInput(`leads[${i}].history`, `step ${sent.step} appears twice`)
      steps.add(sent.step)
    }
    const next = lead.next
    if (next === null) continue
    if (next.mailboxId !== null && parseId(next.mailboxId) === undefined) {
      throw invalidInput(`leads[${i}].next.mailboxId`, `${next.mailboxId} is not a mailbox of this store`)
    }
    if (steps.has(next.step)) {
      throw invalidInput(`leads[${i}].next`, `step ${next.step} is already in the lead's history`)
    }
  }
}

/**
 * Imports one slice of an `importLeads` call, in one transaction. `refused` holds the suppressed
 * addresses earlier slices of the same call refused (read only: the caller merges `outcome`).
 */
export async function importLeads(
  tx: Models,
  campaignIdText: string,
  leads: readonly ImportedLead[],
  now: Date,
  refused: ReadonlySet<string> = new Set(),
): Promise<ImportLeadsOutcome> {
  const campaignId = await lockCampaign(tx, campaignIdText)
  const { present, suppressed } = await knownKeys(tx, campaignId, leads)

  const outcome: ImportLeadsOutcome = { imported: [], existing: [], suppressed: [], advanced: [], stale: [] }
  const refusedNow = new Set(refused)
  const fresh: ImportedLead[] = []
  for (const lead of leads) {
    const key = lead.emailKey
    if (present.has(key)) {
      outcome.existing.push(key)
      continue
    }
    if (suppressed.has(key) || refusedNow.has(key)) {
      // Listed once, however often the call repeats it.
      if (!refusedNow.has(key)) outcome.suppressed.push(key)
      refusedNow.add(key)
      continue
    }
    present.add(key)
    fresh.push(lead)
  }

  const rowsByKey = new Map<string, LeadRow>()
  for (const part of chunks(fresh)) {
    const rows = await insertLeadRows(tx, campaignId, part, (lead) => lead.status, now)
    for (const row of rows) rowsByKey.set(row.emailKey, row)

    // Each lead's history as `sent` items (with their send-log rows, so no step of it can ever be
    // sent again), then its next step as `pending`, which carries the thread on; in the leads'
    // order, so ids follow it.
    const items: object[] = []
    const sendLog: object[] = []
    for (const lead of part) {
      const { id: leadId, windowKey } = rowsByKey.get(lead.emailKey)!
      for (const sent of lead.history) {
        const mailboxId = parseId(sent.mailboxId)!
        items.push({
          campaignId,
          leadId,
          step: sent.step,
          status: 'sent',
          scheduledAt: sent.sentAt,
          attempts: 0,
          mailboxId,
          references: '[]',
          messageId: sent.messageId,
          sentAt: sent.sentAt,
          windowKey,
          createdAt: now,
          updatedAt: now,
        })
        sendLog.push(sendLogRow(campaignId, leadId, mailboxId, lead.email, sent))
      }
      const next = lead.next
      if (next !== null) {
        items.push({
          campaignId,
          leadId,
          step: next.step,
          status: 'pending',
          scheduledAt: next.scheduledAt,
          attempts: 0,
          mailboxId: next.mailboxId === null ? null : parseId(next.mailboxId)!,
          references: JSON.stringify(next.references),
          threadSubject: next.threadSubject,
          windowKey,
          createdAt: now,
          updatedAt: now,
        })
      }
    }
    for (const rows of chunks(items)) await tx.mcQueueItem.createMany({ data: rows })
    for (const rows of chunks(sendLog)) await tx.mcSendLog.createMany({ data: rows })
  }
  outcome.imported = fresh.map((lead): Lead => toLead(rowsByKey.get(lead.emailKey)!))
  return outcome
}

/**
 * Checks the keys before anything is written: MySQL's `INSERT IGNORE` would cut a longer one to the
 * column's length silently, and two keys could then become one.
 */
export function checkExternalSends(sends: readonly ExternalSend[]): void {
  for (const [i, send] of sends.entries()) {
    if (typeof send.key !== 'string' || send.key.length === 0 || send.key.length > MAX_KEY_LENGTH) {
      throw invalidInput(`sends[${i}].key`, `must be a string of 1 to ${MAX_KEY_LENGTH} characters`)
    }
  }
}

/**
 * Records a batch of another system's sends in one transaction, each once per key; returns how
 * many keys were new. First the keys, each inserted if missing (the unique key decides between
 * concurrent calls), then the counts of the new ones, summed per campaign and per mailbox day.
 * Both in a fixed order (keys sorted, then campaign rows, campaign days, mailbox days by id, as a
 * reservation takes them), so concurrent batches and reservations never wait on each other in a
 * cycle. Campaigns are never deleted by the store, so which of them exist is read once.
 */
export async function recordExternalSendBatch(
  tx: Models,
  provider: Provider,
  sends: readonly ExternalSend[],
  now: Date,
): Promise<number> {
  const wanted = parseIds(sends.flatMap((send) => (send.campaign === undefined ? [] : [send.campaign.id])))
  const campaigns = new Set<string>()
  if (wanted.length > 0) {
    const rows = (await tx.mcCampaign.findMany({
      where: { id: { in: wanted } },
      select: { id: true },
    })) as Array<{ id: bigint }>
    for (const row of rows) campaigns.add(idOf(row.id))
  }

  const slots = new Map<bigint, Date>()
  const campaignDays = new DayCounts()
  const mailboxDays = new DayCounts()
  let recorded = 0
  for (const send of [...sends].sort((a, b) => compare(a.key, b.key))) {
    // Ids this store never issued are no mailbox or campaign of its own: nothing to count there.
    const mailboxId = send.mailbox === undefined ? undefined : parseId(send.mailbox.id)
    const campaign =
      send.campaign !== undefined && campaigns.has(send.campaign.id) ? send.campaign : undefined
    const campaignId = campaign === undefined ? undefined : parseId(campaign.id)
    const row = {
      key: send.key,
      mailboxId: mailboxId ?? null,
      mailboxDayKey: mailboxId === undefined ? null : send.mailbox!.dayKey,
      campaignId: campaignId ?? null,
      campaignDayKey: campaign?.dayKey ?? null,
      createdAt: now,
    }
    if (!(await insertIfMissing(tx.mcExternalSend, provider, row, { key: send.key }))) continue
    recorded += 1
    if (mailboxId !== undefined) mailboxDays.add(mailboxId, send.mailbox!.dayKey)
    if (campaign === undefined || campaignId === undefined) continue
    campaignDays.add(campaignId, campaign.dayKey)
    const slot = slots.get(campaignId)
    if (campaign.nextSlotAt !== null && (slot === undefined || campaign.nextSlotAt > slot)) {
      slots.set(campaignId, campaign.nextSlotAt)
    }
  }

  for (const [campaignId, nextSlotAt] of [...slots].sort(([a], [b]) => compare(a, b))) {
    // Only ever later: a compare-and-set, so concurrent moves end at the latest slot.
    await tx.mcCampaign.updateMany({
      where: { id: campaignId, OR: [{ nextSlotAt: null }, { nextSlotAt: { lt: nextSlotAt } }] },
      data: { nextSlotAt },
    })
  }
  for (const day of campaignDays.sorted()) {
    await addToDay(tx, provider, 'campaign', day.id, day.dayKey, day.sends)
  }
  for (const day of mailboxDays.sorted()) {
    await addToDay(tx, provider, 'mailbox', day.id, day.dayKey, day.sends)
  }
  return recorded
}

/** The send-log row of a step another system sent. */
function sendLogRow(
  campaignId: bigint,
  leadId: bigint,
  mailboxId: bigint,
  to: string,
  sent: ImportedLead['history'][number],
) {
  const { step, messageId, subject, sentAt } = sent
  return { campaignId, leadId, step, mailboxId, messageId, to, subject, sentAt }
}

function compare<T extends string | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Sends per (owner, day), listed in the order their locks are taken: by owner id, then day. */
class DayCounts {
  private readonly days = new Map<string, { id: bigint; dayKey: string; sends: number }>()

  add(id: bigint, dayKey: string): void {
    const key = `${id}|${dayKey}`
    const day = this.days.get(key)
    if (day === undefined) this.days.set(key, { id, dayKey, sends: 1 })
    else day.sends += 1
  }

  sorted(): Array<{ id: bigint; dayKey: string; sends: number }> {
    return [...this.days.values()].sort((a, b) => compare(a.id, b.id) || compare(a.dayKey, b.dayKey))
  }
}

/** Why a pending item the other system's progress replaced was cancelled. */
const ADVANCED = 'advanced by import'

/**
 * Moves a lead already in the campaign forward (`Store.importLeads` with `advance`), in the
 * caller's transaction, one per lead. The lead's row is locked first (a write bumping `revision`,
 * as completions and stops take it), so what is read after it is what committed before; every
 * item it changes is a compare-and-set on the status it read, so a reservation that took one
 * meanwhile rolls this back (`Rollback(false)`: the lead is reported stale, nothing changed).
 */
export async function advanceLead(
  tx: Models,
  campaignIdText: string,
  lead: ImportedLead & { advance: { lastSentStep: number | null } },
  now: Date,
): Promise<boolean> {
  const campaignId = parseId(campaignIdText)
  if (campaignId === undefined) return false
  const row = (await tx.mcLead.findUnique({
    where: { campaignId_emailKey: { campaignId, emailKey: lead.emailKey } },
  })) as LeadRow | null
  if (row === null) return false
  const locked = await tx.mcLead.updateMany({
    where: { id: row.id, status: 'active' },
    data: { revision: { increment: 1 } },
  })
  if (locked.count === 0) return false
  const items = (await tx.mcQueueItem.findMany({ where: { leadId: row.id } })) as ItemRow[]
  const lastSent = items.reduce((max, i) => (i.status === 'sent' && i.step > max ? i.step : max), -1)
  if (items.some((i) => i.status === 'sending') || lastSent !== (lead.advance.lastSentStep ?? -1))
    return false
  const changed = (count: number, expected: number) => {
    if (count !== expected) throw new Rollback(false)
  }

  for (const sent of lead.history) {
    const mailboxId = parseId(sent.mailboxId)!
    const item = items.find((i) => i.step === sent.step)
    const fields = {
      status: 'sent',
      sentAt: sent.sentAt,
      mailboxId,
      messageId: sent.messageId,
      updatedAt: now,
    }
    if (item !== undefined) {
      const done = await tx.mcQueueItem.updateMany({
        where: { id: item.id, status: item.status },
        data: { ...fields, lastError: null },
      })
      changed(done.count, 1)
    } else {
      await tx.mcQueueItem.createMany({
        data: [
          {
            ...fields,
            campaignId,
            leadId: row.id,
            step: sent.step,
            scheduledAt: sent.sentAt,
            attempts: 0,
            references: '[]',
            windowKey: row.windowKey,
            createdAt: now,
          },
        ],
      })
    }
    await tx.mcSendLog.createMany({ data: [sendLogRow(campaignId, row.id, mailboxId, lead.email, sent)] })
  }
  const next = lead.next
  const replaced = new Set(lead.history.map((h) => h.step))
  const toCancel = items.filter(
    (i) => i.status === 'pending' && i.step !== next?.step && !replaced.has(i.step),
  )
  if (toCancel.length > 0) {
    const cancelled = await tx.mcQueueItem.updateMany({
      where: { id: { in: toCancel.map((i) => i.id) }, status: 'pending' },
      data: { status: 'cancelled', lastError: ADVANCED, updatedAt: now },
    })
    changed(cancelled.count, toCancel.length)
  }
  if (next !== null && !items.some((i) => i.step === next.step) && !replaced.has(next.step)) {
    await tx.mcQueueItem.createMany({
      data: [
        {
          campaignId,
          leadId: row.id,
          step: next.step,
          status: 'pending',
          scheduledAt: next.scheduledAt,
          attempts: 0,
          mailboxId: next.mailboxId === null ? null : parseId(next.mailboxId)!,
          references: JSON.stringify(next.references),
          threadSubject: next.threadSubject,
          // The key stored with the lead when it came in, as every item of the lead has it.
          windowKey: row.windowKey,
          createdAt: now,
          updatedAt: now,
        },
      ],
    })
  }
  if (lead.status !== 'active') {
    await tx.mcLead.updateMany({ where: { id: row.id }, data: { status: lead.status, updatedAt: now } })
  }
  return true
}
