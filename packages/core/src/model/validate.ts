/**
 * Validation at the door: every value is checked when it enters (creating or updating a campaign
 * or mailbox, adding leads), so nothing can fail for a bad setting at send time. Errors name the
 * field, as a path (`steps[1].subject`).
 */
import { invalidInput } from '../errors.js'
import { BUILT_IN_VARIABLES, templateVariables } from '../message/template.js'
import { isValidTimeZone, parseAllowedDays, windowLengthMinutes } from '../policy/calendar.js'
import type { NewCampaign, NewLead, NewMailbox } from '../store.js'
import type { Campaign, CampaignInput, LeadInput, MailboxInput, Step } from './types.js'

/** Defaults of the in-house sender: 09:00–17:00 on weekdays, 90 s apart ±20%, 500 a day. */
export const CAMPAIGN_DEFAULTS = {
  timezone: 'UTC',
  startHour: 9,
  startMinute: 0,
  endHour: 17,
  endMinute: 0,
  allowedDays: 'MON,TUE,WED,THU,FRI',
  delayBetweenEmails: 90,
  jitter: 0.2,
  maxEmailsPerDay: 500,
} as const

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
  if (!EMAIL.test(trimmed)) return `"${printable(trimmed)}" is not an email address`
  const local = trimmed.slice(0, trimmed.lastIndexOf('@'))
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return `"${printable(trimmed)}" is not an email address`
  }
  return null
}

const HEADER_UNSAFE = /[\r\n\0]/

/** Makes control characters visible in an error message instead of letting them break it. */
function printable(value: string): string {
  return JSON.stringify(value).slice(1, -1)
}

function checkEmail(field: string, value: unknown): string {
  const problem = emailProblem(value)
  if (problem) throw invalidInput(field, problem)
  return (value as string).trim()
}

function checkHeaderText(field: string, value: unknown, { optional }: { optional: boolean }): string | null {
  if (value == null && optional) return null
  if (typeof value !== 'string') throw invalidInput(field, 'must be a string')
  if (HEADER_UNSAFE.test(value))
    throw invalidInput(field, 'must not contain CR, LF or NUL (it becomes a mail header)')
  if (value.length > 500) throw invalidInput(field, 'is longer than 500 characters')
  return value
}

function checkInteger(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw invalidInput(field, `must be an integer, got ${String(value)}`)
  if (value < min || value > max) throw invalidInput(field, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function checkTimeZone(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isValidTimeZone(value)) {
    throw invalidInput(field, `unknown time zone "${String(value)}" (use an IANA name such as Europe/Warsaw)`)
  }
  return value
}

export function validateMailbox(input: MailboxInput): NewMailbox {
  if (typeof input !== 'object' || input === null) throw invalidInput('mailbox', 'must be an object')
  return {
    email: checkEmail('email', input.email),
    name: checkHeaderText('name', input.name, { optional: true }),
    dailyEmailLimit: checkInteger('dailyEmailLimit', input.dailyEmailLimit, 0),
    timezone: checkTimeZone('timezone', input.timezone ?? 'UTC'),
  }
}

/** Validates a whole campaign definition (defaults applied) and returns what the store keeps. */
export function validateCampaign(input: CampaignInput): NewCampaign {
  if (typeof input !== 'object' || input === null) throw invalidInput('campaign', 'must be an object')
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
  const allowedDays =
    typeof input.allowedDays === 'string' || input.allowedDays === undefined
      ? (input.allowedDays ?? d.allowedDays)
      : null
  if (allowedDays === null) throw invalidInput('allowedDays', 'must be a string such as "MON,TUE,WED"')
  parseAllowedDays(allowedDays)
  const delayBetweenEmails = checkInteger(
    'delayBetweenEmails',
    input.delayBetweenEmails ?? d.delayBetweenEmails,
    0,
  )
  const jitter = input.jitter ?? d.jitter
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw invalidInput('jitter', `must be a number in [0, 1), got ${String(jitter)}`)
  }
  const maxEmailsPerDay = checkInteger('maxEmailsPerDay', input.maxEmailsPerDay ?? d.maxEmailsPerDay, 0)

  if (!Array.isArray(input.mailboxIds) || input.mailboxIds.length === 0) {
    throw invalidInput('mailboxIds', 'must list at least one mailbox id')
  }
  const mailboxIds = input.mailboxIds.map((id, i) => {
    if (typeof id !== 'string' || id === '') throw invalidInput(`mailboxIds[${i}]`, 'must be a mailbox id')
    return id
  })
  if (new Set(mailboxIds).size !== mailboxIds.length)
    throw invalidInput('mailboxIds', 'lists a mailbox twice')

  const variables = checkVariableNames(input.variables ?? [])
  const steps = validateSteps(input.steps, new Set([...BUILT_IN_VARIABLES, ...variables]))
  return {
    name,
    timezone,
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

function checkVariableNames(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalidInput('variables', 'must be an array of names')
  return value.map((name, i) => {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw invalidInput(`variables[${i}]`, `"${String(name)}" is not a valid variable name`)
    }
    return name
  })
}

function validateSteps(value: unknown, known: ReadonlySet<string>): Step[] {
  if (!Array.isArray(value) || value.length === 0)
    throw invalidInput('steps', 'must contain at least one step')
  return value.map((raw: Step, i) => {
    const at = `steps[${i}]`
    if (typeof raw !== 'object' || raw === null) throw invalidInput(at, 'must be an object')
    const step: Step = {}
    if (raw.subject !== undefined) {
      const subject = checkHeaderText(`${at}.subject`, raw.subject, { optional: false }) as string
      if (subject.trim() === '') throw invalidInput(`${at}.subject`, 'must not be empty')
      step.subject = checkTemplate(`${at}.subject`, subject, known)
    } else if (i === 0) {
      throw invalidInput(`${at}.subject`, 'is required on the first step')
    }
    for (const key of ['text', 'html'] as const) {
      if (raw[key] === undefined) continue
      if (typeof raw[key] !== 'string') throw invalidInput(`${at}.${key}`, 'must be a string')
      step[key] = checkTemplate(`${at}.${key}`, raw[key], known)
    }
    if (step.text === undefined && step.html === undefined)
      throw invalidInput(at, 'needs a text or an html body')
    if (raw.delayDays !== undefined) {
      if (typeof raw.delayDays !== 'number' || !Number.isFinite(raw.delayDays) || raw.delayDays < 0) {
        throw invalidInput(`${at}.delayDays`, `must be a number of days >= 0, got ${String(raw.delayDays)}`)
      }
      step.delayDays = raw.delayDays
    }
    return step
  })
}

function checkTemplate(field: string, template: string, known: ReadonlySet<string>): string {
  let used: Set<string>
  try {
    used = templateVariables(template).used
  } catch (error) {
    throw invalidInput(field, `template ${(error as Error).message}`)
  }
  for (const name of used) {
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
    for (const template of [step.subject, step.text, step.html]) {
      if (template === undefined) continue
      for (const name of templateVariables(template).required) required.add(name)
    }
  }
  required.delete('email')
  return required
}

/** Template values of a lead: built-ins first, custom variables may not override them. */
export function leadValues(
  lead: Pick<NewLead, 'email' | 'firstName' | 'lastName' | 'company' | 'variables'>,
): Record<string, string | null> {
  return {
    ...lead.variables,
    email: lead.email,
    firstName: lead.firstName,
    lastName: lead.lastName,
    company: lead.company,
  }
}

/** Turns one lead of `addLeads` into what the store keeps, or says why it is refused. */
export function prepareLead(input: LeadInput, required: ReadonlySet<string>): NewLead | { reason: string } {
  if (typeof input !== 'object' || input === null) return { reason: 'lead must be an object' }
  const problem = emailProblem(input.email)
  if (problem) return { reason: `email ${problem}` }
  const lead: NewLead = {
    email: (input.email as string).trim(),
    emailKey: emailKey(input.email),
    firstName: null,
    lastName: null,
    company: null,
    variables: {},
  }
  for (const key of ['firstName', 'lastName', 'company'] as const) {
    const value = input[key]
    if (value == null) continue
    if (typeof value !== 'string') return { reason: `${key} must be a string` }
    if (HEADER_UNSAFE.test(value)) return { reason: `${key} must not contain CR, LF or NUL` }
    lead[key] = value.trim() === '' ? null : value
  }
  if (input.variables != null) {
    if (typeof input.variables !== 'object') return { reason: 'variables must be an object of strings' }
    for (const [name, value] of Object.entries(input.variables)) {
      if (typeof value !== 'string') return { reason: `variables.${name} must be a string` }
      // Newlines are fine in a body; a subject gets them folded away when it is rendered.
      if (value.includes('\0')) return { reason: `variables.${name} must not contain NUL` }
      lead.variables[name] = value
    }
  }
  const values = leadValues(lead)
  for (const name of required) {
    const value = values[name]
    if (value == null || value.trim() === '')
      return { reason: `missing {{${name}}}, used without a fallback` }
  }
  return lead
}
