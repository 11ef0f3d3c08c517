/**
 * Column lists and row → model mapping. Ids leave the database as text (`::text`), so a bigint is
 * never squeezed through a JavaScript number; instants arrive as `Date`s from pg's timestamptz
 * parser (strings are accepted too, in case the host changed pg's type parsers).
 */

import type {
  Campaign,
  CampaignStatus,
  EmailProvider,
  Lead,
  LeadStatus,
  Mailbox,
  ProviderMatching,
  QueueItem,
  QueueStatus,
  RampUp,
  RecipientDomainLimit,
  SendLogEntry,
  Step,
  StopOnReply,
  WindowTimezone,
} from '@mailcadence/core'
import { REQUEUE_ENDED_STATUSES } from '@mailcadence/core'

export type Row = Record<string, unknown>

/**
 * Core's `REQUEUE_ENDED_STATUSES` as an SQL list (`'CANCELLED', 'COMPLETED'`): the campaign statuses
 * in which a retry or a recovered lease does not revive its item. Fixed strings from core, never
 * input, so splicing them is safe.
 */
export const REQUEUE_ENDED_SQL = REQUEUE_ENDED_STATUSES.map((status) => `'${status}'`).join(', ')

/** Prefixes each column of a list with a table alias and, optionally, its output name. */
function columns(list: readonly string[], alias: string, prefix = ''): string {
  return list
    .map((c) => {
      const [expr, name] = c.split(' AS ') as [string, string | undefined]
      const source = expr.replace(/^(\w+)/, `${alias}.$1`)
      return `${source} AS ${prefix}${name ?? expr}`
    })
    .join(', ')
}

const MAILBOX = [
  'id::text AS id',
  'email',
  'name',
  'daily_email_limit',
  'hourly_limit',
  'ramp_up',
  'ramp_level',
  'ramp_day_key',
  'provider',
  'timezone',
  'paused_until',
  'pause_reason',
  'skip_dates',
  'created_at',
  'updated_at',
] as const

const CAMPAIGN = [
  'id::text AS id',
  'name',
  'status',
  'mailbox_ids',
  'steps',
  'variables',
  'timezone',
  'start_hour',
  'start_minute',
  'end_hour',
  'end_minute',
  'allowed_days',
  'delay_between_emails',
  'jitter',
  'max_emails_per_day',
  'window_timezone',
  'stop_on_reply',
  'recipient_domain_limit',
  'provider_matching',
  'skip_dates',
  'next_slot_at',
  'last_mailbox_id::text AS last_mailbox_id',
  'external_id',
  'created_at',
  'updated_at',
  'settings_version',
] as const

const LEAD = [
  'id::text AS id',
  'campaign_id::text AS campaign_id',
  'email',
  'first_name',
  'last_name',
  'company',
  'variables',
  'status',
  'timezone',
  'country',
  'created_at',
  'updated_at',
] as const

const ITEM = [
  'id::text AS id',
  'campaign_id::text AS campaign_id',
  'lead_id::text AS lead_id',
  'step',
  'status',
  'scheduled_at',
  'attempts',
  'mailbox_id::text AS mailbox_id',
  'thread_refs',
  'message_id',
  'thread_subject',
  'lease_token',
  'lease_until',
  'last_error',
  'sent_at',
  'window_key',
  'created_at',
  'updated_at',
  'variant_id',
] as const

const SEND_LOG = [
  'campaign_id::text AS campaign_id',
  'lead_id::text AS lead_id',
  'step',
  'mailbox_id::text AS mailbox_id',
  'message_id',
  'recipient',
  'subject',
  'sent_at',
] as const

export const mailboxColumns = (alias: string) => columns(MAILBOX, alias)
export const campaignColumns = (alias: string) => columns(CAMPAIGN, alias)
export const leadColumns = (alias: string, prefix = '') => columns(LEAD, alias, prefix)
export const itemColumns = (alias: string) => columns(ITEM, alias)
export const sendLogColumns = (alias: string) => columns(SEND_LOG, alias)

function date(value: unknown): Date {
  return value instanceof Date ? new Date(value.getTime()) : new Date(String(value))
}

function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value)
}

function text(value: unknown): string {
  return String(value)
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value)
}

function texts(value: unknown): string[] {
  return (value as unknown[]).map(String)
}

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T
}

function jsonOrNull<T>(value: unknown): T | null {
  return value === null || value === undefined ? null : json<T>(value)
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}

export function toMailbox(r: Row): Mailbox {
  return {
    id: text(r.id),
    email: text(r.email),
    name: textOrNull(r.name),
    dailyEmailLimit: Number(r.daily_email_limit),
    hourlyLimit: numberOrNull(r.hourly_limit),
    rampUp: jsonOrNull<RampUp>(r.ramp_up),
    rampLevel: Number(r.ramp_level),
    rampDayKey: textOrNull(r.ramp_day_key),
    provider: textOrNull(r.provider) as EmailProvider | null,
    timezone: text(r.timezone),
    pausedUntil: dateOrNull(r.paused_until),
    pauseReason: textOrNull(r.pause_reason),
    skipDates: texts(r.skip_dates),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }
}

export function toCampaign(r: Row): Campaign {
  return {
    id: text(r.id),
    name: text(r.name),
    status: text(r.status) as CampaignStatus,
    mailboxIds: (r.mailbox_ids as string[]).map(String),
    steps: json<Step[]>(r.steps),
    variables: (r.variables as string[]).map(String),
    timezone: text(r.timezone),
    startHour: Number(r.start_hour),
    startMinute: Number(r.start_minute),
    endHour: Number(r.end_hour),
    endMinute: Number(r.end_minute),
    allowedDays: text(r.allowed_days),
    delayBetweenEmails: Number(r.delay_between_emails),
    jitter: Number(r.jitter),
    maxEmailsPerDay: Number(r.max_emails_per_day),
    windowTimezone: text(r.window_timezone) as WindowTimezone,
    skipDates: texts(r.skip_dates),
    stopOnReply: text(r.stop_on_reply) as StopOnReply,
    recipientDomainLimit: jsonOrNull<RecipientDomainLimit>(r.recipient_domain_limit),
    providerMatching: text(r.provider_matching) as ProviderMatching,
    nextSlotAt: dateOrNull(r.next_slot_at),
    lastMailboxId: textOrNull(r.last_mailbox_id),
    externalId: textOrNull(r.external_id),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    settingsVersion: Number(r.settings_version),
  }
}

/** A lead from a row whose lead columns carry `prefix` (see {@link leadColumns}). */
export function toLead(r: Row, prefix = ''): Lead {
  const at = (name: string) => r[`${prefix}${name}`]
  return {
    id: text(at('id')),
    campaignId: text(at('campaign_id')),
    email: text(at('email')),
    firstName: textOrNull(at('first_name')),
    lastName: textOrNull(at('last_name')),
    company: textOrNull(at('company')),
    variables: json<Record<string, string>>(at('variables')),
    status: text(at('status')) as LeadStatus,
    timezone: textOrNull(at('timezone')),
    country: textOrNull(at('country')),
    createdAt: date(at('created_at')),
    updatedAt: date(at('updated_at')),
  }
}

export function toItem(r: Row): QueueItem {
  return {
    id: text(r.id),
    campaignId: text(r.campaign_id),
    leadId: text(r.lead_id),
    step: Number(r.step),
    status: text(r.status) as QueueStatus,
    scheduledAt: date(r.scheduled_at),
    attempts: Number(r.attempts),
    mailboxId: textOrNull(r.mailbox_id),
    references: (r.thread_refs as string[]).map(String),
    messageId: textOrNull(r.message_id),
    threadSubject: textOrNull(r.thread_subject),
    leaseToken: textOrNull(r.lease_token),
    leaseUntil: dateOrNull(r.lease_until),
    lastError: textOrNull(r.last_error),
    sentAt: dateOrNull(r.sent_at),
    windowKey: text(r.window_key),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    variantId: textOrNull(r.variant_id),
  }
}

export function toSendLogEntry(r: Row): SendLogEntry {
  return {
    campaignId: text(r.campaign_id),
    leadId: text(r.lead_id),
    step: Number(r.step),
    mailboxId: text(r.mailbox_id),
    messageId: text(r.message_id),
    to: text(r.recipient),
    subject: text(r.subject),
    sentAt: date(r.sent_at),
  }
}

export { dateOrNull }

/** Typed NULLs standing in for `itemColumns` (same order), in rows that carry no item. */
export const NULL_ITEM = [
  'NULL::text',
  'NULL::text',
  'NULL::text',
  'NULL::int',
  'NULL::text',
  'NULL::timestamptz',
  'NULL::int',
  'NULL::text',
  'NULL::text[]',
  'NULL::text',
  'NULL::text',
  'NULL::text',
  'NULL::timestamptz',
  'NULL::text',
  'NULL::timestamptz',
  'NULL::text',
  'NULL::timestamptz',
  'NULL::timestamptz',
  'NULL::text',
].join(', ')
/** Typed NULLs standing in for `leadColumns` (same order). */
export const NULL_LEAD = [
  'NULL::text',
  'NULL::text',
  'NULL::text',
  'NULL::text',
  'NULL::text',
  'NULL::text',
  'NULL::jsonb',
  'NULL::text',
  'NULL::text',
  'NULL::text',
  'NULL::timestamptz',
  'NULL::timestamptz',
].join(', ')
