/**
 * The copies of stored records handed to callers: fresh model objects (and `Date`s), so no
 * internal object ever leaks and a caller's change never reaches the store.
 */
import type { Campaign, Lead, Mailbox, QueueItem, SendLogEntry, Step } from '../index.js'
import type { ItemRecord, LeadRecord } from './state.js'

export function copyDate(d: Date): Date
export function copyDate(d: Date | null): Date | null
export function copyDate(d: Date | null): Date | null {
  return d === null ? null : new Date(d.getTime())
}

function dateOf(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

export function copySteps(steps: readonly Step[]): Step[] {
  // Variants and the autoWinner rule are objects of their own: copied too, so no caller shares them.
  return steps.map((s) =>
    s.variants === undefined && s.autoWinner === undefined
      ? { ...s }
      : {
          ...s,
          ...(s.variants ? { variants: s.variants.map((v) => ({ ...v })) } : {}),
          ...(s.autoWinner ? { autoWinner: { ...s.autoWinner } } : {}),
        },
  )
}

export function copyMailbox(m: Mailbox): Mailbox {
  // The stored mailbox holds only model fields, so a spread plus fresh dates is a full copy.
  return {
    ...m,
    skipDates: [...m.skipDates],
    rampUp: m.rampUp === null ? null : { ...m.rampUp },
    pausedUntil: copyDate(m.pausedUntil),
    createdAt: copyDate(m.createdAt),
    updatedAt: copyDate(m.updatedAt),
  }
}

export function copyCampaign(c: Campaign): Campaign {
  // Same as mailboxes: a spread plus copies of the arrays, steps and dates, which stays a full
  // copy if scalar settings are added to the model.
  return {
    ...c,
    mailboxIds: [...c.mailboxIds],
    steps: copySteps(c.steps),
    variables: [...c.variables],
    skipDates: [...c.skipDates],
    recipientDomainLimit: c.recipientDomainLimit === null ? null : { ...c.recipientDomainLimit },
    createdAt: copyDate(c.createdAt),
    updatedAt: copyDate(c.updatedAt),
    nextSlotAt: copyDate(c.nextSlotAt),
  }
}

export function copyLead(l: LeadRecord): Lead {
  return {
    id: l.id,
    campaignId: l.campaignId,
    email: l.email,
    firstName: l.firstName,
    lastName: l.lastName,
    company: l.company,
    variables: { ...l.variables },
    timezone: l.timezone,
    country: l.country,
    status: l.status,
    createdAt: new Date(l.createdAt),
    updatedAt: new Date(l.updatedAt),
  }
}

export function copyItem(i: ItemRecord): QueueItem {
  return {
    id: i.id,
    campaignId: i.campaignId,
    leadId: i.lead.id,
    step: i.step,
    status: i.status,
    scheduledAt: new Date(i.scheduledAt),
    attempts: i.attempts,
    mailboxId: i.mailboxId,
    windowKey: i.windowKey,
    references: i.references.slice(),
    messageId: i.messageId,
    threadSubject: i.threadSubject,
    variantId: i.variantId,
    leaseToken: i.leaseToken,
    leaseUntil: dateOf(i.leaseUntil),
    lastError: i.lastError,
    sentAt: dateOf(i.sentAt),
    createdAt: new Date(i.createdAt),
    updatedAt: new Date(i.updatedAt),
  }
}

/** The send-log row of a sent item (see `CampaignRecord.sendLog`). */
export function copySendLogEntry(i: ItemRecord): SendLogEntry {
  return {
    campaignId: i.campaignId,
    leadId: i.lead.id,
    step: i.step,
    mailboxId: i.mailboxId ?? '',
    messageId: i.messageId ?? '',
    to: i.sentTo ?? '',
    subject: i.sentSubject ?? '',
    sentAt: new Date(i.sentAt ?? 0),
  }
}
