/** The memory store's lead methods: adding and importing leads, stopping and suppressing them. */
import type { AddLeadsOutcome, ImportLeadsOutcome, LeadStatus, NewLead, Store } from '../index.js'
import { advanceLead } from './advance.js'
import { copyLead } from './copy.js'
import { cancelLeadPending, insertImportedNext, insertItem, insertSentItem, stopActiveLead } from './items.js'
import { type CampaignRecord, campaignOrThrow, type LeadRecord, nextId, type State } from './state.js'

export type LeadMethods = Pick<
  Required<Store>,
  'addLeads' | 'importLeads' | 'getLead' | 'listLeads' | 'stopLead' | 'suppress'
>

export function leadMethods(state: State): LeadMethods {
  return {
    async addLeads(campaignId, leads, now) {
      const cs = campaignOrThrow(state, campaignId)
      const outcome: AddLeadsOutcome = { added: [], duplicates: 0, suppressed: [] }
      const nowMs = now.getTime()
      // A suppressed address repeated in one call is refused once and then counted as a duplicate.
      const refused = new Set<string>()
      for (const input of leads) {
        const key = input.emailKey
        if (cs.leads.has(key) || refused.has(key)) {
          outcome.duplicates += 1
          continue
        }
        if (state.suppressed.has(key)) {
          refused.add(key)
          outcome.suppressed.push(key)
          continue
        }
        const lead = insertLead(state, cs, input, 'active', nowMs)
        const first = { step: 0, scheduledAt: nowMs, mailboxId: null, references: [], threadSubject: null }
        insertItem(state, cs, lead, { ...first, windowKey: lead.windowKey }, nowMs)
        outcome.added.push(copyLead(lead))
      }
      if (outcome.added.length > 0) forgetDeferral(state, cs)
      return outcome
    },

    async importLeads(campaignId, leads, now) {
      const cs = campaignOrThrow(state, campaignId)
      const outcome: ImportLeadsOutcome = {
        imported: [],
        existing: [],
        suppressed: [],
        advanced: [],
        stale: [],
      }
      const nowMs = now.getTime()
      for (const input of leads) {
        const key = input.emailKey
        const present = cs.leads.get(key)
        if (present !== undefined && input.advance !== undefined) {
          const advance = input.advance
          const moved = advanceLead(state, cs, present, { ...input, advance }, nowMs)
          ;(moved ? outcome.advanced : outcome.stale).push(key)
          continue
        }
        if (present !== undefined) {
          outcome.existing.push(key)
          continue
        }
        if (state.suppressed.has(key)) {
          if (!outcome.suppressed.includes(key)) outcome.suppressed.push(key)
          continue
        }
        const lead = insertLead(state, cs, input, input.status, nowMs)
        for (const sent of input.history) {
          insertSentItem(state, cs, lead, { ...sent, sentAt: sent.sentAt.getTime() }, nowMs)
        }
        const next = input.next
        if (next !== null) insertImportedNext(state, cs, lead, next, nowMs)
        outcome.imported.push(copyLead(lead))
      }
      if (outcome.imported.length > 0 || outcome.advanced.length > 0) forgetDeferral(state, cs)
      return outcome
    },

    async getLead(campaignId, emailKey) {
      const lead = state.campaigns.get(campaignId)?.leads.get(emailKey)
      return lead === undefined ? null : copyLead(lead)
    },

    async listLeads(campaignId) {
      const leads = [...(state.campaigns.get(campaignId)?.leads.values() ?? [])]
      // Leads are kept in insertion order, which is this order unless the clock went back: then sort.
      if (!inOrder(leads)) leads.sort(byCreation)
      return leads.map(copyLead)
    },

    async stopLead(campaignId, emailKey, status, reason, now) {
      const cs = state.campaigns.get(campaignId)
      const lead = cs?.leads.get(emailKey)
      if (cs === undefined || lead === undefined) return null
      if (
        !stopActiveLead(lead, status, now.getTime()) &&
        status === 'replied' &&
        lead.status === 'completed'
      ) {
        // A reply after the last step still counts as one (variant stats read it).
        lead.status = 'replied'
        lead.updatedAt = now.getTime()
      }
      // Pending items are cancelled even if the lead had already stopped: none should be left.
      const cancelled = cancelLeadPending(state, cs, lead, reason, now.getTime())
      return { lead: copyLead(lead), cancelled }
    },

    async suppress(emailKey, reason, now) {
      if (!state.suppressed.has(emailKey)) state.suppressed.set(emailKey, reason)
      let cancelled = 0
      for (const lead of state.leadsByEmailKey.get(emailKey) ?? []) {
        const cs = state.campaigns.get(lead.campaignId)!
        stopActiveLead(lead, 'suppressed', now.getTime())
        cancelled += cancelLeadPending(state, cs, lead, reason, now.getTime())
      }
      return { cancelled }
    },
  }
}

/** Oldest first, then by id (numerically): `listLeads`' order. */
function byCreation(a: LeadRecord, b: LeadRecord): number {
  return a.createdAt - b.createdAt || Number(a.id) - Number(b.id)
}

function inOrder(leads: readonly LeadRecord[]): boolean {
  for (let i = 1; i < leads.length; i++) if (byCreation(leads[i - 1]!, leads[i]!) > 0) return false
  return true
}

/** Inserts a lead (no queue item yet) and indexes it by address. */
function insertLead(
  state: State,
  cs: CampaignRecord,
  input: NewLead,
  status: LeadStatus,
  now: number,
): LeadRecord {
  const lead: LeadRecord = {
    id: nextId(state, 'lead'),
    campaignId: cs.campaign.id,
    email: input.email,
    emailKey: input.emailKey,
    firstName: input.firstName,
    lastName: input.lastName,
    company: input.company,
    variables: { ...input.variables },
    timezone: input.timezone,
    country: input.country,
    windowKey: input.windowKey,
    status,
    createdAt: now,
    updatedAt: now,
    items: [],
  }
  cs.leads.set(input.emailKey, lead)
  const sameAddress = state.leadsByEmailKey.get(input.emailKey)
  if (sameAddress === undefined) state.leadsByEmailKey.set(input.emailKey, [lead])
  else sameAddress.push(lead)
  return lead
}

/**
 * Forgets the campaign's deferral (`Store.deferCampaigns`): a new lead may be in a zone whose
 * window opens sooner than the deferral core computed from the keys it knew.
 */
function forgetDeferral(state: State, cs: CampaignRecord): void {
  state.deferredUntil.delete(cs.campaign.id)
}
