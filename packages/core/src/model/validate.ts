/**
 * Validation at the door: every value is checked when it enters (creating or updating a campaign
 * or mailbox, adding leads), so nothing can fail for a bad setting at send time. Errors name the
 * field, as a path (`steps[1].subject`). Every value that passes is within `INPUT_LIMITS` and in
 * normal form (strings well-formed, no NUL), so every store holds it and every date the engine
 * computes from it is valid.
 */
import { invalidInput } from '../errors.js'
import { parseSpintax, SpintaxError, spintaxVariables, spinVariables } from '../message/spintax.js'
import {
  BUILT_IN_VARIABLES,
  isMessageVariable,
  MESSAGE_VARIABLES,
  parseTemplate,
  type TemplatePart,
} from '../message/template.js'
import { dayOfKey, isValidTimeZone, parseAllowedDays, windowLengthMinutes } from '../policy/calendar.js'
import { windowKeyOf } from '../policy/zones.js'
import type { NewCampaign, NewLead, NewMailbox } from '../store.js'
import {
  checkArray,
  checkId,
  checkInteger,
  checkNumber,
  checkObject,
  checkText,
  textProblem,
} from './checks.js'
import { describeValue, quote } from './describe.js'
import { INPUT_LIMITS } from './limits.js'
import {
  checkHourlyLimit,
  checkProviderMatching,
  checkRampUp,
  checkRecipientDomainLimit,
} from './sending-limits.js'
import type {
  Campaign,
  CampaignInput,
  LeadInput,
  MailboxInput,
  Step,
  StopOnReply,
  WindowTimezone,
} from './types.js'
import { checkAutoWinner, checkVariants } from './variants.js'

const LIMITS = INPUT_LIMITS
/** Years a skip date may fall in: those of the accepted input dates. */
const EARLIEST_YEAR = Number(INPUT_LIMITS.earliestDate.slice(0, 4))
const LATEST_YEAR = Number(INPUT_LIMITS.latestDate.slice(0, 4))

/** Defaults of the in-house sender: 09:00–17:00 on weekdays, 90 s apart ±20%, 500 a day. */
export const CAMPAIGN_DEFAULTS: {
  readonly timezone: 'UTC'
  readonly windowTimezone: 'campaign'
  readonly stopOnReply: 'lead'
  readonly recipientDomainLimit: null
  readonly providerMatching: 'off'
  readonly skipDates: string[]
  readonly startHour: 9
  readonly startMinute: 0
  readonly endHour: 17
  readonly endMinute: 0
  readonly allowedDays: 'MON,TUE,WED,THU,FRI'
  readonly delayBetweenEmails: 90
  readonly jitter: 0.2
  readonly maxEmailsPerDay: 500
} = {
  timezone: 'UTC',
  windowTimezone: 'campaign',
  stopOnReply: 'lead',
  recipientDomainLimit: null,
  providerMatching: 'off',
  skipDates: [],
  startHour: 9,
  startMinute: 0,
  endHour: 17,
  endMinute: 0,
  allowedDays: 'MON,TUE,WED,THU,FRI',
  delayBetweenEmails: 90,
  jitter: 0.2,
  maxEmailsPerDay: 500,
}

// Conservative: what mail servers accept in practice; an address is refused at the door rather
// than bounced later. No quoted local parts, no IP literals.
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/

/** The key addresses are compared by: trimmed and lower-cased. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase()
}

/** Why an address is unusable, or null if it is fine. */
export function emailProblem(email: unknown): string | null {
  if (typeof email !== 'string') return 'must be a string'
  const trimmed = email.trim()
  if (trimmed === '') return 'is empty'
  if (trimmed.length > 254) return 'is longer than 254 characters'
  if (!EMAIL.test(trimmed)) return `${quote(trimmed)} is not an email address`
  const local = trimmed.slice(0, trimmed.lastIndexOf('@'))
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return `${quote(trimmed)} is not an email address`
  }
  return null
}

const HEADER_UNSAFE = /[\r\n\0]/

function checkEmail(field: string, value: unknown): string {
  const problem = emailProblem(value)
  if (problem) throw invalidInput(field, problem)
  return (value as string).trim()
}

function checkHeaderText(field: string, value: unknown, { optional }: { optional: boolean }): string | null {
  if (value == null && optional) return null
  if (typeof value !== 'string') throw invalidInput(field, `must be a string, got ${describeValue(value)}`)
  if (HEADER_UNSAFE.test(value))
    throw invalidInput(field, 'must not contain CR, LF or NUL (it becomes a mail header)')
  return checkText(field, value, LIMITS.nameLength)
}

function checkTimeZone(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 64 || !isValidTimeZone(value)) {
    throw invalidInput(
      field,
      `unknown time zone ${describeValue(value)} (use an IANA name such as Europe/Warsaw)`,
    )
  }
  return value
}

/** Skip dates: real `YYYY-MM-DD` dates in the accepted years, deduplicated and sorted. */
function checkSkipDates(value: unknown): string[] {
  if (value === undefined || value === null) return []
  const dates = checkArray('skipDates', value, LIMITS.skipDates).map((date, i) => {
    const field = `skipDates[${i}]`
    if (typeof date !== 'string' || dayOfKey(date) === null)
      throw invalidInput(field, `must be a date written YYYY-MM-DD, got ${describeValue(date)}`)
    const year = Number(date.slice(0, 4))
    if (year < EARLIEST_YEAR || year >= LATEST_YEAR)
      throw invalidInput(field, `must fall in ${EARLIEST_YEAR}–${LATEST_YEAR - 1}, got ${date}`)
    return date
  })
  return [...new Set(dates)].sort()
}

function checkWindowTimezone(value: unknown): WindowTimezone {
  if (value === undefined) return CAMPAIGN_DEFAULTS.windowTimezone
  if (value !== 'campaign' && value !== 'lead')
    throw invalidInput('windowTimezone', `must be 'campaign' or 'lead', got ${describeValue(value)}`)
  return value
}

function checkStopOnReply(value: unknown): StopOnReply {
  if (value === undefined) return CAMPAIGN_DEFAULTS.stopOnReply
  if (value !== 'lead' && value !== 'domain')
    throw invalidInput('stopOnReply', `must be 'lead' or 'domain', got ${describeValue(value)}`)
  return value
}

/**
 * The 249 officially assigned ISO 3166-1 alpha-2 codes, and XK (Kosovo, user-assigned but what
 * the EU and holiday calendars use). A fixed list rather than Intl's region names: those also
 * name withdrawn codes (SU, YU, ZR…), reserved ones (AC, EA, IC…) and groupings (EU, UN), and
 * vary with the runtime's ICU data.
 */
const COUNTRY_CODES = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL ' +
    'BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV ' +
    'CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD ' +
    'GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM ' +
    'IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK ' +
    'LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW ' +
    'MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR ' +
    'PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ' +
    'ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY ' +
    'UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK'
  ).split(' '),
)

/** A lead's country, upper-cased, or why it is refused. */
function leadCountry(value: unknown): { country: string | null } | { reason: string } {
  if (value == null || value === '') return { country: null }
  if (typeof value !== 'string' || !/^[A-Za-z]{2}$/.test(value))
    return { reason: `country must be an ISO 3166-1 alpha-2 code such as "PL", got ${describeValue(value)}` }
  const code = value.toUpperCase()
  if (!COUNTRY_CODES.has(code))
    return { reason: `country "${code}" is not an ISO 3166-1 alpha-2 country code` }
  return { country: code }
}

/** Canonical spellings of the zones leads gave, bounded (leads come by the hundred thousand, zones are few). */
const canonicalZones = new Map<string, string>()
const CANONICAL_ZONE_LIMIT = 1024

/** A lead's time zone in its canonical spelling, or why it is refused. */
function leadTimeZone(value: unknown): { timezone: string | null } | { reason: string } {
  if (value == null || value === '') return { timezone: null }
  if (typeof value !== 'string' || value.length > 64 || !isValidTimeZone(value))
    return {
      reason: `timezone: unknown time zone ${describeValue(value)} (use an IANA name such as Asia/Tokyo)`,
    }
  let timezone = canonicalZones.get(value)
  if (timezone === undefined) {
    // Intl's spelling: one key per zone however a lead wrote it (asia/tokyo, US/Eastern).
    timezone = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone
    if (canonicalZones.size >= CANONICAL_ZONE_LIMIT) canonicalZones.clear()
    canonicalZones.set(value, timezone)
  }
  return { timezone }
}

function checkAllowedDays(value: unknown): string {
  if (value === undefined) return CAMPAIGN_DEFAULTS.allowedDays
  // Only letters, commas and spaces: the calendar's own message then quotes a day name safely.
  if (typeof value !== 'string' || value.length > 64 || !/^[A-Za-z, ]*$/.test(value))
    throw invalidInput('allowedDays', `must be a string such as "MON,TUE,WED", got ${describeValue(value)}`)
  parseAllowedDays(value)
  return value
}

export function validateMailbox(input: MailboxInput): NewMailbox {
  checkObject('mailbox', input)
  return {
    email: checkEmail('email', input.email),
    name: checkHeaderText('name', input.name, { optional: true }),
    dailyEmailLimit: checkInteger('dailyEmailLimit', input.dailyEmailLimit, 0, LIMITS.dailyEmailLimit),
    hourlyLimit: checkHourlyLimit(input.hourlyLimit),
    rampUp: checkRampUp(input.rampUp),
    timezone: checkTimeZone('timezone', input.timezone ?? 'UTC'),
    skipDates: checkSkipDates(input.skipDates),
  }
}

/** Validates a whole campaign definition (defaults applied) and returns what the store keeps. */
export function validateCampaign(input: CampaignInput): NewCampaign {
  checkObject('campaign', input)
  const d = CAMPAIGN_DEFAULTS
  const name = checkHeaderText('name', input.name, { optional: false }) as string
  if (name.trim() === '') throw invalidInput('name', 'must not be empty')
  const timezone = checkTimeZone('timezone', input.timezone ?? d.timezone)
  const startHour = checkInteger('startHour', input.startHour ?? d.startHour, 0, 23)
  const startMinute = checkInteger('startMinute', input.startMinute ?? d.startMinute, 0, 59)
  const endHour = checkInteger('endHour', input.endHour ?? d.endHour, 0, 24)
  const endMinute = checkInteger('endMinute', input.endMinute ?? d.endMinute, 0, 59)
  if (endHour === 24 && endMinute !== 0) throw invalidInput('endMinute', 'must be 0 when endHour is 24')
  if (windowLengthMinutes({ startHour, startMinute, endHour, endMinute }) === 0) {
    throw invalidInput('endHour', 'the window from start to end has zero length')
  }
  const allowedDays = checkAllowedDays(input.allowedDays)
  const delayBetweenEmails = checkInteger(
    'delayBetweenEmails',
    input.delayBetweenEmails ?? d.delayBetweenEmails,
    0,
    LIMITS.delayBetweenEmails,
  )
  const jitter = input.jitter ?? d.jitter
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw invalidInput('jitter', `must be a number in [0, 1), got ${describeValue(jitter)}`)
  }
  const maxEmailsPerDay = checkInteger(
    'maxEmailsPerDay',
    input.maxEmailsPerDay ?? d.maxEmailsPerDay,
    0,
    LIMITS.maxEmailsPerDay,
  )

  if (!Array.isArray(input.mailboxIds) || input.mailboxIds.length === 0) {
    throw invalidInput('mailboxIds', 'must list at least one mailbox id')
  }
  const mailboxIds = checkArray('mailboxIds', input.mailboxIds, LIMITS.mailboxesPerCampaign).map((id, i) =>
    checkId(`mailboxIds[${i}]`, id),
  )
  if (new Set(mailboxIds).size !== mailboxIds.length)
    throw invalidInput('mailboxIds', 'lists a mailbox twice')

  const variables = checkVariableNames(input.variables ?? [])
  const steps = validateSteps(input.steps, new Set([...BUILT_IN_VARIABLES, ...variables]))
  const templates = steps
    .flatMap((step) => [step, ...(step.variants ?? [])])
    .reduce((sum, s) => sum + (s.subject?.length ?? 0) + (s.text?.length ?? 0) + (s.html?.length ?? 0), 0)
  if (templates > LIMITS.templatesLength)
    throw invalidInput(
      'steps',
      `templates hold ${templates} characters together, more than ${LIMITS.templatesLength}`,
    )
  return {
    name,
    timezone,
    windowTimezone: checkWindowTimezone(input.windowTimezone),
    skipDates: checkSkipDates(input.skipDates),
    stopOnReply: checkStopOnReply(input.stopOnReply),
    recipientDomainLimit: checkRecipientDomainLimit(input.recipientDomainLimit),
    providerMatching: checkProviderMatching(input.providerMatching),
    startHour,
    startMinute,
    endHour,
    endMinute,
    allowedDays,
    delayBetweenEmails,
    jitter,
    maxEmailsPerDay,
    mailboxIds,
    steps,
    variables,
  }
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

function checkVariableNames(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalidInput('variables', 'must be an array of names')
  return checkArray('variables', value, LIMITS.variables).map((name, i) => {
    if (typeof name !== 'string' || name.length > LIMITS.variableNameLength || !VARIABLE_NAME.test(name)) {
      throw invalidInput(`variables[${i}]`, `${describeValue(name)} is not a valid variable name`)
    }
    return name
  })
}

function validateSteps(value: unknown, known: ReadonlySet<string>): Step[] {
  if (!Array.isArray(value) || value.length === 0)
    throw invalidInput('steps', 'must contain at least one step')
  const bodyVariables = new Set([...known, ...MESSAGE_VARIABLES])
  return (checkArray('steps', value, LIMITS.steps) as Step[]).map((raw, i) => {
    const at = `steps[${i}]`
    if (typeof raw !== 'object' || raw === null)
      throw invalidInput(at, `must be an object, got ${describeValue(raw)}`)
    const step: Step = checkContent(at, raw, known, bodyVariables)
    if (raw.variants !== undefined) {
      step.variants = checkVariants(`${at}.variants`, raw.variants, (field, v) =>
        checkContent(field, v, known, bodyVariables),
      )
      for (const [j, variant] of step.variants.entries()) {
        if ((variant.text ?? step.text) === undefined && (variant.html ?? step.html) === undefined)
          throw invalidInput(`${at}.variants[${j}]`, "needs a text or an html body (its own or the step's)")
        if (i === 0 && (variant.subject ?? step.subject) === undefined)
          throw invalidInput(`${at}.variants[${j}].subject`, 'is required on the first step')
      }
    }
    const everyVariantComplete = step.variants !== undefined && step.variants.length > 0
    if (step.subject === undefined && i === 0 && !everyVariantComplete)
      throw invalidInput(`${at}.subject`, 'is required on the first step')
    if (step.text === undefined && step.html === undefined && !everyVariantComplete)
      throw invalidInput(at, 'needs a text or an html body')
    if (raw.delayDays !== undefined) {
      step.delayDays = checkNumber(`${at}.delayDays`, raw.delayDays, 0, LIMITS.delayDays)
    }
    if (raw.autoWinner !== undefined) {
      if (!step.variants || step.variants.length < 2)
        throw invalidInput(`${at}.autoWinner`, 'needs at least two variants to choose from')
      step.autoWinner = checkAutoWinner(`${at}.autoWinner`, raw.autoWinner)
    }
    if (raw.winner !== undefined && raw.winner !== null) {
      if (!step.variants?.some((v) => v.id === raw.winner))
        throw invalidInput(
          `${at}.winner`,
          `must be the id of one of the step's variants, got ${describeValue(raw.winner)}`,
        )
      step.winner = raw.winner
    } else if (raw.winner === null) {
      step.winner = null
    }
    return step
  })
}

/** The subject, text and html of a step or a variant, each checked as a template. */
function checkContent(
  at: string,
  raw: { subject?: unknown; text?: unknown; html?: unknown },
  known: ReadonlySet<string>,
  bodyVariables: ReadonlySet<string>,
): Step {
  const content: Step = {}
  if (raw.subject !== undefined) {
    const subject = checkHeaderText(`${at}.subject`, raw.subject, { optional: false }) as string
    if (subject.trim() === '') throw invalidInput(`${at}.subject`, 'must not be empty')
    content.subject = checkTemplate(`${at}.subject`, subject, known)
  }
  for (const key of ['text', 'html'] as const) {
    if (raw[key] === undefined) continue
    const body = checkText(`${at}.${key}`, raw[key], LIMITS.bodyLength)
    content[key] = checkTemplate(`${at}.${key}`, body, bodyVariables)
  }
  return content
}

/**
 * A template: its spintax (balanced braces, see message/spintax.ts) and the variables of every
 * alternative, each a known one.
 */
function checkTemplate(field: string, template: string, known: ReadonlySet<string>): string {
  let parts: TemplatePart[]
  try {
    parts = spinVariables(parseSpintax(template)).flatMap((inner) => parseTemplate(`{{${inner}}}`))
  } catch (error) {
    if (error instanceof SpintaxError)
      throw invalidInput(
        field,
        `template ${error.message} (spintax braces, at character ${error.position + 1})`,
      )
    throw invalidInput(field, `template ${(error as Error).message}`)
  }
  const uses = parts.filter((part) => typeof part !== 'string')
  if (uses.length > LIMITS.variableUsesPerTemplate)
    throw invalidInput(
      field,
      `uses variables ${uses.length} times, more than ${LIMITS.variableUsesPerTemplate}`,
    )
  const used = new Set(uses.map((part) => part.name))
  for (const name of used) {
    if (!known.has(name) && isMessageVariable(name)) {
      throw invalidInput(field, `uses {{${name}}}, which only a step's text or html may use`)
    }
    if (!known.has(name)) {
      throw invalidInput(
        field,
        `uses {{${name}}}, which no lead can fill (built-in: ${BUILT_IN_VARIABLES.join(', ')}; declare custom ones in "variables")`,
      )
    }
  }
  return template
}

/** Variables every lead of the campaign must supply: used somewhere without a fallback. */
export function requiredVariables(campaign: Pick<Campaign, 'steps'>): Set<string> {
  const required = new Set<string>()
  for (const step of campaign.steps) {
    const contents = [step, ...(step.variants ?? [])]
    for (const template of contents.flatMap((c) => [c.subject, c.text, c.html])) {
      if (template === undefined) continue
      for (const name of spintaxVariables(template).required) required.add(name)
    }
  }
  required.delete('email')
  return required
}

/**
 * Template values of a lead: built-ins first, custom variables may not override them. An object
 * without a prototype, so a variable named `constructor` or `toString` is only ever the lead's own
 * value, never something inherited from `Object.prototype`.
 */
export function leadValues(
  lead: Pick<NewLead, 'email' | 'firstName' | 'lastName' | 'company' | 'variables'>,
): Record<string, string | null> {
  const values: Record<string, string | null> = Object.create(null)
  for (const [name, value] of Object.entries(lead.variables)) values[name] = value
  values.email = lead.email
  values.firstName = lead.firstName
  values.lastName = lead.lastName
  values.company = lead.company
  return values
}

/** Turns one lead of `addLeads` into what the store keeps, or says why it is refused. */
export function prepareLead(input: LeadInput, required: ReadonlySet<string>): NewLead | { reason: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { reason: `lead must be an object, got ${describeValue(input)}` }
  const problem = emailProblem(input.email)
  if (problem) return { reason: `email ${problem}` }
  const lead: NewLead = {
    email: (input.email as string).trim(),
    emailKey: emailKey(input.email),
    firstName: null,
    lastName: null,
    company: null,
    variables: {},
    timezone: null,
    country: null,
    windowKey: '',
  }
  const zone = leadTimeZone(input.timezone)
  if ('reason' in zone) return zone
  const country = leadCountry(input.country)
  if ('reason' in country) return country
  lead.timezone = zone.timezone
  lead.country = country.country
  lead.windowKey = windowKeyOf(lead)
  for (const key of ['firstName', 'lastName', 'company'] as const) {
    const value: unknown = input[key]
    if (value == null) continue
    if (typeof value !== 'string') return { reason: `${key} must be a string, got ${describeValue(value)}` }
    if (HEADER_UNSAFE.test(value)) return { reason: `${key} must not contain CR, LF or NUL` }
    const textIssue = textProblem(value, LIMITS.leadFieldLength)
    if (textIssue) return { reason: `${key} ${textIssue}` }
    lead[key] = value.trim() === '' ? null : value
  }
  if (input.variables != null) {
    const variables = leadVariables(input.variables)
    if ('reason' in variables) return variables
    lead.variables = variables.values
  }
  const values = leadValues(lead)
  for (const name of required) {
    const value = values[name]
    if (value == null || value.trim() === '')
      return { reason: `missing {{${name}}}, used without a fallback` }
  }
  return lead
}

/**
 * A lead's custom variables, checked name by name. Built with `Object.fromEntries`, which defines
 * each name as an own property: a variable named `__proto__` stays a variable.
 */
function leadVariables(input: unknown): { values: Record<string, string> } | { reason: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { reason: `variables must be an object of strings, got ${describeValue(input)}` }
  const entries = Object.entries(input)
  if (entries.length > LIMITS.variables)
    return { reason: `variables must hold at most ${LIMITS.variables} names (${entries.length})` }
  let length = 0
  for (const [name, value] of entries) {
    const at =
      VARIABLE_NAME.test(name) && name.length <= LIMITS.variableNameLength
        ? `variables.${name}`
        : `variables[${quote(name)}]`
    const nameIssue = textProblem(name, LIMITS.variableNameLength)
    if (nameIssue) return { reason: `the name of ${at} ${nameIssue}` }
    if (typeof value !== 'string') return { reason: `${at} must be a string, got ${describeValue(value)}` }
    // Newlines are fine in a body; a subject gets them folded away when it is rendered.
    const valueIssue = textProblem(value, LIMITS.leadVariablesLength)
    if (valueIssue) return { reason: `${at} ${valueIssue}` }
    length += name.length + value.length
  }
  if (length > LIMITS.leadVariablesLength)
    return { reason: `variables hold ${length} characters together, more than ${LIMITS.leadVariablesLength}` }
  return { values: Object.fromEntries(entries) as Record<string, string> }
}

/** The address to report for a refused lead: what was given, or a short description of it. */
export function leadEmailOf(input: unknown): string {
  const email: unknown = typeof input === 'object' && input !== null ? (input as LeadInput).email : undefined
  if (email == null) return ''
  if (typeof email === 'string') return email.length <= 254 ? email : quote(email)
  return describeValue(email)
}
