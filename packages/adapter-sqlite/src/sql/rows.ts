/**
 * Row → model mapping. Instants are stored as epoch milliseconds and come back as fresh `Date`s;
 * ids are integer row ids and leave as decimal strings; lists and objects are JSON text.
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
import type { Row } from '../db.js'

export const T = {
  mailboxes: 'mailcadence_mailboxes',
  campaigns: 'mailcadence_campaigns',
  leads: 'mailcadence_leads',
  suppressions: 'mailcadence_suppressions',
  items: 'mailcadence_queue_items',
  sendLog: 'mailcadence_send_log',
  campaignDays: 'mailcadence_campaign_day_counts',
  mailboxDays: 'mailcadence_mailbox_day_counts',
  external: 'mailcadence_external_sends',
  inbound: 'mailcadence_inbound_messages',
  cursors: 'mailcadence_inbox_cursors',
  counters: 'mailcadence_counters',
} as const

export function date(value: unknown): Date {
  return new Date(Number(value))
}

export function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value))
}

function idOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value)
}

function str(value: unknown): string {
  return String(value)
}

function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value)
}

function json<T>(value: unknown): T {
  return JSON.parse(String(value)) as T
}

function jsonOrNull<T>(value: unknown): T | null {
  return value === null || value === undefined ? null : json<T>(value)
}

/** An optional object setting as stored: its JSON text, or NULL for none (never the text `null`). */
export function jsonColumn(value: object | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

export function toMailbox(r: Row): Mailbox {
  return {
    id: str(r.id),
    email: str(r.email),
    name: strOrNull(r.name),
    dailyEmailLimit: Number(r.daily_email_limit),
    hourlyLimit: r.hourly_limit === null || r.hourly_limit === undefined ? null : Number(r.hourly_limit),
    rampUp: jsonOrNull<RampUp>(r.ramp_up),
    rampLevel: Number(r.ramp_level ?? 0),
    rampDayKey: strOrNull(r.ramp_day_key),
    provider: strOrNull(r.provider) as EmailProvider | null,
    timezone: str(r.timezone),
    skipDates: json<string[]>(r.skip_dates),
    pausedUntil: dateOrNull(r.paused_until),
    pauseReason: strOrNull(r.pause_reason),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }
}

export function toCampaign(r: Row): Campaign {
  return {
    id: str(r.id),
    name: str(r.name),
    status: r.status as CampaignStatus,
    mailboxIds: json<string[]>(r.mailbox_ids),
    steps: json<Step[]>(r.steps),
    variables: json<string[]>(r.variables),
    timezone: str(r.timezone),
    startHour: Number(r.start_hour),
    startMinute: Number(r.start_minute),
    endHour: Number(r.end_hour),
    endMinute: Number(r.end_minute),
    allowedDays: str(r.allowed_days),
    windowTimezone: r.window_timezone as WindowTimezone,
    skipDates: json<string[]>(r.skip_dates),
    delayBetweenEmails: Number(r.delay_between_emails),
    jitter: Number(r.jitter),
    maxEmailsPerDay: Number(r.max_emails_per_day),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    settingsVersion: Number(r.settings_version),
    nextSlotAt: dateOrNull(r.next_slot_at),
    lastMailboxId: idOrNull(r.last_mailbox_id),
    externalId: strOrNull(r.external_id),
    stopOnReply: (r.stop_on_reply ?? 'lead') as StopOnReply,
    recipientDomainLimit: jsonOrNull<RecipientDomainLimit>(r.recipient_domain_limit),
    providerMatching: (r.provider_matching ?? 'off') as ProviderMatching,
  }
}

export function toLead(r: Row): Lead {
  return {
    id: str(r.id),
    campaignId: str(r.campaign_id),
    email: str(r.email),
    firstName: strOrNull(r.first_name),
    lastName: strOrNull(r.last_name),
    company: strOrNull(r.company),
    variables: json<Record<string, string>>(r.variables),
    timezone: strOrNull(r.timezone),
    country: strOrNull(r.country),
    status: r.status as LeadStatus,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }
}

export function toItem(r: Row): QueueItem {
  return {
    id: str(r.id),
    campaignId: str(r.campaign_id),
    leadId: str(r.lead_id),
    step: Number(r.step),
    status: r.status as QueueStatus,
    scheduledAt: date(r.scheduled_at),
    attempts: Number(r.attempts),
    mailboxId: idOrNull(r.mailbox_id),
    references: json<string[]>(r.thread_refs),
    messageId: strOrNull(r.message_id),
    threadSubject: strOrNull(r.thread_subject),
    windowKey: str(r.window_key),
    variantId: strOrNull(r.variant_id),
    leaseToken: strOrNull(r.lease_token),
    leaseUntil: dateOrNull(r.lease_until),
    lastError: strOrNull(r.last_error),
    sentAt: dateOrNull(r.sent_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }
}

export function toSendLogEntry(r: Row): SendLogEntry {
  return {
    campaignId: str(r.campaign_id),
    leadId: str(r.lead_id),
    step: Number(r.step),
    mailboxId: str(r.mailbox_id),
    messageId: str(r.message_id),
    to: str(r.recipient),
    subject: str(r.subject),
    sentAt: date(r.sent_at),
  }
}
