/** The memory store's campaign methods: settings, status, and which campaigns a tick runs. */
import type { Campaign, CampaignPatch, NewCampaign, RunnableCampaign, Store } from '../index.js'
import { copyCampaign, copyDate, copySteps } from './copy.js'
import { cancelItem } from './items.js'
import { PendingIndex } from './pending.js'
import { type CampaignRecord, nextId, type State } from './state.js'

export type CampaignMethods = Pick<
  Required<Store>,
  | 'createCampaign'
  | 'getCampaign'
  | 'getCampaignByExternalId'
  | 'updateCampaign'
  | 'setCampaignStatus'
  | 'completeIfDrained'
  | 'listRunnableCampaigns'
  | 'listDueCampaigns'
  | 'deferCampaigns'
>

/** Settings a campaign patch may replace one by one (arrays are handled apart, to copy them). */
const CAMPAIGN_SCALARS = [
  'name',
  'timezone',
  'startHour',
  'startMinute',
  'endHour',
  'endMinute',
  'allowedDays',
  'windowTimezone',
  'stopOnReply',
  'providerMatching',
  'delayBetweenEmails',
  'jitter',
  'maxEmailsPerDay',
] as const satisfies ReadonlyArray<keyof NewCampaign>

export function campaignMethods(state: State): CampaignMethods {
  return {
    async createCampaign(input, now) {
      const externalId = input.externalId ?? null
      const existing = externalId === null ? undefined : state.campaignsByExternalId.get(externalId)
      if (existing !== undefined) return copyCampaign(state.campaigns.get(existing)!.campaign)
      const campaign = newCampaign(nextId(state, 'campaign'), input, externalId, now)
      if (externalId !== null) state.campaignsByExternalId.set(externalId, campaign.id)
      state.campaigns.set(campaign.id, {
        campaign,
        leads: new Map(),
        items: [],
        pending: new PendingIndex(),
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
      state.deferredUntil.delete(id)
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
      if (change.cancelPending !== undefined) {
        const nowMs = now.getTime()
        for (const item of cs.pending.takeAll()) cancelItem(state, cs, item, change.cancelPending, nowMs)
      }
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
      for (const cs of campaignsOf(state, filter?.ids)) {
        const r = runnable(cs)
        if (r !== undefined) out.push(r)
      }
      return out
    },

    async listDueCampaigns(_now, filter) {
      // Only counters and heap heads are read; a campaign not due is not copied.
      const dueBefore = filter.dueBefore.getTime()
      const campaigns: RunnableCampaign[] = []
      let laterAt = Number.POSITIVE_INFINITY
      for (const cs of campaignsOf(state, filter.ids)) {
        const notBefore = dueAfter(state, cs, dueBefore)
        if (notBefore !== undefined) {
          laterAt = Math.min(laterAt, notBefore)
          continue
        }
        const r = runnable(cs)
        if (r !== undefined) campaigns.push(r)
      }
      return { campaigns, laterAt: laterAt === Number.POSITIVE_INFINITY ? null : new Date(laterAt) }
    },

    async deferCampaigns(deferrals) {
      for (const d of deferrals) {
        const cs = state.campaigns.get(d.campaignId)
        if (cs?.campaign.status !== 'IN_PROGRESS') continue
        if (cs.campaign.settingsVersion !== d.settingsVersion) continue
        const until = Math.max(
          d.until.getTime(),
          state.deferredUntil.get(d.campaignId) ?? Number.NEGATIVE_INFINITY,
        )
        state.deferredUntil.set(d.campaignId, until)
      }
    },
  }
}

function newCampaign(id: string, input: NewCampaign, externalId: string | null, now: Date): Campaign {
  return {
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
    windowTimezone: input.windowTimezone,
    skipDates: [...input.skipDates],
    // Stores written before `stopOnReply` existed may hand a campaign without it: the default.
    stopOnReply: input.stopOnReply ?? 'lead',
    recipientDomainLimit: input.recipientDomainLimit ? { ...input.recipientDomainLimit } : null,
    providerMatching: input.providerMatching ?? 'off',
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
  if (patch.skipDates !== undefined) c.skipDates = [...patch.skipDates]
  if (patch.recipientDomainLimit !== undefined)
    c.recipientDomainLimit = patch.recipientDomainLimit === null ? null : { ...patch.recipientDomainLimit }
}

/** The campaigns with these ids that exist (each once), or every campaign. */
function* campaignsOf(state: State, ids: readonly string[] | undefined): Iterable<CampaignRecord> {
  if (ids === undefined) {
    yield* state.campaigns.values()
    return
  }
  for (const id of new Set(ids)) {
    const cs = state.campaigns.get(id)
    if (cs !== undefined) yield cs
  }
}

/**
 * For `listDueCampaigns`: the instant (ms) an in-progress campaign with pending items cannot send
 * before, when that is after `dueBefore` (its deferral first, which spares reading its queue, then
 * its earliest pending item); undefined when it is due, drained, or not in progress. A drained
 * campaign is due whatever its deferral, so core can complete it.
 */
function dueAfter(state: State, cs: CampaignRecord, dueBefore: number): number | undefined {
  if (cs.campaign.status !== 'IN_PROGRESS' || cs.counts.pending === 0) return undefined
  const deferred = state.deferredUntil.get(cs.campaign.id)
  if (deferred !== undefined && deferred > dueBefore) return deferred
  const earliest = cs.pending.earliest()
  if (earliest !== undefined && earliest.scheduledAt > dueBefore) return earliest.scheduledAt
  return undefined
}

/**
 * A campaign as `listRunnableCampaigns` lists it: in progress with pending items, or drained
 * (nothing pending, nothing sending: `nextItemAt` null) so core can complete it. Only counters
 * and heap heads are read, never the history.
 */
function runnable(cs: CampaignRecord): RunnableCampaign | undefined {
  if (cs.campaign.status !== 'IN_PROGRESS') return undefined
  const earliest = cs.pending.earliest()
  if (earliest === undefined && cs.counts.sending > 0) return undefined
  const nextItemAt = earliest === undefined ? null : new Date(earliest.scheduledAt)
  return { campaign: copyCampaign(cs.campaign), nextItemAt }
}
