/**
 * Store calls that take many elements (leads, reservations, completions, expired leases): how they
 * are split into transactions. The contract makes each element atomic on its own, not the batch.
 */
import type {
  AddLeadsOutcome,
  Completion,
  CompletionOutcome,
  ExternalSend,
  ImportedLead,
  ImportLeadsOutcome,
  NewLead,
  RecoveredItem,
  ReserveOutcome,
  ReserveRequest,
} from '@mailcadence/core'
import { completeOne, expiredLeases, recoverOne } from './complete.js'
import { toStoreError } from './errors.js'
import {
  advanceLead,
  checkExternalSends,
  checkImportedLeads,
  EXTERNAL_SENDS_PER_TRANSACTION,
  IMPORT_LEADS_PER_TRANSACTION,
  importLeads,
  recordExternalSendBatch,
} from './imports.js'
import { addLeads, LEADS_PER_TRANSACTION } from './leads.js'
import type { Provider } from './provider.js'
import { reserve } from './reserve.js'
import type { Runner } from './runner.js'

/** Completions applied in one transaction at most. */
const COMPLETION_BATCH = 25

/** Leads in transactions of a bounded size, so that a big import never holds one long transaction. */
export async function addLeadsInSlices(
  run: Runner,
  campaignId: string,
  input: readonly NewLead[],
  now: Date,
): Promise<AddLeadsOutcome> {
  const outcome: AddLeadsOutcome = { added: [], duplicates: 0, suppressed: [] }
  const refused = new Set<string>()
  // At least one slice, even for no leads: a campaign that does not exist is reported all the same.
  for (let i = 0; i === 0 || i < input.length; i += LEADS_PER_TRANSACTION) {
    const slice = input.slice(i, i + LEADS_PER_TRANSACTION)
    const part = await run.write('addLeads', (tx) => addLeads(tx, campaignId, slice, now, refused))
    outcome.added.push(...part.added)
    outcome.duplicates += part.duplicates
    outcome.suppressed.push(...part.suppressed)
    for (const key of part.suppressed) refused.add(key)
  }
  return outcome
}

/**
 * Imported leads in transactions of a bounded size, like `addLeads`: each lead whole (the lead,
 * its history, its next step) in one of them. Checked first, so a bad input writes nothing.
 */
export async function importLeadsInSlices(
  run: Runner,
  campaignId: string,
  input: readonly ImportedLead[],
  now: Date,
): Promise<ImportLeadsOutcome> {
  checkImportedLeads(input)
  const outcome: ImportLeadsOutcome = { imported: [], existing: [], suppressed: [], advanced: [], stale: [] }
  const refused = new Set<string>()
  // At least one slice, even for no leads: a campaign that does not exist is reported all the same.
  for (let i = 0; i === 0 || i < input.length; i += IMPORT_LEADS_PER_TRANSACTION) {
    const slice = input.slice(i, i + IMPORT_LEADS_PER_TRANSACTION)
    const part = await run.write('importLeads', (tx) => importLeads(tx, campaignId, slice, now, refused))
    outcome.imported.push(...part.imported)
    outcome.existing.push(...part.existing)
    outcome.suppressed.push(...part.suppressed)
    for (const key of part.suppressed) refused.add(key)
  }
  // Leads given with `advance` that are already here are moved forward, one transaction each.
  const existing = new Set(outcome.existing)
  for (const lead of input) {
    const advance = lead.advance
    if (advance === undefined || !existing.has(lead.emailKey)) continue
    existing.delete(lead.emailKey)
    outcome.existing.splice(outcome.existing.indexOf(lead.emailKey), 1)
    const moved = await run.write('importLeads', (tx) =>
      advanceLead(tx, campaignId, { ...lead, advance }, now),
    )
    ;(moved ? outcome.advanced : outcome.stale).push(lead.emailKey)
  }
  return outcome
}

/**
 * External sends, several per transaction (one commit for all), each recorded on its own terms.
 * If a transaction fails, the call fails; the sends it held changed nothing, and those of earlier
 * transactions stay recorded, so calling again with the same keys finishes the job.
 */
export async function recordExternalSends(
  run: Runner,
  provider: Provider,
  sends: readonly ExternalSend[],
  now: Date,
): Promise<{ recorded: number }> {
  checkExternalSends(sends)
  let recorded = 0
  for (let i = 0; i < sends.length; i += EXTERNAL_SENDS_PER_TRANSACTION) {
    const batch = sends.slice(i, i + EXTERNAL_SENDS_PER_TRANSACTION)
    recorded += await run.write('recordExternalSends', (tx) =>
      recordExternalSendBatch(tx, provider, batch, now),
    )
  }
  return { recorded }
}

/**
 * Reservations in order, each in its own transaction: a full mailbox or a lost race for one
 * request rolls back that request only. A request that fails outright (the database went away)
 * is reported as `store-unavailable` with its error, so the reservations that did succeed reach
 * the scheduler; the call throws only when none did.
 */
export async function reserveSends(
  run: Runner,
  provider: Provider,
  requests: readonly ReserveRequest[],
  now: Date,
): Promise<ReserveOutcome[]> {
  const outcomes: ReserveOutcome[] = []
  let firstError: Error | undefined
  for (const request of requests) {
    try {
      outcomes.push(await reserve(run, provider, request, now))
    } catch (error) {
      const failure = toStoreError(error, 'reserveSends')
      firstError ??= failure
      outcomes.push({ ok: false, reason: 'store-unavailable', error: failure })
    }
  }
  if (firstError !== undefined && !outcomes.some((o) => o.ok)) throw firstError
  return outcomes
}

/**
 * Completions, several per transaction (one commit for all: a mail server's answers come back in
 * bursts). Each still applies on its own terms; if the shared transaction fails it is rolled back
 * whole, and each completion runs again in a transaction of its own, so one that fails (a broken
 * unique key) never takes the others with it, and the error thrown is that of the one at fault.
 */
export async function completeSends(
  run: Runner,
  completions: readonly Completion[],
  now: Date,
): Promise<CompletionOutcome[]> {
  const outcomes: CompletionOutcome[] = []
  for (let i = 0; i < completions.length; i += COMPLETION_BATCH) {
    outcomes.push(...(await completeBatch(run, completions.slice(i, i + COMPLETION_BATCH), now)))
  }
  return outcomes
}

async function completeBatch(
  run: Runner,
  batch: readonly Completion[],
  now: Date,
): Promise<CompletionOutcome[]> {
  if (batch.length > 1) {
    try {
      return await run.write('completeSends', async (tx) => {
        const outcomes: CompletionOutcome[] = []
        for (const completion of batch) outcomes.push(await completeOne(tx, completion, now))
        return outcomes
      })
    } catch {
      // One by one below.
    }
  }
  const outcomes: CompletionOutcome[] = []
  for (const completion of batch) {
    outcomes.push(await run.write('completeSends', (tx) => completeOne(tx, completion, now)))
  }
  return outcomes
}

/** Expired leases, found with one indexed read, then recovered each in its own transaction. */
export async function recoverExpiredLeases(
  run: Runner,
  now: Date,
  policy: 'fail' | 'retry',
): Promise<RecoveredItem[]> {
  const expired = await run.read('recoverExpiredLeases', (db) => expiredLeases(db, now))
  const recovered: RecoveredItem[] = []
  for (const item of expired) {
    const done = await run.write('recoverExpiredLeases', (tx) => recoverOne(tx, item, policy, now))
    if (done !== null) recovered.push(done)
  }
  return recovered
}
