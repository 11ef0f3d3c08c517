/**
 * Shadow mode's verdict: what the legacy sender did against what mailcadence, running the same
 * campaign in shadow, would have done. Pure: both sides come in as lists of sends.
 */
import type { Campaign, Mailbox } from '../model/types.js'
import { emailKey } from '../model/validate.js'
import { dayKey, windowDayKey } from '../policy/calendar.js'
import { gapRange } from '../policy/pacing.js'
import type { SendLogEntry } from '../store.js'
import { rowsByAddress } from './plan.js'
import type { LegacySend } from './types.js'

export interface CompareInput {
  /** The campaign as the shadow scheduler has it: window, pace and daily cap. */
  campaign: Pick<
    Campaign,
    | 'timezone'
    | 'startHour'
    | 'startMinute'
    | 'endHour'
    | 'endMinute'
    | 'allowedDays'
    | 'delayBetweenEmails'
    | 'jitter'
    | 'maxEmailsPerDay'
  >
  /** The campaign's mailboxes (limits and time zones). */
  mailboxes: ReadonlyArray<Pick<Mailbox, 'id' | 'email' | 'dailyEmailLimit' | 'timezone'>>
  /** The shadow scheduler's send log for the campaign: `shadow.sendLog(campaignId)`. */
  planned: readonly SendLogEntry[]
  /** The legacy system's send log for the campaign, all of it (a lead's rows give its steps in order). */
  legacy: readonly LegacySend[]
  /**
   * When the shadow run began (its import). Planned sends before it are imported history; legacy
   * sends before it were done already, so planning them again would mail someone twice.
   */
  since: Date
  /** End of the side-by-side run: sends after it are left out. Default: no end. */
  until?: Date
}

/** One (lead, step): when legacy sent it and when mailcadence would have. */
export interface ComparisonRow {
  email: string
  step: number
  legacyAt: Date | null
  plannedAt: Date | null
  /** `plannedAt − legacyAt` in ms when both sent it. */
  differenceMs: number | null
}

export type DiscrepancyKind =
  /** mailcadence would mail a (lead, step) legacy had already mailed, or legacy mailed one twice. */
  | 'duplicate'
  /** Legacy mailed a (lead, step) in the period that mailcadence would not have. */
  | 'skipped'
  /** mailcadence would have mailed a (lead, step) legacy did not. */
  | 'extra'
  | 'outside-window'
  | 'over-mailbox-limit'
  | 'over-campaign-limit'
  /** Two planned sends closer than `delayBetweenEmails × (1 − jitter)`. */
  | 'too-close'

export interface Discrepancy {
  kind: DiscrepancyKind
  /** Which side did it. */
  source: 'planned' | 'legacy'
  message: string
  email?: string
  step?: number
  at?: Date
}

export interface Comparison {
  rows: ComparisonRow[]
  discrepancies: Discrepancy[]
  summary: {
    /** (lead, step) pairs either side sent in the period. */
    compared: number
    /** Sent by both. */
    both: number
    legacyOnly: number
    plannedOnly: number
    /** Median and largest |plannedAt − legacyAt| over the pairs both sent, in ms. */
    medianDifferenceMs: number | null
    maxDifferenceMs: number | null
  }
}

/** Compares a shadow run with what the legacy sender did over the same period. */
export function compareWithLegacy(input: CompareInput): Comparison {
  const since = input.since.getTime()
  const until = input.until?.getTime() ?? Number.POSITIVE_INFINITY
  const inPeriod = (at: Date) => at.getTime() >= since && at.getTime() <= until
  const discrepancies: Discrepancy[] = []
  const key = (email: string, step: number) => `${step}|${emailKey(email)}`

  // Legacy rows get their step from their order when they do not say it.
  const legacyBefore = new Map<string, Date>()
  const legacy = new Map<string, { email: string; step: number; at: Date }>()
  for (const rows of rowsByAddress(input.legacy).values()) {
    for (const [i, row] of rows.entries()) {
      const step = row.step ?? i
      const k = key(row.to, step)
      if (row.sentAt.getTime() < since) {
        legacyBefore.set(k, row.sentAt)
        continue
      }
      if (!inPeriod(row.sentAt)) continue
      if (legacy.has(k) || legacyBefore.has(k)) {
        discrepancies.push({
          kind: 'duplicate',
          source: 'legacy',
          message: `legacy mailed ${row.to} step ${step} more than once`,
          email: row.to,
          step,
          at: row.sentAt,
        })
        continue
      }
      legacy.set(k, { email: row.to, step, at: row.sentAt })
    }
  }

  const planned = new Map<string, SendLogEntry>()
  const plannedInPeriod = input.planned
    .filter((e) => inPeriod(e.sentAt))
    .sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime())
  for (const entry of plannedInPeriod) {
    const k = key(entry.to, entry.step)
    const already = legacyBefore.get(k)
    if (planned.has(k) || already) {
      discrepancies.push({
        kind: 'duplicate',
        source: 'planned',
        message: already
          ? `mailcadence would mail ${entry.to} step ${entry.step} at ${iso(entry.sentAt)}, already sent by legacy at ${iso(already)}`
          : `mailcadence would mail ${entry.to} step ${entry.step} more than once`,
        email: entry.to,
        step: entry.step,
        at: entry.sentAt,
      })
    }
    if (!planned.has(k)) planned.set(k, entry)
  }

  const rows: ComparisonRow[] = []
  const differences: number[] = []
  for (const k of new Set([...legacy.keys(), ...planned.keys()])) {
    const l = legacy.get(k)
    const p = planned.get(k)
    const email = (p?.to ?? l?.email)!
    const step = (p?.step ?? l?.step)!
    const differenceMs = l && p ? p.sentAt.getTime() - l.at.getTime() : null
    if (differenceMs !== null) differences.push(Math.abs(differenceMs))
    rows.push({ email, step, legacyAt: l?.at ?? null, plannedAt: p?.sentAt ?? null, differenceMs })
    if (l && !p) {
      discrepancies.push({
        kind: 'skipped',
        source: 'planned',
        message: `legacy mailed ${email} step ${step} at ${iso(l.at)}; mailcadence would not have`,
        email,
        step,
        at: l.at,
      })
    }
    if (p && !l && !legacyBefore.has(k)) {
      discrepancies.push({
        kind: 'extra',
        source: 'planned',
        message: `mailcadence would mail ${email} step ${step} at ${iso(p.sentAt)}; legacy did not`,
        email,
        step,
        at: p.sentAt,
      })
    }
  }
  rows.sort((a, b) => firstAt(a) - firstAt(b) || a.email.localeCompare(b.email) || a.step - b.step)

  discrepancies.push(...plannedPolicyBreaches(input, plannedInPeriod))
  differences.sort((a, b) => a - b)
  return {
    rows,
    discrepancies,
    summary: {
      compared: rows.length,
      both: differences.length,
      legacyOnly: rows.filter((r) => r.plannedAt === null).length,
      plannedOnly: rows.filter((r) => r.legacyAt === null).length,
      medianDifferenceMs: differences.length ? differences[Math.floor((differences.length - 1) / 2)]! : null,
      maxDifferenceMs: differences.length ? differences[differences.length - 1]! : null,
    },
  }
}

/** Planned sends outside the window, over a daily limit, or closer than the pacing allows. */
function plannedPolicyBreaches(input: CompareInput, planned: readonly SendLogEntry[]): Discrepancy[] {
  const { campaign } = input
  const out: Discrepancy[] = []
  const breach = (kind: DiscrepancyKind, entry: SendLogEntry, message: string) =>
    out.push({ kind, source: 'planned', message, email: entry.to, step: entry.step, at: entry.sentAt })
  const mailboxes = new Map(input.mailboxes.map((m) => [m.id, m]))
  const perMailboxDay = new Map<string, number>()
  const perCampaignDay = new Map<string, number>()
  const { minMs } = gapRange(campaign.delayBetweenEmails, campaign.jitter)
  let previous: SendLogEntry | undefined
  for (const entry of planned) {
    // Outside the window there is no window day (the same test as isInWindow).
    const campaignDay = windowDayKey(campaign, entry.sentAt)
    if (campaignDay === null) {
      breach(
        'outside-window',
        entry,
        `planned send to ${entry.to} at ${iso(entry.sentAt)} is outside the window`,
      )
    } else {
      if (countUp(perCampaignDay, campaignDay) === campaign.maxEmailsPerDay + 1)
        breach(
          'over-campaign-limit',
          entry,
          `more than maxEmailsPerDay (${campaign.maxEmailsPerDay}) planned on ${campaignDay}`,
        )
    }
    const mailbox = mailboxes.get(entry.mailboxId)
    if (mailbox) {
      const day = dayKey(entry.sentAt, mailbox.timezone)
      if (countUp(perMailboxDay, `${mailbox.id}|${day}`) === mailbox.dailyEmailLimit + 1)
        breach(
          'over-mailbox-limit',
          entry,
          `more than ${mailbox.email}'s dailyEmailLimit (${mailbox.dailyEmailLimit}) planned on ${day}`,
        )
    }
    if (previous && entry.sentAt.getTime() - previous.sentAt.getTime() < minMs) {
      breach(
        'too-close',
        entry,
        `planned sends at ${iso(previous.sentAt)} and ${iso(entry.sentAt)} are under ${minMs} ms apart`,
      )
    }
    previous = entry
  }
  return out
}

/** Adds one to a count and returns it. */
function countUp(counts: Map<string, number>, key: string): number {
  const n = (counts.get(key) ?? 0) + 1
  counts.set(key, n)
  return n
}

function firstAt(row: ComparisonRow): number {
  return Math.min(row.legacyAt?.getTime() ?? Infinity, row.plannedAt?.getTime() ?? Infinity)
}

function iso(d: Date): string {
  return d.toISOString()
}
