/**
 * The scheduler's migration methods: analyse and import a campaign running in another system,
 * count that system's sends while both run, and export progress for a rollback. The decisions are
 * the pure `planImport` and `buildProgress`; this file reads and writes the store around them.
 */
import { MailcadenceError } from '../errors.js'
import { normalizeImportInput } from '../migration/input.js'
import { type ExistingLead, legacySendParts, planImport } from '../migration/plan.js'
import { buildProgress } from '../migration/progress.js'
import type { CampaignProgress, ImportInput, ImportReport, ImportResult } from '../migration/types.js'
import { checkArray, checkDate, checkId, checkInteger, checkObject } from '../model/checks.js'
import { INPUT_LIMITS } from '../model/limits.js'
import type { Campaign } from '../model/types.js'
import { emailKey, validateCampaign } from '../model/validate.js'
import { dayKey, windowDayKey } from '../policy/calendar.js'
import { nextSlot } from '../policy/pacing.js'
import type { ExternalSend, NewCampaign } from '../store.js'
import { supportsMigration } from '../store-kit/index.js'
import type { ResolvedOptions } from './options.js'
import { keyLeadsByProvider } from './providers.js'

/** Leads per `importLeads` call: one call per lead would be slow, one for 100,000 too big a batch. */
const IMPORT_CHUNK = 500
/** How often `exportProgress` looks again while sends are in flight. */
const EXPORT_POLL_MS = 1_000

/** A send the other system made while both run side by side; see `Scheduler.recordExternalSends`. */
export interface ExternalSendInput {
  /** The send's id in the other system (its send-log row id): it is counted once. */
  id: string
  sentAt: Date
  /** The mailbox it left from, if it is one of mailcadence's: its daily count includes the send. */
  mailboxId?: string
  /** The campaign it belongs to, if it is one of mailcadence's: its daily count and pacing include it. */
  campaignId?: string
}

export function createMigration(
  options: ResolvedOptions,
  lookup: {
    campaignOrThrow(id: string): Promise<Campaign>
    checkMailboxesExist(ids: readonly string[], field?: string): Promise<void>
    /** Cancels what is pending in a campaign stopped while leads were being added to it. */
    cancelIfStopped(campaignId: string): Promise<void>
  },
) {
  const { store, clock } = options
  // The optional migration capability, checked when a migration method is called (like
  // `transport.verify`): a store without it serves everything else.
  const migrationStore = (method: string) => {
    if (supportsMigration(store)) return store
    throw new MailcadenceError(
      'invalid-state',
      `${method}() needs a store with the migration methods (getCampaignByExternalId, importLeads, recordExternalSends); this store has none`,
    )
  }

  async function prepare(raw: ImportInput, method: 'analyzeImport' | 'importCampaign') {
    const migrating = migrationStore(method)
    const input = normalizeImportInput(raw)
    const settings = validateCampaign(input.campaign)
    await lookup.checkMailboxesExist(settings.mailboxIds, 'campaign.mailboxIds')
    const existing = await migrating.getCampaignByExternalId(input.externalId)
    // A campaign imported before keeps its settings: the plan follows what is stored.
    const campaign: NewCampaign = existing ?? settings
    const [mailboxes, here] = await Promise.all([
      store.getMailboxes(campaign.mailboxIds),
      existing ? existingLeads(existing.id) : Promise.resolve(new Map()),
    ])
    const now = clock.now()
    const plan = planImport(input, { campaign, mailboxes, existing: here, now, random: options.random })
    return { migrating, existing, settings, plan, now }
  }

  /** Where each lead of a campaign stands here (status, highest step sent), for a re-import. */
  async function existingLeads(campaignId: string): Promise<Map<string, ExistingLead>> {
    const [leads, log] = await Promise.all([store.listLeads(campaignId), store.listSendLog(campaignId)])
    const lastSent = new Map<string, number>()
    for (const entry of log)
      lastSent.set(entry.leadId, Math.max(lastSent.get(entry.leadId) ?? -1, entry.step))
    return new Map(
      leads.map((l) => [emailKey(l.email), { status: l.status, lastSentStep: lastSent.get(l.id) ?? null }]),
    )
  }

  return {
    async analyzeImport(input: ImportInput): Promise<ImportReport> {
      const { existing, plan } = await prepare(input, 'analyzeImport')
      return { ...plan.report, campaignId: existing?.id ?? null }
    },

    async importCampaign(input: ImportInput): Promise<ImportResult> {
      const { migrating, existing, settings, plan, now } = await prepare(input, 'importCampaign')
      const campaign =
        existing ?? (await store.createCampaign({ ...settings, externalId: input.externalId }, now))
      if (campaign.status === 'CANCELLED')
        throw new MailcadenceError(
          'invalid-state',
          `campaign ${campaign.id} (${input.externalId}) is CANCELLED`,
        )
      const report = {
        ...plan.report,
        leads: { ...plan.report.leads },
        advanced: [...plan.report.advanced],
        issues: [...plan.report.issues],
      }
      // Provider matching: the leads' window keys take their providers (scheduler/providers.ts).
      await keyLeadsByProvider(options.providers, campaign, plan.leads)
      // What the store found already there (a concurrent import) moves from imported to existing.
      for (let i = 0; i < plan.leads.length; i += IMPORT_CHUNK) {
        const chunk = plan.leads.slice(i, i + IMPORT_CHUNK)
        const outcome = await migrating.importLeads(campaign.id, chunk, clock.now())
        report.leads.imported -= outcome.existing.length + outcome.suppressed.length
        report.leads.existing += outcome.existing.length
        report.leads.refused += outcome.suppressed.length
        // A lead that changed here since it was read (a send in flight, a reply) is left as it is.
        report.leads.advanced -= outcome.stale.length
        report.leads.existing += outcome.stale.length
        const stale = new Set(outcome.stale)
        report.advanced = report.advanced.filter((a) => !stale.has(emailKey(a.email)))
        for (const key of outcome.stale) {
          report.issues.push({
            code: 'advance-conflict',
            severity: 'warning',
            message: `${key} changed here while importing (a send in flight or a stop): left as it is; import again once the campaign is paused`,
            email: key,
          })
        }
        for (const key of outcome.suppressed) {
          report.issues.push({
            code: 'suppressed',
            severity: 'error',
            message: `${key} is suppressed here (unsubscribed or bounced): left out`,
            email: key,
          })
        }
      }
      const sends: ExternalSend[] = plan.sends.map(({ campaign: c, ...send }) =>
        c ? { ...send, campaign: { id: campaign.id, ...c } } : send,
      )
      const { recorded } = await migrating.recordExternalSends(sends, clock.now())
      if (plan.leads.length > 0) await lookup.cancelIfStopped(campaign.id)
      let current = campaign
      if (input.start === true) {
        const started = await store.setCampaignStatus(
          campaign.id,
          { from: ['DRAFT', 'PAUSED', 'COMPLETED'], to: 'IN_PROGRESS' },
          clock.now(),
        )
        if (started) current = started.campaign
      }
      options.logger.info(
        { campaignId: current.id, externalId: input.externalId, ...report.leads, recordedSends: recorded },
        'campaign imported',
      )
      return { ...report, campaignId: current.id, recordedSends: recorded }
    },

    async recordExternalSends(sends: readonly ExternalSendInput[]): Promise<{ recorded: number }> {
      const migrating = migrationStore('recordExternalSends')
      const checked = checkArray('sends', sends, INPUT_LIMITS.sendsPerCall).map(checkExternalSend)
      const campaigns = new Map<string, Campaign>()
      const mailboxIds = new Set<string>()
      for (const send of checked) {
        if (send.mailboxId !== undefined) mailboxIds.add(send.mailboxId)
        if (send.campaignId !== undefined && !campaigns.has(send.campaignId))
          campaigns.set(send.campaignId, await lookup.campaignOrThrow(send.campaignId))
      }
      await lookup.checkMailboxesExist([...mailboxIds], 'sends.mailboxId')
      const mailboxes = new Map((await store.getMailboxes([...mailboxIds])).map((m) => [m.id, m]))
      const external = checked.flatMap((send): ExternalSend[] => {
        const mailbox = send.mailboxId === undefined ? undefined : mailboxes.get(send.mailboxId)
        const campaign = send.campaignId === undefined ? undefined : campaigns.get(send.campaignId)
        return legacySendParts(
          send.id,
          mailbox && { id: mailbox.id, dayKey: dayKey(send.sentAt, mailbox.timezone) },
          campaign && {
            id: campaign.id,
            dayKey: windowDayKey(campaign, send.sentAt) ?? dayKey(send.sentAt, campaign.timezone),
            nextSlotAt: nextSlot(send.sentAt, campaign.delayBetweenEmails, campaign.jitter, options.random),
          },
        )
      })
      return migrating.recordExternalSends(external, clock.now())
    },

    async exportProgress(campaignId: string, opts: { timeoutMs?: number } = {}): Promise<CampaignProgress> {
      checkObject('options', opts)
      const timeoutMs =
        opts.timeoutMs === undefined
          ? options.lease + EXPORT_POLL_MS
          : checkInteger('timeoutMs', opts.timeoutMs, 0, INPUT_LIMITS.lease)
      const campaign = await lookup.campaignOrThrow(campaignId)
      if (campaign.status === 'IN_PROGRESS')
        throw new MailcadenceError(
          'invalid-state',
          `campaign ${campaignId} is IN_PROGRESS: pause or stop it before exporting its progress`,
        )
      // Sends already reserved finish first (or their lease runs out and recovery decides).
      const deadline = clock.now().getTime() + timeoutMs
      for (;;) {
        await store.recoverExpiredLeases(clock.now(), options.leaseRecovery)
        const { sending } = await store.queueStats(campaignId)
        if (sending === 0) break
        if (clock.now().getTime() >= deadline)
          throw new MailcadenceError(
            'invalid-state',
            `campaign ${campaignId} still has ${sending} send(s) in flight`,
          )
        // Let the in-flight completions run: a fake clock's sleep alone never yields to I/O.
        await new Promise((resolve) => setImmediate(resolve))
        await clock.sleep(EXPORT_POLL_MS)
      }
      const [leads, items, log] = await Promise.all([
        store.listLeads(campaignId),
        store.listQueueItems(campaignId),
        store.listSendLog(campaignId),
      ])
      const mailboxes = await store.getMailboxes([
        ...new Set([...campaign.mailboxIds, ...log.map((e) => e.mailboxId)]),
      ])
      return buildProgress({ campaign, leads, items, log, mailboxes, now: clock.now() })
    },
  }
}

/** One send of `recordExternalSends`, checked and copied. */
function checkExternalSend(value: unknown, i: number): ExternalSendInput {
  const send = checkObject(`sends[${i}]`, value)
  return {
    id: checkId(`sends[${i}].id`, send.id),
    sentAt: checkDate(`sends[${i}].sentAt`, send.sentAt),
    ...(send.mailboxId === undefined ? {} : { mailboxId: checkId(`sends[${i}].mailboxId`, send.mailboxId) }),
    ...(send.campaignId === undefined
      ? {}
      : { campaignId: checkId(`sends[${i}].campaignId`, send.campaignId) }),
  }
}
