/**
 * The forecast's copy of the live state: the campaign, the mailboxes it uses, the other running
 * campaigns sharing them (their limits are shared) with their pending work, and today's day counts,
 * written into a fresh memory store through the ordinary store methods (`createMailbox`,
 * `createCampaign`, `importLeads`, `recordExternalSends`). The live store is only read.
 */
import { MailcadenceError } from '../../errors.js'
import { createMemoryStore, type MemoryStore } from '../../memory/index.js'
import type { Campaign, Lead, Mailbox, QueueItem } from '../../model/types.js'
import { emailKey } from '../../model/validate.js'
import { nextStepAfter } from '../../policy/sequence.js'
import type { ExternalSend, ImportedLead, Store } from '../../store.js'
import { explainDayKeys } from '../explain.js'

/** The copy: the sim's store and how live ids map to the sim's. */
export interface SimCopy {
  store: MemoryStore
  /** The forecast campaign's id in the sim. */
  campaignId: string
  /** Sim mailbox id → live mailbox id. */
  liveMailboxId: Map<string, string>
  /** The campaigns copied (live), the forecast one first. */
  campaigns: Campaign[]
  mailboxes: Mailbox[]
}

/** What the live store holds for the forecast, read once and copied into every run's sim. */
export interface LiveSnapshot {
  campaigns: Campaign[]
  mailboxes: Mailbox[]
  /** Per campaign id: its active leads with their pending or in-flight items. */
  work: Map<string, Array<{ lead: Lead; item: QueueItem }>>
  /** Per campaign id: today's count; per mailbox id: today's count. */
  campaignCounts: Map<string, { dayKey: string; count: number }>
  mailboxCounts: Map<string, { dayKey: string; count: number }>
}

/**
 * Reads what the forecast needs: the campaign, every running campaign that shares a mailbox with it
 * (and, transitively, with those), their mailboxes, their leads' pending work and today's counts.
 */
export async function readLive(store: Store, campaign: Campaign, now: Date): Promise<LiveSnapshot> {
  const running = (await store.listRunnableCampaigns(now)).map((r) => r.campaign)
  const campaigns = [campaign]
  const boxIds = new Set(campaign.mailboxIds)
  // Sharing is transitive: a campaign on a shared mailbox moves its other sends to its other mailboxes.
  for (let grew = true; grew; ) {
    grew = false
    for (const other of running) {
      if (campaigns.some((c) => c.id === other.id)) continue
      if (!other.mailboxIds.some((id) => boxIds.has(id))) continue
      campaigns.push(other)
      for (const id of other.mailboxIds) boxIds.add(id)
      grew = true
    }
  }
  const mailboxes = await store.getMailboxes([...boxIds])
  const work = new Map<string, Array<{ lead: Lead; item: QueueItem }>>()
  const campaignCounts = new Map<string, { dayKey: string; count: number }>()
  const mailboxCounts = new Map<string, { dayKey: string; count: number }>()
  for (const c of campaigns) {
    const [leads, items] = await Promise.all([store.listLeads(c.id), store.listQueueItems(c.id)])
    const byId = new Map(leads.map((l) => [l.id, l]))
    const open: Array<{ lead: Lead; item: QueueItem }> = []
    for (const item of items) {
      if (item.status !== 'pending' && item.status !== 'sending') continue
      const lead = byId.get(item.leadId)
      if (lead?.status === 'active') open.push({ lead, item })
    }
    work.set(c.id, open)
    const own = mailboxes.filter((m) => c.mailboxIds.includes(m.id))
    const query = explainDayKeys(c, own, now)
    const counts = await store.dayCounts(query)
    campaignCounts.set(c.id, { dayKey: query.campaignDayKey, count: counts.campaign })
    for (const m of query.mailboxes)
      mailboxCounts.set(m.mailboxId, { dayKey: m.dayKey, count: counts.mailboxes[m.mailboxId] ?? 0 })
  }
  return { campaigns, mailboxes, work, campaignCounts, mailboxCounts }
}

/** Writes the snapshot into a fresh memory store, as it stands at `now`. */
export async function copyIntoSim(live: LiveSnapshot, now: Date): Promise<SimCopy> {
  const store = createMemoryStore()
  const simMailboxId = new Map<string, string>()
  const liveMailboxId = new Map<string, string>()
  for (const m of live.mailboxes) {
    const { id, createdAt: _c, updatedAt: _u, pausedUntil, pauseReason, rampLevel, rampDayKey, ...input } = m
    const created = await store.createMailbox(input, now)
    // The warm-up's progress too: the simulated days ramp on from where the mailbox stands.
    await store.updateMailbox(created.id, { pausedUntil, pauseReason, rampLevel, rampDayKey }, now)
    simMailboxId.set(id, created.id)
    liveMailboxId.set(created.id, id)
  }
  const toSim = (id: string | null) => (id === null ? null : (simMailboxId.get(id) ?? null))
  const external: ExternalSend[] = []
  let simTarget = ''
  for (const c of live.campaigns) {
    const created = await store.createCampaign(
      {
        ...scheduleOf(c),
        name: c.name,
        mailboxIds: c.mailboxIds.flatMap((id) => toSim(id) ?? []),
        steps: c.steps,
        variables: c.variables,
      },
      now,
    )
    if (!simTarget) simTarget = created.id
    // A draft or paused campaign is forecast as if started now.
    await store.setCampaignStatus(created.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, now)
    await importWork(store, created, live.work.get(c.id) ?? [], toSim, now)
    const today = live.campaignCounts.get(c.id)
    for (let i = 0; i < (today?.count ?? 0); i++) {
      const nextSlotAt = i === 0 ? c.nextSlotAt : null
      external.push({
        key: `c:${c.id}:${i}`,
        campaign: { id: created.id, dayKey: today!.dayKey, nextSlotAt },
      })
    }
  }
  for (const [id, today] of live.mailboxCounts) {
    const simId = toSim(id)
    for (let i = 0; simId && i < today.count; i++)
      external.push({ key: `m:${id}:${i}`, mailbox: { id: simId, dayKey: today.dayKey } })
  }
  // Today's sends already made count toward today's limits in the sim too.
  if (external.length > 0) await store.recordExternalSends(external, now)
  if (!simTarget) throw new MailcadenceError('invalid-state', 'forecast: nothing to copy')
  return {
    store,
    campaignId: simTarget,
    liveMailboxId,
    campaigns: live.campaigns,
    mailboxes: live.mailboxes,
  }
}

/**
 * Each lead with its next step: a pending item as it stands (due time, mailbox, thread), an item
 * in flight as sent now (its next step due after the step's delay). History is left out: nothing
 * in the sim can send a step twice, and counts only need what is still to come.
 */
async function importWork(
  store: MemoryStore,
  campaign: Campaign,
  work: ReadonlyArray<{ lead: Lead; item: QueueItem }>,
  toSim: (id: string | null) => string | null,
  now: Date,
): Promise<void> {
  const leads: ImportedLead[] = []
  for (const { lead, item } of work) {
    let next: ImportedLead['next'] = {
      step: item.step,
      scheduledAt: item.scheduledAt,
      mailboxId: toSim(item.mailboxId),
      references: item.references,
      threadSubject: item.threadSubject,
    }
    if (item.status === 'sending') {
      const after = nextStepAfter(campaign.steps, item.step, now)
      next = after ? { ...next, ...after } : null
      if (!next) continue
    }
    leads.push({
      email: lead.email,
      emailKey: emailKey(lead.email),
      firstName: lead.firstName,
      lastName: lead.lastName,
      company: lead.company,
      variables: lead.variables,
      timezone: lead.timezone,
      country: lead.country,
      windowKey: item.windowKey,
      status: 'active',
      history: [],
      next,
    })
  }
  if (leads.length > 0) await store.importLeads(campaign.id, leads, now)
}

/** The schedule settings of a campaign (what `createCampaign` takes besides name, mailboxes, steps). */
function scheduleOf(c: Campaign) {
  const {
    id: _id,
    name: _n,
    status: _s,
    mailboxIds: _m,
    steps: _st,
    variables: _v,
    createdAt: _ca,
    updatedAt: _ua,
    settingsVersion: _sv,
    nextSlotAt: _ns,
    lastMailboxId: _lm,
    externalId: _e,
    ...schedule
  } = c
  return schedule
}
