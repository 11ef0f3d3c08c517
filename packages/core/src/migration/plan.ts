/**
 * The pure half of an import: from a campaign in progress elsewhere and what this store already
 * holds, work out each lead's history and next step, today's sends to count, the pacing slot, and
 * every inconsistency found (the seed's `analyzeCampaignState` and `fixCampaignStatuses`). No I/O:
 * `now` and `random` come in, so `analyzeImport` and `importCampaign` share it and tests drive it.
 *
 * Where the lead's progress and the send log disagree, whatever says "sent" wins: a step either
 * says was sent is never sent again.
 */
import { invalidInput } from '../errors.js'
import { headerSafe, stepSubject } from '../message/build.js'
import type { LeadStatus, Mailbox, Step } from '../model/types.js'
import {
  emailKey,
  emailProblem,
  leadEmailOf,
  leadValues,
  prepareLead,
  requiredVariables,
} from '../model/validate.js'
import { dayKey, windowDayKey } from '../policy/calendar.js'
import { nextSlot } from '../policy/pacing.js'
import { nextStepAfter } from '../policy/sequence.js'
import type { ImportedLead, NewCampaign, NewLead } from '../store.js'
import type {
  AdvancedLead,
  ImportInput,
  ImportIssue,
  ImportLeadInput,
  ImportReport,
  LegacySend,
} from './types.js'

/** A send of the other system to count here; the store's `ExternalSend` once the campaign exists. */
export interface PlannedSend {
  key: string
  mailbox?: { id: string; dayKey: string }
  campaign?: { dayKey: string; nextSlotAt: Date | null }
}

export interface ImportPlan {
  leads: ImportedLead[]
  sends: PlannedSend[]
  report: Omit<ImportReport, 'campaignId'>
}

/** A lead already in the campaign here, as a re-import compares it with the other system's. */
export interface ExistingLead {
  status: LeadStatus
  /** The highest step sent here (its send log), or null. */
  lastSentStep: number | null
}

export interface PlanContext {
  /** The validated campaign settings. */
  campaign: NewCampaign
  /** The campaign's mailboxes. */
  mailboxes: readonly Mailbox[]
  /** Leads already in the campaign here, by `emailKey`: where each stands. */
  existing: ReadonlyMap<string, ExistingLead>
  now: Date
  random: () => number
}

export function planImport(input: ImportInput, ctx: PlanContext): ImportPlan {
  const { campaign, now } = ctx
  checkSendLog(input.sendLog ?? [])
  const issues: ImportIssue[] = []
  const byAddress = new Map(ctx.mailboxes.map((m) => [emailKey(m.email), m]))
  const log = rowsByAddress(input.sendLog ?? [])
  const leadKeys = new Set<string>()
  const required = requiredVariables(campaign)
  const leads: ImportedLead[] = []
  const report: ImportPlan['report'] = {
    externalId: input.externalId,
    leads: {
      total: input.leads.length,
      imported: 0,
      existing: 0,
      advanced: 0,
      refused: 0,
      due: 0,
      waiting: 0,
      finished: 0,
    },
    counted: { campaign: 0, mailboxes: {} },
    nextSlotAt: null,
    advanced: [],
    issues,
  }

  for (const [index, leadInput] of input.leads.entries()) {
    const prepared = prepareLead(leadInput, required)
    const email = leadEmailOf(leadInput)
    if ('reason' in prepared) {
      refuse({ code: 'invalid-lead', message: `leads[${index}]: ${prepared.reason}`, email })
      continue
    }
    const key = prepared.emailKey
    if (leadKeys.has(key)) {
      refuse({ code: 'duplicate-lead', message: `leads[${index}]: ${email} appears more than once`, email })
      continue
    }
    leadKeys.add(key)
    const here = ctx.existing.get(key)
    if (here !== undefined) {
      const mark = issues.length
      const planned = planLead(leadInput, index, prepared, log.get(key) ?? [])
      const advance = planned && planAdvance(planned, here)
      if (advance) {
        // Warnings about steps already sent here say nothing about this import.
        const hereLast = here.lastSentStep ?? -1
        const raised = issues.splice(mark)
        issues.push(...raised.filter((i) => i.severity === 'error' || (i.step ?? hereLast + 1) > hereLast))
        leads.push(advance)
        report.leads.advanced += 1
        report.advanced.push(advancedEntry(advance, here))
      } else {
        // Warnings about a lead left as it is say nothing about this import; errors stay.
        if (planned !== null) issues.length = mark
        report.leads.existing += 1
      }
      continue
    }
    const planned = planLead(leadInput, index, prepared, log.get(key) ?? [])
    if (planned === null) {
      report.leads.refused += 1
      continue
    }
    leads.push(planned)
    report.leads.imported += 1
    if (planned.next === null) report.leads.finished += 1
    else if (planned.next.scheduledAt <= now) report.leads.due += 1
    else report.leads.waiting += 1
  }

  for (const [key, rows] of log) {
    if (leadKeys.has(key)) continue
    for (const row of rows) {
      issues.push({
        code: 'log-without-lead',
        severity: 'warning',
        message: `send log row ${row.id}: ${row.to} is not among the leads (counted toward today's limits only)`,
        email: row.to,
        logId: row.id,
      })
    }
  }

  const sends = planTodaysSends(input, ctx, report)
  return { leads, sends, report }

  function refuse(issue: Omit<ImportIssue, 'severity'>): void {
    issues.push({ ...issue, severity: 'error' })
    report.leads.refused += 1
  }

  /** A lead's history and next step, or null (after an error issue) when it cannot be imported. */
  function planLead(
    leadInput: ImportLeadInput,
    index: number,
    lead: NewLead,
    rows: readonly LegacySend[],
  ): ImportedLead | null {
    const email = lead.email
    const at = `leads[${index}].progress`
    const steps: readonly Step[] = campaign.steps
    const progress = leadInput.progress
    if (progress !== undefined) {
      const problem = progressProblem(progress, steps.length)
      if (problem) {
        issues.push({ code: problem.code, severity: 'error', message: `${at}.${problem.message}`, email })
        return null
      }
    }
    const status = leadInput.status ?? 'active'
    // Step s of the log: the row that says so, or the s-th row in time order.
    const rowOfStep = new Map<number, LegacySend>()
    for (const [i, row] of rows.entries()) rowOfStep.set(row.step ?? i, row)
    const loggedStep = rowOfStep.size === 0 ? -1 : Math.max(...rowOfStep.keys())
    const progressStep = progress?.step ?? -1
    if (loggedStep >= steps.length) {
      issues.push({
        code: 'step-out-of-range',
        severity: 'error',
        message: `${email}: the send log has ${loggedStep + 1} sends but the campaign has ${steps.length} steps`,
        email,
        step: loggedStep,
      })
      return null
    }
    // Warnings are reported only for leads that end up imported.
    const warnings: ImportIssue[] = []
    if (loggedStep > progressStep) {
      warnings.push({
        code: 'log-ahead-of-progress',
        severity: 'warning',
        message: `${email}: the send log shows step ${loggedStep} sent, the lead's progress ${progressStep < 0 ? 'none' : `step ${progressStep}`}; taken as sent`,
        email,
        step: loggedStep,
      })
    }
    const lastStep = Math.max(loggedStep, progressStep)
    for (let step = 0; step <= progressStep; step++) {
      if (rowOfStep.has(step)) continue
      warnings.push({
        code: 'progress-without-log',
        severity: 'warning',
        message: `${email}: step ${step} is marked sent but the send log has no row for it; taken as sent`,
        email,
        step,
      })
    }

    // The mailbox of the thread: the progress's, else the last logged row's that names one.
    const lastRowWithMailbox = [...rowOfStep.entries()]
      .filter(([, row]) => row.mailbox !== undefined)
      .sort(([a], [b]) => b - a)[0]?.[1]
    const mailboxAddress = progress?.mailbox ?? lastRowWithMailbox?.mailbox
    const mailbox = mailboxAddress === undefined ? undefined : byAddress.get(emailKey(mailboxAddress))
    if (lastStep >= 0 && mailbox === undefined) {
      issues.push({
        code: 'unknown-mailbox',
        severity: 'error',
        message:
          mailboxAddress === undefined
            ? `${email}: step ${lastStep} was sent but neither the progress nor the send log says from which mailbox`
            : `${email}: mailbox ${mailboxAddress} is not one of the campaign's, so the thread cannot go on`,
        email,
        ...(mailboxAddress === undefined ? {} : { mailbox: mailboxAddress }),
      })
      return null
    }

    const thread = progress?.step === lastStep ? threadOf(progress) : []
    const values = leadValues(lead)
    const threadSubject = progress?.threadSubject ?? rowOfStep.get(0)?.subject ?? null
    const history: ImportedLead['history'][number][] = []
    for (let step = 0; step <= lastStep; step++) {
      const row = rowOfStep.get(step)
      const fromProgress = progress?.step === step ? progress : undefined
      const sentAt = fromProgress?.sentAt ?? row?.sentAt ?? progress?.sentAt ?? now
      // A step's own Message-ID when known: the progress's, or the thread's entry for it.
      const offset = thread.length - 1 - (lastStep - step)
      const messageId =
        fromProgress?.messageId ??
        (offset >= 0 ? thread[offset] : undefined) ??
        `<imported.${step}.${encodeURIComponent(lead.emailKey)}.${encodeURIComponent(input.externalId)}@mailcadence.invalid>`
      const subject = headerSafe(row?.subject ?? stepSubject(steps, values, step, threadSubject))
      history.push({ step, sentAt, mailboxId: mailbox!.id, messageId, subject })
    }

    const last = history[history.length - 1]
    let next: ImportedLead['next'] = null
    if (status === 'active' && lastStep + 1 < steps.length) {
      next = {
        step: lastStep + 1,
        scheduledAt: last ? (nextStepAfter(steps, lastStep, last.sentAt)?.scheduledAt ?? now) : now,
        mailboxId: last ? mailbox!.id : null,
        references: last ? (thread.length > 0 ? thread : history.map((h) => h.messageId)) : [],
        threadSubject: last ? threadSubject : null,
      }
    }
    issues.push(...warnings)
    return {
      ...lead,
      status: status === 'active' && next === null && lastStep >= 0 ? 'completed' : status,
      history,
      next,
    }
  }
}

/**
 * Today's sends of the other system to count here, so limits hold across both on the day of the
 * switch. Each of this campaign's rows of today takes its mailbox's count and the campaign's,
 * keyed by its id (see `legacySendParts`: a row recorded live during parallel running is not
 * counted again); the last row also carries the pacing slot after it. What `sentToday` says a
 * mailbox sent beyond the log's rows (other campaigns) is counted as its n-th legacy send of the
 * day, so a second import counts only what is new. Rows of other campaigns in that remainder are
 * counted again if they are later recorded or imported by id the same day: an error on the safe
 * side, never past a limit (hence: `sentToday` on the first switch, before live recording).
 */
function planTodaysSends(input: ImportInput, ctx: PlanContext, report: ImportPlan['report']): PlannedSend[] {
  const { campaign, now } = ctx
  const sends: PlannedSend[] = []
  const campaignDay = (at: Date) => windowDayKey(campaign, at) ?? dayKey(at, campaign.timezone)
  const today = campaignDay(now)
  const mailboxes = new Map(ctx.mailboxes.map((m) => [emailKey(m.email), m]))
  const mailboxToday = new Map(ctx.mailboxes.map((m) => [m.id, dayKey(now, m.timezone)]))
  const logged = new Map<string, number>()
  const rows = [...(input.sendLog ?? [])].sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime())
  const last = rows[rows.length - 1]
  const nextSlotAt = last
    ? nextSlot(last.sentAt, campaign.delayBetweenEmails, campaign.jitter, ctx.random)
    : null
  report.nextSlotAt = nextSlotAt && nextSlotAt > now ? nextSlotAt : null

  for (const row of rows) {
    const mailbox = row.mailbox === undefined ? undefined : mailboxes.get(emailKey(row.mailbox))
    const mailboxDay = mailbox ? dayKey(row.sentAt, mailbox.timezone) : undefined
    const countsForMailbox =
      mailbox && mailboxDay !== undefined && mailboxDay === mailboxToday.get(mailbox.id)
    if (countsForMailbox) logged.set(mailbox.id, (logged.get(mailbox.id) ?? 0) + 1)
    const day = campaignDay(row.sentAt)
    // The last row carries the pacing slot even from an earlier day (a store ignores old counts).
    const countsForCampaign = day === today || row === last
    if (day === today) report.counted.campaign += 1
    sends.push(
      ...legacySendParts(
        row.id,
        countsForMailbox ? { id: mailbox.id, dayKey: mailboxDay } : undefined,
        countsForCampaign ? { dayKey: day, nextSlotAt: row === last ? nextSlotAt : null } : undefined,
      ),
    )
  }
  if (report.counted.campaign > campaign.maxEmailsPerDay) {
    report.issues.push({
      code: 'campaign-over-limit',
      severity: 'warning',
      message: `the campaign sent ${report.counted.campaign} emails today, over its maxEmailsPerDay of ${campaign.maxEmailsPerDay}: it sends nothing more today`,
    })
  }

  for (const mailbox of ctx.mailboxes) {
    const day = mailboxToday.get(mailbox.id)!
    const fromLog = logged.get(mailbox.id) ?? 0
    const address = emailKey(mailbox.email)
    const reported = Object.entries(input.sentToday ?? {}).find(([a]) => emailKey(a) === address)?.[1] ?? 0
    // Counts past the daily limit change nothing (the mailbox is full either way): a row for each
    // of them would only make a huge reported count expensive to record.
    for (let i = 0; i < Math.min(reported, mailbox.dailyEmailLimit) - fromLog; i++) {
      sends.push({
        key: `legacy-mailbox-day:${mailbox.id}:${day}:${i}`,
        mailbox: { id: mailbox.id, dayKey: day },
      })
    }
    const count = Math.max(fromLog, reported)
    if (count === 0) continue
    report.counted.mailboxes[mailbox.email] = count
    if (count > mailbox.dailyEmailLimit) {
      report.issues.push({
        code: 'mailbox-over-limit',
        severity: 'warning',
        message: `mailbox ${mailbox.email} sent ${count} emails today, over its dailyEmailLimit of ${mailbox.dailyEmailLimit}: it sends nothing more today`,
        mailbox: mailbox.email,
      })
    }
  }
  return sends
}

/**
 * One of the other system's sends as the store counts it: its mailbox part and its campaign part,
 * each under a key of its own made from the send's id (the same for imports and live recording).
 * Apart, a send first recorded for its mailbox alone (its campaign not imported yet) still counts
 * for its campaign when the campaign comes in, and never twice for either.
 */
export function legacySendParts<C extends object>(
  id: string,
  mailbox: { id: string; dayKey: string } | undefined,
  campaign: C | undefined,
): Array<{ key: string; mailbox?: { id: string; dayKey: string }; campaign?: C }> {
  return [
    ...(mailbox ? [{ key: `legacy-mailbox:${id}`, mailbox }] : []),
    ...(campaign ? [{ key: `legacy-campaign:${id}`, campaign }] : []),
  ]
}

/** The thread's Message-IDs, oldest first, always ending with the progress's own. */
function threadOf(progress: NonNullable<ImportLeadInput['progress']>): string[] {
  const thread = [...(progress.thread ?? [])]
  if (thread[thread.length - 1] !== progress.messageId) thread.push(progress.messageId)
  return thread
}

/** Malformed rows are a mistake in the caller's mapping, not a state to report: refused at once. */
function checkSendLog(rows: readonly LegacySend[]): void {
  if (!Array.isArray(rows)) throw invalidInput('sendLog', 'must be an array')
  rows.forEach((row, i) => {
    if (typeof row?.id !== 'string' || row.id === '')
      throw invalidInput(`sendLog[${i}].id`, 'must be a non-empty string')
    const problem = emailProblem(row.to)
    if (problem) throw invalidInput(`sendLog[${i}].to`, problem)
    if (!(row.sentAt instanceof Date) || Number.isNaN(row.sentAt.getTime()))
      throw invalidInput(`sendLog[${i}].sentAt`, 'must be a valid Date')
    if (row.step !== undefined && (!Number.isInteger(row.step) || row.step < 0))
      throw invalidInput(`sendLog[${i}].step`, 'must be an integer >= 0')
  })
}

/** The log's rows by recipient (`emailKey`), each list oldest first. */
export function rowsByAddress(rows: readonly LegacySend[]): Map<string, LegacySend[]> {
  const byLead = new Map<string, LegacySend[]>()
  for (const row of rows) {
    const key = emailKey(row.to)
    const list = byLead.get(key)
    if (list) list.push(row)
    else byLead.set(key, [row])
  }
  for (const list of byLead.values()) list.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime())
  return byLead
}

function progressProblem(
  progress: NonNullable<ImportLeadInput['progress']>,
  stepCount: number,
): { code: 'step-out-of-range' | 'invalid-lead'; message: string } | null {
  if (!Number.isInteger(progress.step) || progress.step < 0 || progress.step >= stepCount) {
    return {
      code: 'step-out-of-range',
      message: `step: must be an integer from 0 to ${stepCount - 1} (the campaign has ${stepCount} steps), got ${progress.step}`,
    }
  }
  if (!(progress.sentAt instanceof Date) || Number.isNaN(progress.sentAt.getTime())) {
    return { code: 'invalid-lead', message: 'sentAt: must be a valid Date' }
  }
  for (const [field, value] of [
    ['messageId', progress.messageId],
    ...(progress.thread ?? []).map((v, i) => [`thread[${i}]`, v]),
  ] as const) {
    if (typeof value !== 'string' || !/^<[^<>\s]+>$/.test(value)) {
      return {
        code: 'invalid-lead',
        message: `${field}: must be a Message-ID like <id@host>, got ${JSON.stringify(value)}`,
      }
    }
  }
  if (typeof progress.mailbox !== 'string')
    return { code: 'invalid-lead', message: 'mailbox: must be an address' }
  return null
}

/**
 * The move forward of a lead already here, when the other system is ahead of it (a re-import after
 * a rollback): it stopped the lead (replied, bounced, suppressed…) or sent steps this store has
 * not. Never back: a lead here that stopped, or got further, is left as it is (null). The entry
 * carries only the steps to add, and the step core read as last sent, for the store's
 * compare-and-set.
 */
export function planAdvance(theirs: ImportedLead, here: ExistingLead): ImportedLead | null {
  if (here.status !== 'active') return null
  const hereLast = here.lastSentStep ?? -1
  const history = theirs.history.filter((h) => h.step > hereLast)
  // Replied, bounced, suppressed (unsubscribed), failed: nothing more is sent to it.
  const stopped = theirs.status !== 'active' && theirs.status !== 'completed'
  if (history.length === 0 && !stopped) return null
  return {
    ...theirs,
    history,
    // Not ahead in steps but stopped there: the sequence ends, whatever the other system planned.
    next: history.length === 0 ? null : theirs.next,
    advance: { lastSentStep: here.lastSentStep },
  }
}

function advancedEntry(lead: ImportedLead, here: ExistingLead): AdvancedLead {
  return {
    email: lead.email,
    from: { status: here.status, lastSentStep: here.lastSentStep },
    status: lead.status,
    sentSteps: lead.history.map((h) => h.step),
    next: lead.next === null ? null : { step: lead.next.step, dueAt: lead.next.scheduledAt },
  }
}
