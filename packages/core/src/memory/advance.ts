import type { ImportedLead } from '../index.js'
import { cancelItem, insertImportedNext, insertSentItem, recordSent, setItemStatus } from './items.js'
import type { CampaignRecord, LeadRecord, State } from './state.js'

/** Why `importLeads` cancelled a pending item the other system's progress replaced. */
const ADVANCED = 'advanced by import'

/**
 * Moves an existing lead forward to the other system's progress (`Store.importLeads` with
 * `advance`): compare-and-set against what core read, then history, cancellations, next step and
 * status in one synchronous step. Returns false (nothing changed) when the lead changed since.
 */
export function advanceLead(
  state: State,
  cs: CampaignRecord,
  lead: LeadRecord,
  input: ImportedLead & { advance: { lastSentStep: number | null } },
  now: number,
): boolean {
  if (lead.status !== 'active' || lead.items.some((i) => i.status === 'sending')) return false
  const lastSent = lead.items.reduce((max, i) => (i.status === 'sent' && i.step > max ? i.step : max), -1)
  if (lastSent !== (input.advance.lastSentStep ?? -1)) return false

  for (const sent of input.history) {
    const item = lead.items.find((i) => i.step === sent.step)
    if (item === undefined) {
      insertSentItem(state, cs, lead, { ...sent, sentAt: sent.sentAt.getTime() }, now)
      continue
    }
    // A pending item left in its heap is dropped when it reaches the top (no longer `pending`);
    // its `scheduledAt` stays as the heap has it.
    setItemStatus(state, cs, item, 'sent')
    item.sentAt = sent.sentAt.getTime()
    item.mailboxId = sent.mailboxId
    item.messageId = sent.messageId
    item.lastError = null
    item.updatedAt = now
    recordSent(state, cs, item, lead.email, sent.subject)
  }
  const next = input.next
  for (const item of lead.items) {
    if (item.status === 'pending' && item.step !== next?.step) cancelItem(state, cs, item, ADVANCED, now)
  }
  if (next !== null && !lead.items.some((i) => i.step === next.step))
    insertImportedNext(state, cs, lead, next, now)
  if (lead.status !== input.status) {
    lead.status = input.status
    lead.updatedAt = now
  }
  return true
}
