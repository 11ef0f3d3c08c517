/**
 * Conversions between the model of `@mailcadence/core` and the rows of `mailcadence.prisma`: ids
 * are `BigInt` autoincrement columns (strings at the API), lists and objects are JSON text.
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
import type { CampaignRow, ItemRow, LeadRow, MailboxRow, SendLogRow } from './client.js'

const NUMERIC = /^[1-9]\d{0,18}$/

/** The id as a `bigint`, or undefined when it cannot be one of ours (so "not found"). */
export function parseId(id: string): bigint | undefined {
  return typeof id === 'string' && NUMERIC.test(id) ? BigInt(id) : undefined
}

/** The ids that can be ours, without repeats. */
export function parseIds(ids: readonly string[]): bigint[] {
  const out = new Map<string, bigint>()
  for (const id of ids) {
    const parsed = parseId(id)
    if (parsed !== undefined) out.set(id, parsed)
  }
  return [...out.values()]
}

export function idOf(value: bigint): string {
  return value.toString()
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T
  } catch {
    throw new Error(`mailcadence: ${what} holds invalid JSON`)
  }
}

/** An optional object setting as its JSON column: null stays SQL null (no setting). */
export function jsonOrNull(value: object | null): string | null {
  return value === null ? null : JSON.stringify(value)
}

/** The columns of a mailbox's settings, from the model (for create and update). */
export function mailboxSettings(input: Partial<Omit<Mailbox, 'id' | 'createdAt' | 'updatedAt'>>) {
  const data: Record<string, unknown> = {}
  const scalars = [
    'email',
    'name',
    'dailyEmailLimit',
    'timezone',
    'pausedUntil',
    'pauseReason',
    'hourlyLimit',
    'rampLevel',
    'rampDayKey',
    'provider',
  ] as const
  for (const key of scalars) if (input[key] !== undefined) data[key] = input[key]
  if (input.skipDates !== undefined) data.skipDates = JSON.stringify(input.skipDates)
  if (input.rampUp !== undefined) data.rampUp = jsonOrNull(input.rampUp)
  return data
}

export function toMailbox(row: MailboxRow): Mailbox {
  return {
    id: idOf(row.id),
    email: row.email,
    name: row.name,
    dailyEmailLimit: row.dailyEmailLimit,
    timezone: row.timezone,
    pausedUntil: row.pausedUntil,
    pauseReason: row.pauseReason,
    skipDates: parseJson<string[]>(row.skipDates, 'a mailbox skipDates'),
    hourlyLimit: row.hourlyLimit,
    rampUp: row.rampUp === null ? null : parseJson<RampUp>(row.rampUp, 'a mailbox rampUp'),
    rampLevel: row.rampLevel,
    rampDayKey: row.rampDayKey,
    provider: row.provider as EmailProvider | null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toCampaign(row: CampaignRow): Campaign {
  return {
    id: idOf(row.id),
    name: row.name,
    status: row.status as CampaignStatus,
    timezone: row.timezone,
    startHour: row.startHour,
    startMinute: row.startMinute,
    endHour: row.endHour,
    endMinute: row.endMinute,
    allowedDays: row.allowedDays,
    delayBetweenEmails: row.delayBetweenEmails,
    jitter: row.jitter,
    maxEmailsPerDay: row.maxEmailsPerDay,
    windowTimezone: row.windowTimezone as WindowTimezone,
    stopOnReply: row.stopOnReply as StopOnReply,
    recipientDomainLimit:
      row.recipientDomainLimit === null
        ? null
        : parseJson<RecipientDomainLimit>(row.recipientDomainLimit, 'a campaign recipientDomainLimit'),
    providerMatching: row.providerMatching as ProviderMatching,
    skipDates: parseJson<string[]>(row.skipDates, 'a campaign skipDates'),
    mailboxIds: parseJson<string[]>(row.mailboxIds, 'a campaign mailboxIds'),
    steps: parseJson<Step[]>(row.steps, 'a campaign steps'),
    variables: parseJson<string[]>(row.variables, 'a campaign variables'),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    settingsVersion: row.settingsVersion,
    nextSlotAt: row.nextSlotAt,
    lastMailboxId: row.lastMailboxId === null ? null : idOf(row.lastMailboxId),
    externalId: row.externalId,
  }
}

export function toLead(row: LeadRow): Lead {
  return {
    id: idOf(row.id),
    campaignId: idOf(row.campaignId),
    email: row.email,
    firstName: row.firstName,
    lastName: row.lastName,
    company: row.company,
    variables: parseJson<Record<string, string>>(row.variables, 'a lead variables'),
    timezone: row.timezone,
    country: row.country,
    status: row.status as LeadStatus,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toItem(row: ItemRow): QueueItem {
  return {
    id: idOf(row.id),
    campaignId: idOf(row.campaignId),
    leadId: idOf(row.leadId),
    step: row.step,
    status: row.status as QueueStatus,
    scheduledAt: row.scheduledAt,
    attempts: row.attempts,
    mailboxId: row.mailboxId === null ? null : idOf(row.mailboxId),
    references: parseJson<string[]>(row.references, 'a queue item references'),
    messageId: row.messageId,
    threadSubject: row.threadSubject,
    windowKey: row.windowKey,
    variantId: row.variantId,
    leaseToken: row.leaseToken,
    leaseUntil: row.leaseUntil,
    lastError: row.lastError,
    sentAt: row.sentAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toSendLogEntry(row: SendLogRow): SendLogEntry {
  return {
    campaignId: idOf(row.campaignId),
    leadId: idOf(row.leadId),
    step: row.step,
    mailboxId: idOf(row.mailboxId),
    messageId: row.messageId,
    to: row.to,
    subject: row.subject,
    sentAt: row.sentAt,
  }
}

/** The columns of a campaign's settings, from the model (for create and update). */
export function campaignSettings(input: {
  name?: string
  externalId?: string | null
  timezone?: string
  startHour?: number
  startMinute?: number
  endHour?: number
  endMinute?: number
  allowedDays?: string
  delayBetweenEmails?: number
  jitter?: number
  maxEmailsPerDay?: number
  windowTimezone?: WindowTimezone
  stopOnReply?: StopOnReply
  recipientDomainLimit?: RecipientDomainLimit | null
  providerMatching?: ProviderMatching
  skipDates?: readonly string[]
  mailboxIds?: readonly string[]
  steps?: readonly Step[]
  variables?: readonly string[]
}): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  const scalars = [
    'name',
    'timezone',
    'startHour',
    'startMinute',
    'endHour',
    'endMinute',
    'allowedDays',
    'delayBetweenEmails',
    'jitter',
    'maxEmailsPerDay',
    'windowTimezone',
    'stopOnReply',
    'providerMatching',
  ] as const
  for (const key of scalars) if (input[key] !== undefined) data[key] = input[key]
  if (input.externalId !== undefined) data.externalId = input.externalId
  if (input.recipientDomainLimit !== undefined)
    data.recipientDomainLimit = jsonOrNull(input.recipientDomainLimit)
  if (input.mailboxIds !== undefined) data.mailboxIds = JSON.stringify(input.mailboxIds)
  if (input.skipDates !== undefined) data.skipDates = JSON.stringify(input.skipDates)
  if (input.steps !== undefined) data.steps = JSON.stringify(input.steps)
  if (input.variables !== undefined) data.variables = JSON.stringify(input.variables)
  return data
}
