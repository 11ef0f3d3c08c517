/**
 * The door of `analyzeImport` and `importCampaign`: the import input's shape checked and brought
 * to normal form before `planImport` reads it. A value of the wrong type or outside what every
 * store holds is a mistake in the caller's mapping from the other system, refused at once with an
 * `invalid-input` error naming its path (`leads[3].progress.thread`). What a well-typed lead says
 * (a bad address, a step the campaign lacks, a malformed Message-ID) is left to `planImport`,
 * which reports such a lead as an issue and imports the others.
 */
import { invalidInput } from '../errors.js'
import { checkArray, checkDate, checkId, checkInteger, checkObject, checkText } from '../model/checks.js'
import { describeValue, quote } from '../model/describe.js'
import { INPUT_LIMITS } from '../model/limits.js'
import type { LeadStatus } from '../model/types.js'
import type { ImportInput, ImportLeadInput, LeadProgress, LegacySend } from './types.js'

const L = INPUT_LIMITS
/** Longest address a mailbox or a recipient may have (RFC 5321). */
const ADDRESS_LENGTH = 254

const LEAD_STATUSES = {
  active: true,
  completed: true,
  replied: true,
  bounced: true,
  suppressed: true,
  failed: true,
} as const satisfies Record<LeadStatus, true>

/** The import input checked and copied: nullish optional parts dropped, every value in range. */
export function normalizeImportInput(raw: unknown): ImportInput {
  const input = checkObject('input', raw)
  const externalId = checkId('externalId', input.externalId)
  const leads = checkArray('leads', input.leads, L.leadsPerCall).map(normalizeLead)
  const normalized: ImportInput = {
    externalId,
    campaign: input.campaign as ImportInput['campaign'],
    leads,
  }
  if (input.sendLog != null)
    normalized.sendLog = checkArray('sendLog', input.sendLog, L.sendLogRows).map(normalizeRow)
  if (input.sentToday != null) normalized.sentToday = normalizeSentToday(input.sentToday)
  if (input.start !== undefined) {
    if (typeof input.start !== 'boolean')
      throw invalidInput('start', `must be true or false, got ${describeValue(input.start)}`)
    normalized.start = input.start
  }
  return normalized
}

/** A lead's types and ranges; a value that is not an object is left for `planImport` to refuse. */
function normalizeLead(value: unknown, index: number): ImportLeadInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value as ImportLeadInput
  const at = `leads[${index}]`
  const lead = { ...(value as ImportLeadInput) }
  if (lead.email != null && typeof lead.email !== 'string')
    throw invalidInput(`${at}.email`, `must be a string, got ${describeValue(lead.email)}`)
  if (lead.status === undefined) delete lead.status
  else if (typeof lead.status !== 'string' || !Object.hasOwn(LEAD_STATUSES, lead.status)) {
    throw invalidInput(
      `${at}.status`,
      `must be one of ${Object.keys(LEAD_STATUSES).join(', ')}, got ${describeValue(lead.status)}`,
    )
  }
  // README's own mapping, `progress: l.lastSentAt && {…}`, gives null for "nothing sent yet".
  if (lead.progress == null) delete lead.progress
  else lead.progress = normalizeProgress(lead.progress, `${at}.progress`)
  return lead
}

function normalizeProgress(value: unknown, at: string): LeadProgress {
  const progress = checkObject(at, value)
  if (typeof progress.step !== 'number')
    throw invalidInput(`${at}.step`, `must be a number, got ${describeValue(progress.step)}`)
  const normalized: LeadProgress = {
    step: progress.step,
    sentAt: sentAtOf(`${at}.sentAt`, progress.sentAt),
    mailbox: checkText(`${at}.mailbox`, progress.mailbox, ADDRESS_LENGTH, { singleLine: true }),
    messageId: checkText(`${at}.messageId`, progress.messageId, L.messageIdLength, { singleLine: true }),
  }
  if (progress.thread != null) {
    normalized.thread = checkArray(`${at}.thread`, progress.thread, L.threadLength).map((id, i) =>
      checkText(`${at}.thread[${i}]`, id, L.messageIdLength, { singleLine: true }),
    )
  }
  if (progress.threadSubject != null)
    normalized.threadSubject = checkText(`${at}.threadSubject`, progress.threadSubject, L.nameLength)
  return normalized
}

/** A Date within range; an invalid Date passes through for `planImport` to report on its lead. */
function sentAtOf(field: string, value: unknown): Date {
  if (value instanceof Date && Number.isNaN(value.getTime())) return value
  return checkDate(field, value)
}

function normalizeRow(value: unknown, index: number): LegacySend {
  const at = `sendLog[${index}]`
  const row = checkObject(at, value)
  const normalized: LegacySend = {
    id: checkId(`${at}.id`, row.id),
    to: checkText(`${at}.to`, row.to, ADDRESS_LENGTH, { singleLine: true }),
    sentAt: checkDate(`${at}.sentAt`, row.sentAt),
  }
  if (row.subject != null) normalized.subject = checkText(`${at}.subject`, row.subject, L.nameLength)
  if (row.mailbox != null)
    normalized.mailbox = checkText(`${at}.mailbox`, row.mailbox, ADDRESS_LENGTH, { singleLine: true })
  if (row.step != null) normalized.step = checkInteger(`${at}.step`, row.step, 0, Number.MAX_SAFE_INTEGER)
  return normalized
}

/** Each count a non-negative integer no larger than any daily limit can be, by mailbox address. */
function normalizeSentToday(value: unknown): Record<string, number> {
  const counts = checkObject('sentToday', value)
  const entries = Object.entries(counts)
  if (entries.length > L.mailboxesPerCampaign)
    throw invalidInput(
      'sentToday',
      `must hold at most ${L.mailboxesPerCampaign} mailboxes (${entries.length})`,
    )
  for (const [address, count] of entries) {
    const at = `sentToday[${quote(address)}]`
    checkText(at, address, ADDRESS_LENGTH, { singleLine: true })
    checkInteger(at, count, 0, L.dailyEmailLimit)
  }
  return Object.fromEntries(entries) as Record<string, number>
}
