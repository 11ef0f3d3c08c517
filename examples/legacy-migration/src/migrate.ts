/**
 * The app's glue between its legacy sender and mailcadence, following the seed's parallel plan.
 * `createMigration({ db, clock })` gives:
 *
 * - `toImportInput`: a legacy campaign as mailcadence's `ImportInput` (settings in the seed's
 *   vocabulary, each lead with how far it got, the `SendLog` rows, `sentToday` from
 *   `Mailbox.currentDailySent`);
 * - `startShadow` and `compareShadow`: a shadow scheduler on a store of its own imports a campaign
 *   and plans it beside the legacy sender; `compareWithLegacy` says where they differ;
 * - `hooks`: what the live scheduler is created with: `campaignFilter` (only campaigns with
 *   `useV2`), `beforeSend` (the seed's `SendLog` check) and `onEvent` (its sends counted in the
 *   legacy `Mailbox.currentDailySent`, so the legacy sender respects shared mailboxes' limits);
 * - `switchCampaign`: flag `useV2`, import with `start`;
 * - `recordLegacySends`: the legacy sender's sends, counted by mailcadence while both run;
 * - `rollbackCampaign`: pause, `exportProgress`, hand the leads back to the legacy sender.
 */
import {
  type CampaignInput,
  type Comparison,
  compareWithLegacy,
  type ExternalSendInput,
  type ImportInput,
  type ImportLeadInput,
  type ImportResult,
  type LeadStatus,
  type LegacySend,
  type Scheduler,
  type SchedulerEvent,
  type SchedulerOptions,
} from '@mailcadence/core'
import type { Prisma } from '../generated/prisma/client.js'
import type { PrismaClient } from './db.js'
import { countSend, LEGACY_TIMEZONE, wallClock } from './legacy.js'

/** A legacy mailbox and its twin in a mailcadence store. */
export interface MailboxPair {
  legacyId: number
  /** The mailbox's id in mailcadence. */
  id: string
  email: string
  dailyEmailLimit: number
  timezone: string
}

/** A shadow run: what `startShadow` imported, for `compareShadow`. */
export interface ShadowRun {
  result: ImportResult
  mailboxes: MailboxPair[]
  /** When the shadow run began (the import). */
  since: Date
}

/**
 * How mailcadence counted a legacy `SendLog` row toward its day counts (`SendLog.v2Counted`):
 *
 * - `switch`: when a campaign was switched: by its row id when it is the campaign's own row, or
 *   within `sentToday` (its mailbox's total of the day) on the first switch;
 * - `mailbox`: recorded live by row id for its mailbox, its campaign not being in mailcadence yet;
 * - `both`: counted by row id for its mailbox and its campaign.
 *
 * Null: not counted yet. The live recording takes only those, so nothing is counted twice.
 */
type Counted = 'switch' | 'mailbox' | 'both'

export interface MigrationOptions {
  db: PrismaClient
  /** The clock both systems run on. */
  clock: { now(): Date }
  /** Where `[V2]` lines go. Default: nowhere. */
  log?: (line: string) => void
}

export type Migration = ReturnType<typeof createMigration>

export function createMigration({ db, clock, log = () => {} }: MigrationOptions) {
  const writes = new Set<Promise<void>>()

  /** True once a campaign has been switched: mailcadence then counts the legacy sends live. */
  const running = async () => (await db.campaign.count({ where: { v2CampaignId: { not: null } } })) > 0
  const mark = (where: Prisma.SendLogWhereInput, counted: Counted) =>
    db.sendLog.updateMany({ where, data: { v2Counted: counted } })
  const maxRowId = async () => (await db.sendLog.aggregate({ _max: { id: true } }))._max.id ?? 0

  /**
   * Creates a mailcadence mailbox for every legacy one. With `remember` (the live store) the ids
   * are kept in `Mailbox.v2MailboxId` and reused; without (a shadow store) fresh ones are made.
   */
  async function ensureMailboxes(scheduler: Scheduler, remember: boolean): Promise<MailboxPair[]> {
    const pairs: MailboxPair[] = []
    for (const m of await db.mailbox.findMany({ orderBy: { id: 'asc' } })) {
      let id = remember ? m.v2MailboxId : null
      if (id === null) {
        const created = await scheduler.createMailbox({
          email: m.email,
          name: m.name,
          dailyEmailLimit: m.dailyEmailLimit,
          // The legacy counter resets on Warsaw days: mailcadence's day counts do the same.
          timezone: LEGACY_TIMEZONE,
        })
        id = created.id
        if (remember) await db.mailbox.update({ where: { id: m.id }, data: { v2MailboxId: id } })
      }
      pairs.push({
        legacyId: m.id,
        id,
        email: m.email,
        dailyEmailLimit: m.dailyEmailLimit,
        timezone: LEGACY_TIMEZONE,
      })
    }
    return pairs
  }

  /** The legacy campaign's `SendLog` as `LegacySend`s (the legacy sender's own rows only). */
  async function legacySends(campaignId: number): Promise<LegacySend[]> {
    const mailboxes = new Map((await db.mailbox.findMany()).map((m) => [m.id, m.email]))
    const rows = await db.sendLog.findMany({
      where: { campaignId, source: 'legacy' },
      orderBy: { id: 'asc' },
    })
    return rows.map((row) => ({
      id: String(row.id),
      to: row.toEmail,
      subject: row.subject,
      sentAt: row.createdAt,
      mailbox: mailboxes.get(row.mailboxId)!,
      step: row.step,
    }))
  }

  /**
   * A legacy campaign as mailcadence takes it. `sentToday` (each mailbox's `currentDailySent` of
   * today) is added when asked: see `switchCampaign` for when.
   */
  async function toImportInput(
    campaignId: number,
    mailboxes: readonly MailboxPair[],
    options: { sentToday: boolean },
  ): Promise<ImportInput> {
    const c = await db.campaign.findUniqueOrThrow({
      where: { id: campaignId },
      include: { steps: { orderBy: { position: 'asc' } }, leads: { orderBy: { id: 'asc' } } },
    })
    const addressOf = new Map(mailboxes.map((m) => [m.legacyId, m.email]))
    const campaign: CampaignInput = {
      name: c.name,
      timezone: c.timezone,
      startHour: c.startHour,
      startMinute: c.startMinute,
      endHour: c.endHour,
      endMinute: c.endMinute,
      allowedDays: c.allowedDays,
      delayBetweenEmails: c.delayBetweenEmails,
      maxEmailsPerDay: c.maxEmailsPerDay,
      // The legacy sender rotates over every mailbox, in id order.
      mailboxIds: mailboxes.map((m) => m.id),
      steps: c.steps.map((s) => ({
        ...(s.subject !== null ? { subject: s.subject } : {}),
        text: s.body,
        delayDays: s.delayDays,
      })),
    }
    const leads = c.leads.map((lead): ImportLeadInput => {
      const out: ImportLeadInput = {
        email: lead.email,
        firstName: lead.firstName,
        company: lead.company,
        status: leadStatus(lead.status),
      }
      if (lead.currentStep > 0 && lead.lastSentAt && lead.messageId && lead.mailboxId !== null) {
        out.progress = {
          step: lead.currentStep - 1,
          sentAt: lead.lastSentAt,
          mailbox: addressOf.get(lead.mailboxId)!,
          messageId: lead.messageId,
          ...(lead.threadIds ? { thread: lead.threadIds.split(' ') } : {}),
          ...(lead.threadSubject ? { threadSubject: lead.threadSubject } : {}),
        }
      }
      return out
    })
    const input: ImportInput = {
      externalId: String(c.id),
      campaign,
      leads,
      sendLog: await legacySends(campaignId),
    }
    if (options.sentToday) {
      const today = wallClock(clock.now(), LEGACY_TIMEZONE).day
      input.sentToday = Object.fromEntries(
        (await db.mailbox.findMany()).map((m) => [m.email, m.counterDay === today ? m.currentDailySent : 0]),
      )
    }
    return input
  }

  return {
    ensureMailboxes,
    legacySends,
    toImportInput,

    // -- shadow -------------------------------------------------------------------------------

    /** Imports a legacy campaign into a shadow scheduler (a store of its own) and starts it there. */
    async startShadow(shadow: Scheduler, campaignId: number): Promise<ShadowRun> {
      const since = clock.now()
      const mailboxes = await ensureMailboxes(shadow, false)
      const input = await toImportInput(campaignId, mailboxes, { sentToday: true })
      const result = await shadow.importCampaign({ ...input, start: true })
      return { result, mailboxes, since }
    },

    /** What the shadow run planned against what the legacy sender did since it began. */
    async compareShadow(shadow: Scheduler, run: ShadowRun, until?: Date): Promise<Comparison> {
      return compareWithLegacy({
        campaign: await shadow.getCampaign(run.result.campaignId),
        mailboxes: run.mailboxes,
        planned: await shadow.sendLog(run.result.campaignId),
        legacy: await legacySends(Number(run.result.externalId)),
        since: run.since,
        ...(until ? { until } : {}),
      })
    },

    // -- the live scheduler's hooks -----------------------------------------------------------

    /**
     * What the live scheduler runs with while both systems run: it sends only the campaigns
     * switched to it, never an email the legacy `SendLog` already has, and counts its sends in
     * the legacy mailboxes' `currentDailySent`.
     */
    hooks: {
      // The seed's per-campaign flag, found through the imported campaign's `externalId`.
      async campaignFilter(campaign) {
        if (campaign.externalId === null) return true // created in mailcadence: its own
        const legacy = await db.campaign.findUnique({
          where: { id: Number(campaign.externalId) },
          select: { useV2: true },
        })
        return legacy?.useV2 === true
      },
      // The seed's duplicate check: no send when `SendLog` has this (campaign, lead, step). The
      // email then counts as sent when the legacy sender sent it, from its mailbox, and the lead's
      // sequence goes on from it in mailcadence, in the same thread.
      async beforeSend({ campaign, to, step }) {
        if (campaign.externalId === null) return true
        const campaignId = Number(campaign.externalId)
        const lead = await db.campaignLead.findUnique({
          where: { campaignId_email: { campaignId, email: to } },
          select: { id: true },
        })
        if (!lead) return true
        const row = await db.sendLog.findFirst({ where: { campaignId, leadId: lead.id, step } })
        if (row === null) return true
        const mailbox = await db.mailbox.findUnique({ where: { id: row.mailboxId } })
        return {
          alreadySent: {
            sentAt: row.createdAt,
            ...(row.messageId ? { messageId: row.messageId } : {}),
            ...(mailbox?.v2MailboxId ? { mailboxId: mailbox.v2MailboxId } : {}),
          },
        }
      },
      // Synchronous: the write is tracked, and `settle()` waits for it.
      onEvent(event: SchedulerEvent) {
        if (event.type === 'sent' && !event.shadow) {
          const write = (async () => {
            const mailbox = await db.mailbox.findFirst({ where: { v2MailboxId: event.mailboxId } })
            if (mailbox) await countSend(db, mailbox.id, event.at)
          })().catch((error) => log(`[V2] counting a send in currentDailySent failed: ${String(error)}`))
          writes.add(write)
          void write.finally(() => writes.delete(write))
          log(`[V2] ${event.to} step ${event.step}: ${event.subject}`)
        } else if (event.type === 'vetoed') {
          log(
            `[V2] ${event.to} step ${event.step}: already in the legacy SendLog, not sent (${event.reason})`,
          )
        }
      },
    } satisfies Pick<SchedulerOptions, 'campaignFilter' | 'beforeSend' | 'onEvent'>,

    /** Resolves once the writes `onEvent` started have finished: call it after each tick. */
    async settle(): Promise<void> {
      while (writes.size > 0) await Promise.all(writes)
    },

    // -- switching, recording, rolling back ---------------------------------------------------

    /**
     * Switches a campaign to mailcadence: `useV2` first (the legacy sender leaves it alone from its
     * next run; an email it has in flight then is caught by `beforeSend`), then the import, started.
     * Importing again is harmless: the campaign is keyed by `externalId`, its leads by address and
     * its sends by row id. Switching again after a rollback is the same call: the import moves each
     * lead mailcadence holds forward to where the legacy sender got since (replies, steps sent).
     *
     * Day counts on the switch day: the campaign's own `SendLog` rows of today count toward its
     * `maxEmailsPerDay` and their mailboxes' limits. On the first switch, each mailbox's
     * `currentDailySent` (the legacy sends of today, every campaign) goes in as `sentToday`; from
     * then on `recordLegacySends` counts each legacy send by row id, and `currentDailySent` also
     * holds mailcadence's own sends, so later switches leave `sentToday` out.
     */
    async switchCampaign(live: Scheduler, campaignId: number): Promise<ImportResult> {
      const legacy = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } })
      const first = !(await running())
      await db.campaign.update({ where: { id: campaignId }, data: { useV2: true } })
      const mailboxes = await ensureMailboxes(live, true)
      const seen = await maxRowId() // the rows (and counters) the import reads
      const input = await toImportInput(campaignId, mailboxes, { sentToday: first })
      const result = await live.importCampaign({ ...input, start: true })
      await db.campaign.update({ where: { id: campaignId }, data: { v2CampaignId: result.campaignId } })

      // Rows recorded live while the campaign was not in mailcadence took their mailbox's count
      // only; the import has now counted them for the campaign too (each part has its own key).
      await mark({ campaignId, source: 'legacy', v2Counted: 'mailbox' }, 'both')
      // The import counted the campaign's other rows; on the first switch, `sentToday` the rest.
      await mark({ id: { lte: seen }, v2Counted: null, ...(first ? {} : { campaignId }) }, 'switch')
      log(
        `[V2] switched "${legacy.name}": ${result.leads.imported} leads imported (${result.leads.due} due, ${result.leads.waiting} waiting, ${result.leads.finished} finished), ${result.leads.advanced} moved forward, ${result.counted.campaign} legacy sends counted today`,
      )
      return result
    },

    /**
     * Counts in mailcadence the legacy sends it has not counted yet (by `SendLog` row id), so the
     * limits of shared mailboxes hold across both systems. Call it after each run of the legacy
     * cron (or before each tick). Does nothing before the first switch.
     */
    async recordLegacySends(live: Scheduler): Promise<number> {
      if (!(await running())) return 0
      const rows = await db.sendLog.findMany({
        where: { source: 'legacy', v2Counted: null },
        orderBy: { id: 'asc' },
      })
      if (rows.length === 0) return 0
      const mailboxes = new Map((await db.mailbox.findMany()).map((m) => [m.id, m.v2MailboxId]))
      const campaigns = new Map((await db.campaign.findMany()).map((c) => [c.id, c.v2CampaignId]))
      const sends = rows.map((row): ExternalSendInput => {
        const send: ExternalSendInput = { id: String(row.id), sentAt: row.createdAt }
        const mailboxId = mailboxes.get(row.mailboxId)
        if (mailboxId) send.mailboxId = mailboxId
        const campaignId = campaigns.get(row.campaignId)
        if (campaignId) send.campaignId = campaignId
        return send
      })
      const { recorded } = await live.recordExternalSends(sends)
      const withCampaign = rows.filter((r) => campaigns.get(r.campaignId)).map((r) => r.id)
      const mailboxOnly = rows.filter((r) => !campaigns.get(r.campaignId)).map((r) => r.id)
      await mark({ id: { in: withCampaign } }, 'both')
      await mark({ id: { in: mailboxOnly } }, 'mailbox')
      return recorded
    },

    /**
     * Hands a switched campaign back to the legacy sender: pauses it in mailcadence (no new send
     * starts), exports where each lead stands, copies mailcadence's sends into `SendLog` (the
     * legacy sender's duplicate check, daily cap and pacing read it) and each lead's progress into
     * `CampaignLead`, then clears `useV2`.
     */
    async rollbackCampaign(
      live: Scheduler,
      campaignId: number,
    ): Promise<{ leads: number; copiedSends: number }> {
      const legacy = await db.campaign.findUniqueOrThrow({
        where: { id: campaignId },
        include: { steps: true },
      })
      const v2Id = legacy.v2CampaignId
      if (v2Id === null) throw new Error(`campaign ${campaignId} was never switched`)
      if ((await live.getCampaign(v2Id)).status === 'IN_PROGRESS') await live.pauseCampaign(v2Id)
      const progress = await live.exportProgress(v2Id)

      const leads = new Map(
        (await db.campaignLead.findMany({ where: { campaignId } })).map((l) => [l.email.toLowerCase(), l]),
      )
      const mailboxes = await db.mailbox.findMany()
      const byV2Id = new Map(mailboxes.map((m) => [m.v2MailboxId, m.id]))
      const byAddress = new Map(mailboxes.map((m) => [m.email.toLowerCase(), m.id]))

      let copiedSends = 0
      for (const entry of await live.sendLog(v2Id)) {
        const lead = leads.get(entry.to.toLowerCase())
        if (!lead) continue
        // Imported history is in SendLog already; only what mailcadence sent is copied in.
        if (await db.sendLog.findFirst({ where: { campaignId, leadId: lead.id, step: entry.step } })) continue
        await db.sendLog.create({
          data: {
            campaignId,
            leadId: lead.id,
            mailboxId: byV2Id.get(entry.mailboxId)!,
            step: entry.step,
            toEmail: entry.to,
            subject: entry.subject,
            messageId: entry.messageId,
            source: 'mailcadence',
            v2Counted: 'both' satisfies Counted, // mailcadence's own send: never recorded back
            createdAt: entry.sentAt,
          },
        })
        copiedSends++
      }

      for (const exported of progress.leads) {
        const lead = leads.get(exported.email.toLowerCase())
        const p = exported.progress
        if (!lead) continue
        const data: Prisma.CampaignLeadUpdateInput = {}
        // Never backwards: a step the legacy sender made itself (in flight at the switch) stays.
        if (p && p.step + 1 > lead.currentStep) {
          Object.assign(data, {
            currentStep: p.step + 1,
            lastSentAt: p.sentAt,
            mailboxId: byAddress.get(p.mailbox.toLowerCase()) ?? null,
            messageId: p.messageId,
            threadIds: p.thread.join(' '),
            threadSubject: p.threadSubject,
            status: p.step + 1 >= legacy.steps.length ? 'completed' : 'sent',
          } satisfies Prisma.CampaignLeadUpdateInput)
        }
        if (exported.status === 'replied' || exported.status === 'bounced') data.status = exported.status
        if (Object.keys(data).length > 0) await db.campaignLead.update({ where: { id: lead.id }, data })
      }
      await db.campaign.update({ where: { id: campaignId }, data: { useV2: false } })
      log(`[V2] rolled back "${legacy.name}": ${copiedSends} sends copied into SendLog`)
      return { leads: progress.leads.length, copiedSends }
    },
  }
}

function leadStatus(legacy: string): LeadStatus {
  if (legacy === 'replied') return 'replied'
  if (legacy === 'bounced') return 'bounced'
  // pending, sent, completed: where its sequence stands follows from its progress.
  return 'active'
}
