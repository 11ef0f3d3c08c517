/**
 * `@mailcadence/adapter-memory`: the embedded store, for tests, demos and single-process apps.
 *
 * @packageDocumentation
 */
import type {
  AddLeadsOutcome,
  Campaign,
  CampaignPatch,
  DueCount,
  ImportLeadsOutcome,
  LeadStatus,
  Mailbox,
  NewCampaign,
  NewLead,
  QueueStats,
  RunnableCampaign,
  Store,
} from '@mailcadence/core'
import { MailcadenceError } from '@mailcadence/core'
import { advanceLead } from './advance.js'
import { completeOne, recoverExpired } from './complete.js'
import { PendingHeap } from './heap.js'
import * as inspect from './inspect.js'
import { reserveOne } from './reserve.js'
import {
  type CampaignRecord,
  cancelItem,
  cancelLeadPending,
  copyCampaign,
  copyDate,
  copyItem,
  copyLead,
  copyMailbox,
  copySendLogEntry,
  copySteps,
  counterKey,
  createState,
  earliestPending,
  type ItemRecord,
  increment,
  insertImportedNext,
  insertItem,
  insertSentItem,
  type LeadRecord,
  stopActiveLead,
} from './state.js'

/**
 * Options of {@link createMemoryStore}. There are none yet; the type exists so options can be
 * added later without changing the signature.
 */
// biome-ignore lint/suspicious/noEmptyInterface: an interface, so later options can be added and documented one by one.
export interface MemoryStoreOptions {}

/** Settings a campaign patch may replace one by one (arrays are handled apart, to copy them). */
const CAMPAIGN_SCALARS = [
  'name',
  'timezone',
  'startHour',
  'startMinute',
  'endHour',
  'endMinute',
  'allowedDays',
  'delayBetweenEmails',
  'jitter',
  'maxEmailsPerDay',
] as const satisfies ReadonlyArray<keyof NewCampaign>

/**
 * Creates a store that keeps everything in this process's memory.
 *
 * Every method does all its work synchronously before its promise settles, so calls never
 * interleave: each is atomic with respect to every other call in the process, which is what the
 * `Store` contract asks. The state is lost when the process exits, and it cannot be shared
 * between processes: use the Postgres or Prisma adapter for that.
 *
 * Pending items are indexed per campaign (by mailbox, ordered by `scheduledAt` then id) and day
 * counts are kept in maps, so reserving, listing runnable campaigns and reading stats cost the
 * same however long the send history grows.
 *
 * @param _options - reserved for future options; may be omitted.
 */
export function createMemoryStore(_options: MemoryStoreOptions = {}): Store {
  const state = createState()
  /** Core's deferrals (`deferCampaigns`): campaign id → the instant (ms) it cannot send before. */
  const deferredUntil = new Map<string, number>()

  function nextId(kind: keyof typeof state.seq): string {
    state.seq[kind] += 1
    return String(state.seq[kind])
  }

  function applyCampaignPatch(c: Campaign, patch: CampaignPatch): void {
    const target = c as unknown as Record<string, unknown>
    for (const key of CAMPAIGN_SCALARS) {
      const value = patch[key]
      if (value !== undefined) target[key] = value
    }
    if (patch.mailboxIds !== undefined) c.mailboxIds = [...patch.mailboxIds]
    if (patch.steps !== undefined) c.steps = copySteps(patch.steps)
    if (patch.variables !== undefined) c.variables = [...patch.variables]
  }

  /** Cancels every pending item of a campaign at once, emptying its pending indexes. */
  function cancelCampaignPending(cs: CampaignRecord, reason: string, now: Date): number {
    // concat, not push(...): a spread of a long queue would overflow the call stack.
    let items: ItemRecord[] = cs.unassigned.pending()
    for (const heap of cs.byMailbox.values()) items = items.concat(heap.pending())
    const nowMs = now.getTime()
    for (const item of items) cancelItem(state, cs, item, reason, nowMs)
    cs.unassigned.clear()
    for (const heap of cs.byMailbox.values()) heap.clear()
    return items.length
  }

  function campaignOrThrow(campaignId: string): CampaignRecord {
    const cs = state.campaigns.get(campaignId)
    if (cs === undefined) throw new MailcadenceError('not-found', `campaign ${campaignId} does not exist`)
    return cs
  }

  /** Inserts a lead (no queue item yet) and indexes it by address. */
  function insertLead(cs: CampaignRecord, input: NewLead, status: LeadStatus, now: number): LeadRecord {
    const lead: LeadRecord = {
      id: nextId('lead'),
      campaignId: cs.campaign.id,
      email: input.email,
      emailKey: input.emailKey,
      firstName: input.firstName,
      lastName: input.lastName,
      company: input.company,
      variables: { ...input.variables },
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
   * A campaign as `listRunnableCampaigns` lists it: in progress with pending items, or drained
   * (nothing pending, nothing sending: `nextItemAt` null) so core can complete it. Only counters
   * and heap heads are read, never the history.
   */
  function runnable(cs: CampaignRecord): RunnableCampaign | undefined {
    if (cs.campaign.status !== 'IN_PROGRESS') return undefined
    const earliest = earliestPending(cs)
    if (earliest === undefined && cs.counts.sending > 0) return undefined
    const nextItemAt = earliest === undefined ? null : new Date(earliest.scheduledAt)
    return { campaign: copyCampaign(cs.campaign), nextItemAt }
  }

  return {
    // -- mailboxes -------------------------------------------------------------------------------

    async createMailbox(input, now) {
      const mailbox: Mailbox = {
        id: nextId('mailbox'),
        email: input.email,
        name: input.name,
        dailyEmailLimit: input.dailyEmailLimit,
        timezone: input.timezone,
        pausedUntil: null,
        pauseReason: null,
        createdAt: copyDate(now),
        updatedAt: copyDate(now),
      }
      state.mailboxes.set(mailbox.id, mailbox)
      return copyMailbox(mailbox)
    },

    async updateMailbox(id, patch, now) {
      const m = state.mailboxes.get(id)
      if (m === undefined) return null
      if (patch.email !== undefined) m.email = patch.email
      if (patch.name !== undefined) m.name = patch.name
      if (patch.dailyEmailLimit !== undefined) m.dailyEmailLimit = patch.dailyEmailLimit
      if (patch.timezone !== undefined) m.timezone = patch.timezone
      if (patch.pausedUntil !== undefined) m.pausedUntil = copyDate(patch.pausedUntil)
      if (patch.pauseReason !== undefined) m.pauseReason = patch.pauseReason
      m.updatedAt = copyDate(now)
      return copyMailbox(m)
    },

    async getMailboxes(ids) {
      const out: Mailbox[] = []
      for (const id of new Set(ids)) {
        const m = state.mailboxes.get(id)
        if (m !== undefined) out.push(copyMailbox(m))
      }
      return out
    },

    // -- campaigns -------------------------------------------------------------------------------

    async createCampaign(input, now) {
      const externalId = input.externalId ?? null
      const existing = externalId === null ? undefined : state.campaignsByExternalId.get(externalId)
      if (existing !== undefined) return copyCampaign(state.campaigns.get(existing)!.campaign)
      const id = nextId('campaign')
      if (externalId !== null) state.campaignsByExternalId.set(externalId, id)
      const campaign: Campaign = {
        id,
        name: input.name,
        status: 'DRAFT',
        mailboxIds: [...input.mailboxIds],
        steps: copySteps(input.steps),
        variables: [...input.variables],
        timezone: input.timezone,
        startHour: input.startHour,
        startMinute: input.startMinute,
        endHour: input.endHour,
        endMinute: input.endMinute,
        allowedDays: input.allowedDays,
        delayBetweenEmails: input.delayBetweenEmails,
        jitter: input.jitter,
        maxEmailsPerDay: input.maxEmailsPerDay,
        createdAt: copyDate(now),
        updatedAt: copyDate(now),
        settingsVersion: 1,
        nextSlotAt: null,
        lastMailboxId: null,
        externalId,
      }
      state.campaigns.set(id, {
        campaign,
        leads: new Map(),
        items: [],
        unassigned: new PendingHeap(),
        byMailbox: new Map(),
        counts: { pending: 0, sending: 0, sent: 0, failed: 0, cancelled: 0 },
        sendLog: [],
      })
      return copyCampaign(campaign)
    },

    async getCampaign(id) {
      const cs = state.campaigns.get(id)
      return cs === undefined ? null : copyCampaign(cs.campaign)
    },

    async getCampaignByExternalId(externalId) {
      const id = state.campaignsByExternalId.get(externalId)
      return id === undefined ? null : copyCampaign(state.campaigns.get(id)!.campaign)
    },

    async updateCampaign(id, patch, now) {
      const cs = state.campaigns.get(id)
      if (cs === undefined) return null
      applyCampaignPatch(cs.campaign, patch)
      cs.campaign.updatedAt = copyDate(now)
      cs.campaign.settingsVersion += 1
      // New settings may open the window sooner: a deferral made under the old ones no longer holds.
      deferredUntil.delete(id)
      return copyCampaign(cs.campaign)
    },

    async setCampaignStatus(id, change, now) {
      const cs = state.campaigns.get(id)
      if (cs === undefined) return null
      if (!change.from.includes(cs.campaign.status)) {
        return { changed: false, campaign: copyCampaign(cs.campaign) }
      }
      cs.campaign.status = change.to
      cs.campaign.updatedAt = copyDate(now)
      if (change.cancelPending !== undefined) cancelCampaignPending(cs, change.cancelPending, now)
      return { changed: true, campaign: copyCampaign(cs.campaign) }
    },

    async completeIfDrained(campaignId, now) {
      const cs = state.campaigns.get(campaignId)
      if (cs === undefined || cs.campaign.status !== 'IN_PROGRESS') return false
      if (cs.counts.pending > 0 || cs.counts.sending > 0) return false
      cs.campaign.status = 'COMPLETED'
      cs.campaign.updatedAt = copyDate(now)
      return true
    },

    async listRunnableCampaigns(_now, filter) {
      const out: RunnableCampaign[] = []
      if (filter?.ids !== undefined) {
        for (const id of new Set(filter.ids)) {
          const cs = state.campaigns.get(id)
          const r = cs === undefined ? undefined : runnable(cs)
          if (r !== undefined) out.push(r)
        }
      } else {
        for (const cs of state.campaigns.values()) {
          const r = runnable(cs)
          if (r !== undefined) out.push(r)
        }
      }
      return out
    },

    async listDueCampaigns(_now, filter) {
      // Only counters and heap heads are read; a campaign not due is not copied.
      const dueBefore = filter.dueBefore.getTime()
      const campaigns: RunnableCampaign[] = []
      let laterAt = Number.POSITIVE_INFINITY
      const consider = (cs: CampaignRecord | undefined) => {
        if (cs === undefined || cs.campaign.status !== 'IN_PROGRESS') return
        // A campaign with pending items is listed once both its deferral and its queue allow (the
        // deferral first: it spares the scan of the queue), a drained one whatever its deferral.
        if (cs.counts.pending > 0) {
          const deferred = deferredUntil.get(cs.campaign.id)
          if (deferred !== undefined && deferred > dueBefore) {
            if (deferred < laterAt) laterAt = deferred
            return
          }
        }
        const earliest = earliestPending(cs)
        if (earliest !== undefined && earliest.scheduledAt > dueBefore) {
          if (earliest.scheduledAt < laterAt) laterAt = earliest.scheduledAt
          return
        }
        const r = runnable(cs)
        if (r !== undefined) campaigns.push(r)
      }
      if (filter.ids !== undefined) for (const id of new Set(filter.ids)) consider(state.campaigns.get(id))
      else for (const cs of state.campaigns.values()) consider(cs)
      return { campaigns, laterAt: laterAt === Number.POSITIVE_INFINITY ? null : new Date(laterAt) }
    },

    async deferCampaigns(deferrals) {
      for (const d of deferrals) {
        const cs = state.campaigns.get(d.campaignId)
        if (cs?.campaign.status !== 'IN_PROGRESS') continue
        if (cs.campaign.settingsVersion !== d.settingsVersion) continue
        const until = Math.max(d.until.getTime(), deferredUntil.get(d.campaignId) ?? Number.NEGATIVE_INFINITY)
        deferredUntil.set(d.campaignId, until)
      }
    },

    // -- leads -----------------------------------------------------------------------------------

    async addLeads(campaignId, leads, now) {
      const cs = campaignOrThrow(campaignId)
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
        const lead = insertLead(cs, input, 'active', nowMs)
        insertItem(
          state,
          cs,
          lead,
          { step: 0, scheduledAt: nowMs, mailboxId: null, references: [], threadSubject: null },
          nowMs,
        )
        outcome.added.push(copyLead(lead))
      }
      return outcome
    },

    async importLeads(campaignId, leads, now) {
      const cs = campaignOrThrow(campaignId)
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
        const lead = insertLead(cs, input, input.status, nowMs)
        for (const sent of input.history) {
          insertSentItem(state, cs, lead, { ...sent, sentAt: sent.sentAt.getTime() }, nowMs)
        }
        const next = input.next
        if (next !== null) insertImportedNext(state, cs, lead, next, nowMs)
        outcome.imported.push(copyLead(lead))
      }
      return outcome
    },

    async getLead(campaignId, emailKey) {
      const lead = state.campaigns.get(campaignId)?.leads.get(emailKey)
      return lead === undefined ? null : copyLead(lead)
    },

    async listLeads(campaignId) {
      const leads = [...(state.campaigns.get(campaignId)?.leads.values() ?? [])]
      return leads.sort((a, b) => a.createdAt - b.createdAt || Number(a.id) - Number(b.id)).map(copyLead)
    },

    async stopLead(campaignId, emailKey, status, reason, now) {
      const cs = state.campaigns.get(campaignId)
      const lead = cs?.leads.get(emailKey)
      if (cs === undefined || lead === undefined) return null
      stopActiveLead(lead, status, now.getTime())
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

    // -- the queue -------------------------------------------------------------------------------

    async reserveSends(requests, now) {
      return requests.map((req) => reserveOne(state, req, now))
    },

    async completeSends(completions, now) {
      return completions.map((c) => completeOne(state, c, now))
    },

    async recoverExpiredLeases(now, policy) {
      return recoverExpired(state, now, policy)
    },

    async recordExternalSends(sends) {
      let recorded = 0
      for (const send of sends) {
        if (state.externalSends.has(send.key)) continue
        state.externalSends.add(send.key)
        recorded += 1
        if (send.mailbox !== undefined) {
          increment(state.mailboxDayCounts, counterKey(send.mailbox.id, send.mailbox.dayKey))
        }
        const c = send.campaign
        const cs = c === undefined ? undefined : state.campaigns.get(c.id)
        if (c === undefined || cs === undefined) continue
        increment(state.campaignDayCounts, counterKey(c.id, c.dayKey))
        const slot = cs.campaign.nextSlotAt
        if (c.nextSlotAt !== null && (slot === null || c.nextSlotAt > slot)) {
          cs.campaign.nextSlotAt = copyDate(c.nextSlotAt)
        }
      }
      return { recorded }
    },

    // -- reading ---------------------------------------------------------------------------------

    async queueStats(campaignId) {
      const cs = state.campaigns.get(campaignId)
      const stats: QueueStats = {
        pending: 0,
        sending: 0,
        sent: 0,
        failed: 0,
        cancelled: 0,
        nextScheduledAt: null,
      }
      if (cs === undefined) return stats
      Object.assign(stats, cs.counts)
      const earliest = earliestPending(cs)
      stats.nextScheduledAt = earliest === undefined ? null : new Date(earliest.scheduledAt)
      return stats
    },

    async countDueByMailbox(campaignId, now) {
      const cs = state.campaigns.get(campaignId)
      if (cs === undefined) return []
      const nowMs = now.getTime()
      const counts: DueCount[] = []
      const unassigned = cs.unassigned.countDue(nowMs)
      if (unassigned > 0) counts.push({ mailboxId: null, count: unassigned })
      for (const [mailboxId, heap] of cs.byMailbox) {
        const count = heap.countDue(nowMs)
        if (count > 0) counts.push({ mailboxId, count })
      }
      return counts
    },

    async dayCounts(query) {
      const mailboxes: Record<string, number> = {}
      for (const { mailboxId, dayKey } of query.mailboxes) {
        mailboxes[mailboxId] = state.mailboxDayCounts.get(counterKey(mailboxId, dayKey)) ?? 0
      }
      const campaign = state.campaignDayCounts.get(counterKey(query.campaignId, query.campaignDayKey)) ?? 0
      return { campaign, mailboxes }
    },

    async listQueueItems(campaignId) {
      const cs = state.campaigns.get(campaignId)
      if (cs === undefined) return []
      // Items are kept in id order, which is createdAt order unless callers passed a `now` that
      // went back (several workers' clocks); sort only then.
      const items = cs.items
      const ordered = items.every((item, i) => i === 0 || items[i - 1]!.createdAt <= item.createdAt)
      const sorted = ordered ? items : [...items].sort((a, b) => a.createdAt - b.createdAt || a.num - b.num)
      return sorted.map(copyItem)
    },

    async listSendLog(campaignId) {
      return (state.campaigns.get(campaignId)?.sendLog ?? []).map(copySendLogEntry)
    },

    async listCampaigns(query) {
      return inspect.listCampaigns(state, query)
    },
    async listMailboxes() {
      return inspect.listMailboxes(state)
    },
    async listFailedSends(campaignId, { limit }) {
      return inspect.listFailedSends(state, campaignId, limit)
    },
    async listRecentSends(campaignId, { limit }) {
      return inspect.listRecentSends(state, campaignId, limit)
    },
    async listSendTimes(campaignId, { from, to }) {
      return inspect.listSendTimes(state, campaignId, from, to)
    },

    async close() {
      // Nothing to release: the state is plain memory. The store stays readable after close, so a
      // host or a test can still inspect it.
    },
  }
}
