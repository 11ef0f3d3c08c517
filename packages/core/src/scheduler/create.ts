import { invalidInput, MailcadenceError } from '../errors.js'
import { createInbound } from '../inbound/apply.js'
import type { ApplyInboundOptions, InboundMessage, InboundResult } from '../inbound/types.js'
import { domainOf } from '../message/build.js'
import type { CampaignProgress, ImportInput, ImportReport, ImportResult } from '../migration/types.js'
import { checkArray, checkDate, checkId, checkObject, checkText } from '../model/checks.js'
import { quote } from '../model/describe.js'
import { INPUT_LIMITS, LATEST_PAUSE_MS } from '../model/limits.js'
import type {
  AddLeadsResult,
  Campaign,
  CampaignInput,
  CampaignStatus,
  CampaignUpdate,
  Lead,
  LeadInput,
  Mailbox,
  MailboxInput,
  QueueStats,
} from '../model/types.js'
import {
  emailKey,
  emailProblem,
  leadEmailOf,
  prepareLead,
  requiredVariables,
  validateCampaign,
  validateMailbox,
} from '../model/validate.js'
import { classifySendError, type SendFailure } from '../policy/classify.js'
import { createKeyCalendars } from '../policy/zones.js'
import type { FailedSend, InboxCursor, NewLead, SendLogEntry } from '../store.js'
import type { TickResult } from './events.js'
import { type Explanation, explainCampaign, explainDayKeys, otherDueMailboxIds } from './explain.js'
import { readLimitFigures } from './explain-limits.js'
import { type Forecast, type ForecastOptions, runForecast } from './forecast/index.js'
import type { ComplaintResult, ComplaintTarget } from './guards.js'
import {
  type CampaignPage,
  type CampaignPageQuery,
  type DaySends,
  listAllMailboxes,
  listCampaignPage,
  listFailures,
  listRecentSends,
  sendsPerLocalDay,
} from './inspect.js'
import { createMigration, type ExternalSendInput } from './migration.js'
import { resolveOptions, type SchedulerOptions } from './options.js'
import { type PreviewLead, type PreviewMessage, type PreviewOptions, previewLead } from './preview.js'
import { keyLeadsByProvider, lookUpCampaignMailboxes } from './providers.js'
import { createTick } from './tick.js'
import { createVariantStats, type StepVariantStats, variantStates } from './variants.js'

export interface Scheduler {
  createMailbox(input: MailboxInput): Promise<Mailbox>
  /**
   * Changes a mailbox's settings (`name`, `dailyEmailLimit`, `timezone`, `skipDates`, `hourlyLimit`,
   * `rampUp`), validated as on creation. A new `rampUp` keeps the warm-up's progress.
   */
  updateMailbox(id: string, patch: Partial<MailboxInput>): Promise<Mailbox>
  /** Stops sending from a mailbox until `until` (default: until `resumeMailbox`). */
  pauseMailbox(id: string, options?: { until?: Date; reason?: string }): Promise<Mailbox>
  /** Sends from the mailbox again; its guards then look only at sends made from now on. */
  resumeMailbox(id: string): Promise<Mailbox>
  /**
   * Connects to the mailbox's server and logs in, without sending, and reports the answer. A
   * failure is classified as a send would be (`action`), and never carries credentials.
   */
  verifyMailbox(id: string): Promise<MailboxCheck>
  createCampaign(input: CampaignInput): Promise<Campaign>
  /** Changes a campaign's settings, validated as a whole as on creation. */
  updateCampaign(id: string, patch: CampaignUpdate): Promise<Campaign>
  getCampaign(id: string): Promise<Campaign>
  /** Adds leads once per campaign; invalid and suppressed addresses are reported, not enqueued. */
  addLeads(campaignId: string, leads: readonly LeadInput[]): Promise<AddLeadsResult>
  /** `DRAFT` (or `COMPLETED`, to send to leads added since) → `IN_PROGRESS`. */
  startCampaign(id: string): Promise<Campaign>
  /** `IN_PROGRESS` → `PAUSED`. Once it returns, no new send of the campaign starts. */
  pauseCampaign(id: string): Promise<Campaign>
  /**
   * `PAUSED` → `IN_PROGRESS`. Pending emails keep their place; nothing is re-sent. Its guards then
   * look only at sends made from now on.
   */
  resumeCampaign(id: string): Promise<Campaign>
  /** → `CANCELLED`; every pending email is cancelled. */
  stopCampaign(id: string): Promise<Campaign>
  /** The lead replied: its sequence stops (pending follow-ups cancelled). */
  markReplied(campaignId: string, email: string): Promise<{ lead: Lead | null; cancelled: number }>
  /** Never mail this address again, in any campaign (unsubscribe, complaint, bounce). */
  suppress(email: string, reason: string): Promise<{ cancelled: number }>
  /**
   * A recipient complained (a feedback loop, a provider's report): the address is suppressed
   * (reason `complaint`). Given the Message-ID of the email complained about (a string `<…>` or
   * `{ messageId }`; the store needs the inbox methods), the complaint also counts for the
   * complaint-rate guard of the mailbox and campaign that sent it, once per email; given an
   * address (a string or `{ email }`), it is suppressed only. `applyInbound` counts the
   * complaints it applies the same way.
   */
  recordComplaint(target: ComplaintTarget): Promise<ComplaintResult>
  /** Sends what is due now. Safe to call from any number of processes at once. */
  tick(): Promise<TickResult>
  /** Why the campaign is or is not sending now, and until when. */
  explain(campaignId: string): Promise<Explanation>
  queueStats(campaignId: string): Promise<QueueStats>
  /** What the campaign sent (in shadow mode: would have sent), in send order, imported history included. */
  sendLog(campaignId: string): Promise<SendLogEntry[]>

  // -- migrating from another sender -----------------------------------------------------------

  /**
   * Reports what `importCampaign(input)` would do, changing nothing: leads to import, due now or
   * later, already here or refused, today's legacy sends it would count, the pacing slot, and
   * every inconsistency between the leads' progress and the send log.
   */
  analyzeImport(input: ImportInput): Promise<ImportReport>
  /**
   * Brings in a campaign running in another system so that nothing it sent is sent again:
   * history is recorded as sent, each lead's next step is queued at its time on the mailbox and
   * in the thread of its earlier emails, today's legacy sends count toward today's limits, and
   * pacing goes on from the last legacy send. Keyed by `externalId`: importing again adds the new
   * leads and moves each known lead forward where the other system is ahead (steps it sent since, a
   * reply), never back, and reports what it changed. The campaign stays `DRAFT` unless `start` is set.
   */
  importCampaign(input: ImportInput): Promise<ImportResult>
  /**
   * Counts sends the other system makes while both run (its send-log rows), so daily limits of
   * shared mailboxes and campaigns hold across both. A send counts once for its mailbox and once
   * for its campaign, by id, whenever each is given (a send recorded before its campaign was
   * imported counts for the campaign at the import). Returns how many counts were new.
   */
  recordExternalSends(sends: readonly ExternalSendInput[]): Promise<{ recorded: number }>
  /**
   * Rollback: where each lead of a paused, stopped or completed campaign stands (last step sent,
   * when, mailbox, Message-ID, thread, next step due), for the legacy system to carry on. Waits for
   * sends in flight to finish first (up to `timeoutMs`, default the lease).
   */
  exportProgress(campaignId: string, options?: { timeoutMs?: number }): Promise<CampaignProgress>

  // -- inspection (dashboards, the CLI); none of it runs on a tick ------------------------------

  /**
   * One page of campaigns in id order, optionally of one `status`: `{ campaigns, next }`, where
   * `next` goes into `after` for the following page (null on the last). `limit` 1 to 500,
   * default 50. Needs the store's `listCampaigns` (every shipped store has it).
   */
  listCampaigns(query?: CampaignPageQuery): Promise<CampaignPage>
  /** Every mailbox, in id order. Needs the store's `listMailboxes` (every shipped store has it). */
  listMailboxes(): Promise<Mailbox[]>
  /**
   * The campaign's failed emails, most recent first, each with its address and the server's
   * answer or the reason in `item.lastError`. `limit` 1 to 1000, default 50.
   */
  failures(campaignId: string, options?: { limit?: number }): Promise<FailedSend[]>
  /** The campaign's last sends, newest first. `limit` 1 to 1000, default 50. */
  recentSends(campaignId: string, options?: { limit?: number }): Promise<SendLogEntry[]>
  /**
   * Sends per day of the campaign's local days (its `timezone`) for the `days` days ending
   * today (1 to 366, default 7), oldest first, with 0 for days without sends.
   */
  sendsPerDay(campaignId: string, options?: { days?: number }): Promise<DaySends[]>

  // -- what comes back from the inbox (@mailcadence/inbox) -------------------------------------

  /**
   * Applies one classified inbound message (`classifyMessage` of `@mailcadence/inbox` gives one;
   * `ingestMessage(scheduler, raw)` does both), at most once per its `messageId`. It is matched to
   * an email we sent by `linkedMessageIds` (the first of them one of our sends carries), then:
   * `reply` stops the lead (`replied`; with the campaign's `stopOnReply: 'domain'` also its active
   * colleagues at a domain that is not free mail, as `completed`); `out-of-office` moves the lead's
   * next email to the window's first opening the day after `returnDate` (in the lead's zone when
   * the campaign sends in its leads' hours), or `outOfOfficeDelay` after now without a date, never
   * earlier than it was, and the sequence goes on; a hard `bounce` marks the lead `bounced` and
   * suppresses the address in every campaign; `complaint` and `unsubscribe` suppress it;
   * `delay`, a soft bounce, `auto-reply` and `unknown` are recorded only. A message linking to
   * nothing of ours is recorded and reported (`matched: false`), not an error; applying the same
   * `messageId` again returns `status: 'duplicate'` and changes nothing. Emits one `inbound` event
   * per action. Once it returns for a reply, no new send to that lead starts.
   */
  applyInbound(message: InboundMessage, options?: ApplyInboundOptions): Promise<InboundResult>
  /** Where an inbox reader stands in a folder of a mailbox (see `InboxCursor`), or null. */
  getInboxCursor(mailboxId: string, folder: string): Promise<InboxCursor | null>
  /** Saves where an inbox reader stands in a folder of a mailbox, validated (`folder` ≤ 255 characters). */
  saveInboxCursor(mailboxId: string, folder: string, cursor: InboxCursor): Promise<void>

  /** Ticks by itself, at each tick's `nextDueAt` and at least every `interval` ms, until `stop()`. */
  start(): void
  /**
   * Stops `start()`'s loop; resolves when the tick in progress has finished, or after `lease` ms
   * at most (by then recovery owns whatever that tick still holds), logging a warning.
   */
  stop(): Promise<void>
  /**
   * Stops, then closes the transport and the store. Ends in bounded time: `stop()`'s bound, then
   * at most 10 s (or `sendTimeout` if shorter) for each close; one that takes longer is left
   * behind with a warning.
   */
  close(): Promise<void>

  // -- forecast --------------------------------------------------------------------------------

  /**
   * When the campaign will be done, and per day what holds it back: runs the real engine over a
   * copy of its state (and of the running campaigns sharing its mailboxes) on a simulated clock,
   * never touching the live store or transport. See `ForecastOptions` and `Forecast`.
   */
  forecast(campaignId: string, options?: ForecastOptions): Promise<Forecast>

  // -- content: variants and preview -----------------------------------------------------------

  /**
   * Per step with variants: each variant's sends, replies, bounces, reply rate and probability of
   * being the best (Beta–Binomial posterior, Monte Carlo from a seeded generator: see
   * policy/winner.ts), the step's `autoWinner` rule and its `winner`. Also runs the `autoWinner`
   * check, so a winner whose rule is met is decided (and announced) by this call at the latest.
   */
  variantStats(campaignId: string): Promise<StepVariantStats[]>
  /**
   * The messages a lead gets, step by step (or only `step`), built exactly as the send builds them
   * (variant, spintax, variables, headers, thread), without reserving anything; works in `DRAFT`.
   */
  preview(campaignId: string, lead: PreviewLead, options?: PreviewOptions): Promise<PreviewMessage[]>
}

export type MailboxCheck =
  | { ok: true; response: string }
  | { ok: false; error: string; action: SendFailure['action'] }

/** Longest wait for `transport.close()` and for `store.close()` in `close()`. */
const CLOSE_TIMEOUT_MS = 10_000

export function createScheduler(options: SchedulerOptions): Scheduler {
  const resolved = resolveOptions(options)
  const { store, clock, logger } = resolved
  // One set of key calendars (window specs, holiday years cached) for the tick and explain().
  const calendars = createKeyCalendars(resolved.holidays)
  const variants = createVariantStats(resolved)
  const runTick = createTick(resolved, calendars, variants.checkWinners)
  const inbound = createInbound(resolved, calendars)
  let closed = false
  let loop: { stopped: boolean; current: Promise<unknown>; wake: () => void } | null = null

  const ensureOpen = () => {
    if (closed) throw new MailcadenceError('closed', 'the scheduler is closed')
  }
  const campaignOrThrow = async (id: string) => {
    checkId('campaignId', id)
    const campaign = await store.getCampaign(id)
    if (!campaign)
      throw new MailcadenceError('not-found', `campaignId: no campaign with id ${quote(id)}`, {
        field: 'campaignId',
      })
    return campaign
  }
  const mailboxOrThrow = async (id: string) => {
    checkId('mailboxId', id)
    const [mailbox] = await store.getMailboxes([id])
    if (!mailbox)
      throw new MailcadenceError('not-found', `mailboxId: no mailbox with id ${quote(id)}`, {
        field: 'mailboxId',
      })
    return mailbox
  }
  const checkMailboxesExist = async (ids: readonly string[], field = 'mailboxIds') => {
    const found = new Set((await store.getMailboxes(ids)).map((m) => m.id))
    ids.forEach((id, i) => {
      if (!found.has(id)) throw invalidInput(`${field}[${i}]`, `no mailbox with id ${quote(id)}`)
    })
  }
  /**
   * Leads are added after the campaign's status was read, in another store call: a stop landing in
   * between would leave them pending in a cancelled campaign, never sent and exported as due. So
   * after adding, a campaign found stopped has its pending items cancelled, as the stop would have.
   */
  const cancelIfStopped = async (campaignId: string) => {
    if ((await store.getCampaign(campaignId))?.status !== 'CANCELLED') return
    const change = { from: ['CANCELLED'], to: 'CANCELLED', cancelPending: 'campaign stopped' } as const
    await store.setCampaignStatus(campaignId, change, clock.now())
  }
  // Provider matching: the campaign's mailboxes not looked up yet (scheduler/providers.ts).
  const providerDeps = { store, resolver: resolved.providers, now: () => clock.now(), logger }
  const migration = createMigration(resolved, { campaignOrThrow, checkMailboxesExist, cancelIfStopped })
  const transition = async (
    id: string,
    from: CampaignStatus[],
    to: CampaignStatus,
    cancelPending?: string,
  ) => {
    ensureOpen()
    checkId('campaignId', id)
    const result = await store.setCampaignStatus(
      id,
      { from, to, ...(cancelPending ? { cancelPending } : {}) },
      clock.now(),
    )
    if (!result)
      throw new MailcadenceError('not-found', `campaignId: no campaign with id ${quote(id)}`, {
        field: 'campaignId',
      })
    if (!result.changed && result.campaign.status !== to) {
      throw new MailcadenceError(
        'invalid-state',
        `campaign ${id} is ${result.campaign.status}; cannot move it to ${to}`,
      )
    }
    logger.info({ campaignId: id, status: to }, 'campaign status')
    return result.campaign
  }

  /**
   * Waits for `work` at most `ms` (a real timer that does not keep the process alive; Node timers
   * take at most 2^31 − 1 ms), then goes on.
   */
  const waitAtMost = (work: Promise<unknown> | undefined, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (!work) return resolve()
      const timer = setTimeout(
        () => {
          logger.warn({ timeoutMs: ms }, `${what} did not finish within ${ms} ms: not waiting for it`)
          resolve()
        },
        Math.min(ms, 2_147_483_647),
      )
      timer.unref?.()
      work.then(
        () => {
          clearTimeout(timer)
          resolve()
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })

  const scheduler: Scheduler = {
    async createMailbox(input) {
      ensureOpen()
      return store.createMailbox(validateMailbox(input), clock.now())
    },
    async updateMailbox(id, patch) {
      ensureOpen()
      checkObject('patch', patch)
      const current = await mailboxOrThrow(id)
      const next = validateMailbox({ ...current, ...patch })
      // Another domain may have another provider: looked up again by the next matching campaign.
      const provider = domainOf(next.email) === domainOf(current.email) ? {} : { provider: null }
      return (await store.updateMailbox(id, { ...next, ...provider }, clock.now())) ?? mailboxOrThrow(id)
    },
    async pauseMailbox(id, opts = {}) {
      ensureOpen()
      checkId('mailboxId', id)
      checkObject('options', opts)
      // "Until resumed": the latest instant every supported database can store.
      const until =
        opts.until === undefined ? new Date(LATEST_PAUSE_MS) : checkDate('until', opts.until, LATEST_PAUSE_MS)
      const reason =
        opts.reason === undefined
          ? 'paused by host'
          : checkText('reason', opts.reason, INPUT_LIMITS.reasonLength)
      const mailbox = await store.updateMailbox(id, { pausedUntil: until, pauseReason: reason }, clock.now())
      return mailbox ?? mailboxOrThrow(id)
    },
    async resumeMailbox(id) {
      ensureOpen()
      checkId('mailboxId', id)
      await mailboxOrThrow(id)
      // Before the mailbox sends again: its guards start over from now.
      await resolved.guards.resumed('mailbox', id)
      const mailbox = await store.updateMailbox(id, { pausedUntil: null, pauseReason: null }, clock.now())
      return mailbox ?? mailboxOrThrow(id)
    },
    async verifyMailbox(id) {
      ensureOpen()
      const mailbox = await mailboxOrThrow(id)
      const verify = resolved.transport.verify
      if (!verify)
        throw new MailcadenceError(
          'invalid-state',
          'the transport cannot verify mailboxes (it has no verify method)',
        )
      try {
        const result = await verify.call(resolved.transport, mailbox)
        return { ok: true, response: result.response ?? 'ok' }
      } catch (error) {
        const failure = classifySendError(error)
        return { ok: false, error: failure.detail, action: failure.action }
      }
    },
    async createCampaign(input) {
      ensureOpen()
      const campaign = validateCampaign(input)
      await checkMailboxesExist(campaign.mailboxIds)
      const created = await store.createCampaign(campaign, clock.now())
      await lookUpCampaignMailboxes(providerDeps, created)
      return created
    },
    async updateCampaign(id, patch) {
      ensureOpen()
      checkObject('patch', patch)
      const current = await campaignOrThrow(id)
      const next = validateCampaign({ ...current, ...patch, ...keptWinners(current, patch) })
      await checkMailboxesExist(next.mailboxIds)
      const updated = (await store.updateCampaign(id, next, clock.now())) ?? (await campaignOrThrow(id))
      await lookUpCampaignMailboxes(providerDeps, updated)
      return updated
    },
    getCampaign: (id) => campaignOrThrow(id),
    async addLeads(campaignId, leads) {
      ensureOpen()
      checkArray('leads', leads, INPUT_LIMITS.leadsPerCall)
      const campaign = await campaignOrThrow(campaignId)
      if (campaign.status === 'CANCELLED')
        throw new MailcadenceError('invalid-state', `campaign ${campaignId} is CANCELLED`)
      const required = requiredVariables(campaign)
      const invalid: AddLeadsResult['invalid'] = []
      const valid: NewLead[] = []
      for (const input of leads) {
        const lead = prepareLead(input, required)
        if ('reason' in lead) invalid.push({ email: leadEmailOf(input), reason: lead.reason })
        else valid.push(lead)
      }
      await keyLeadsByProvider(resolved.providers, campaign, valid)
      const outcome = await store.addLeads(campaignId, valid, clock.now())
      if (outcome.added.length > 0) await cancelIfStopped(campaignId)
      for (const key of outcome.suppressed) {
        invalid.push({ email: valid.find((l) => l.emailKey === key)?.email ?? key, reason: 'suppressed' })
      }
      return { added: outcome.added.length, duplicates: outcome.duplicates, invalid }
    },
    startCampaign: (id) => transition(id, ['DRAFT', 'COMPLETED'], 'IN_PROGRESS'),
    pauseCampaign: (id) => transition(id, ['IN_PROGRESS'], 'PAUSED'),
    async resumeCampaign(id) {
      ensureOpen()
      const campaign = await campaignOrThrow(id)
      // Before it sends again: its guards start over from now (a campaign not paused stays as it is).
      if (campaign.status === 'PAUSED') await resolved.guards.resumed('campaign', id)
      return transition(id, ['PAUSED'], 'IN_PROGRESS')
    },
    stopCampaign: (id) =>
      transition(id, ['DRAFT', 'IN_PROGRESS', 'PAUSED', 'COMPLETED'], 'CANCELLED', 'campaign stopped'),
    async markReplied(campaignId, email) {
      ensureOpen()
      const problem = emailProblem(email)
      if (problem) throw invalidInput('email', problem)
      await campaignOrThrow(campaignId)
      const result = await store.stopLead(campaignId, emailKey(email), 'replied', 'lead replied', clock.now())
      return result ?? { lead: null, cancelled: 0 }
    },
    async suppress(email, reason) {
      ensureOpen()
      const problem = emailProblem(email)
      if (problem) throw invalidInput('email', problem)
      checkText('reason', reason, INPUT_LIMITS.reasonLength, { nonEmpty: true })
      return store.suppress(emailKey(email), reason, clock.now())
    },
    async recordComplaint(target) {
      ensureOpen()
      return resolved.guards.recordComplaint(target)
    },
    async tick() {
      ensureOpen()
      return runTick()
    },
    async explain(campaignId) {
      const campaign = await campaignOrThrow(campaignId)
      const now = clock.now()
      const mailboxes = await store.getMailboxes(campaign.mailboxIds)
      const dayKeys = explainDayKeys(campaign, mailboxes, now)
      const [queue, counts, due, keys] = await Promise.all([
        store.queueStats(campaignId),
        store.dayCounts(dayKeys),
        store.countDueByMailbox(campaignId, now),
        calendars.isKeyed(campaign) ? store.listWindowKeys(campaignId) : undefined,
      ])
      const others = otherDueMailboxIds(campaign, due)
      const otherMailboxes = others.length > 0 ? await store.getMailboxes(others) : []
      const limits = await readLimitFigures(store, campaign, mailboxes, dayKeys.campaignDayKey, now)
      const guardTrip = campaign.status === 'PAUSED' ? await resolved.guards.campaignTrip(campaignId) : null
      const explanation = explainCampaign({
        limits,
        campaign,
        mailboxes,
        queue,
        counts,
        due,
        otherMailboxes,
        now,
        calendars,
        ...(keys ? { keys } : {}),
        ...(guardTrip ? { guardTrip } : {}),
      })
      const tests = variantStates(campaign)
      return tests.length > 0 ? { ...explanation, variants: tests } : explanation
    },
    async queueStats(campaignId) {
      await campaignOrThrow(campaignId)
      return store.queueStats(campaignId)
    },
    async sendLog(campaignId) {
      await campaignOrThrow(campaignId)
      return store.listSendLog(campaignId)
    },
    async analyzeImport(input) {
      ensureOpen()
      return migration.analyzeImport(input)
    },
    async importCampaign(input) {
      ensureOpen()
      return migration.importCampaign(input)
    },
    async recordExternalSends(sends) {
      ensureOpen()
      return migration.recordExternalSends(sends)
    },
    async exportProgress(campaignId, opts) {
      ensureOpen()
      return migration.exportProgress(campaignId, opts)
    },
    async applyInbound(message, opts) {
      ensureOpen()
      return inbound.applyInbound(message, opts)
    },
    async getInboxCursor(mailboxId, folder) {
      ensureOpen()
      return inbound.getInboxCursor(mailboxId, folder)
    },
    async saveInboxCursor(mailboxId, folder, cursor) {
      ensureOpen()
      return inbound.saveInboxCursor(mailboxId, folder, cursor)
    },
    listCampaigns: (query) => listCampaignPage(store, query),
    listMailboxes: () => listAllMailboxes(store),
    async failures(campaignId, opts) {
      await campaignOrThrow(campaignId)
      return listFailures(store, campaignId, opts)
    },
    async recentSends(campaignId, opts) {
      await campaignOrThrow(campaignId)
      return listRecentSends(store, campaignId, opts)
    },
    async sendsPerDay(campaignId, opts) {
      return sendsPerLocalDay(store, await campaignOrThrow(campaignId), clock.now(), opts)
    },
    start() {
      ensureOpen()
      if (loop && !loop.stopped) return
      const state = { stopped: false, current: Promise.resolve() as Promise<unknown>, wake: () => {} }
      loop = state
      const run = async () => {
        while (!state.stopped) {
          let waitMs = resolved.interval
          try {
            const result = await runTick()
            if (result.nextDueAt) {
              waitMs = Math.min(waitMs, Math.max(0, result.nextDueAt.getTime() - clock.now().getTime()))
            }
          } catch (error) {
            logger.error({ err: error }, 'tick failed; retrying at the next interval')
          }
          if (state.stopped) break
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, waitMs)
            state.wake = () => {
              clearTimeout(timer)
              resolve()
            }
          })
        }
      }
      state.current = run()
    },
    async stop() {
      if (!loop) return
      const state = loop
      state.stopped = true
      state.wake()
      // A tick stuck in a call that never returns (a store query) must not hold stop() forever.
      await waitAtMost(state.current, resolved.lease, 'the tick in progress')
    },
    async variantStats(campaignId) {
      ensureOpen()
      return (await variants.statsAndDecide(await campaignOrThrow(campaignId))).stats
    },
    async preview(campaignId, lead, opts) {
      ensureOpen()
      return previewLead(resolved, await campaignOrThrow(campaignId), lead, opts)
    },
    async close() {
      if (closed) return
      await scheduler.stop()
      closed = true
      // Closing connections takes far less than a send; a close that does not end is hung.
      const closeTimeout = Math.min(resolved.sendTimeout, CLOSE_TIMEOUT_MS)
      await waitAtMost(resolved.transport.close?.(), closeTimeout, 'transport.close()')
      await waitAtMost(store.close(), closeTimeout, 'store.close()')
    },
    async forecast(campaignId, opts) {
      ensureOpen()
      return runForecast({ options: resolved, calendars }, await campaignOrThrow(campaignId), opts)
    },
  }
  return scheduler
}

/**
 * New steps keep the winners decided on the current ones (so a decision never flips back): a step
 * given without `winner` keeps its current one if the new step still has that variant. `winner:
 * null` clears it (a new test).
 */
function keptWinners(current: Campaign, patch: CampaignUpdate): { steps?: CampaignUpdate['steps'] } {
  if (!Array.isArray(patch.steps)) return {}
  return {
    steps: patch.steps.map((step, i) => {
      const winner = current.steps[i]?.winner
      if (typeof step !== 'object' || step === null || step.winner !== undefined || !winner) return step
      return step.variants?.some((v) => v?.id === winner) ? { ...step, winner } : step
    }),
  }
}
