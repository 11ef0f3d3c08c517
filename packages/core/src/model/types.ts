/**
 * The model, in the in-house sender's vocabulary (`startHour`, `allowedDays`,
 * `delayBetweenEmails`, `maxEmailsPerDay`, `dailyEmailLimit`). Ids are strings; instants
 * are `Date`s in UTC.
 */

import type { WindowSpec } from '../policy/calendar.js'

export type CampaignStatus = 'DRAFT' | 'IN_PROGRESS' | 'PAUSED' | 'COMPLETED' | 'CANCELLED'

export type QueueStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled'

/** Where a lead stands in its campaign. Anything but `active` stops its sequence. */
export type LeadStatus = 'active' | 'completed' | 'replied' | 'bounced' | 'suppressed' | 'failed'

export type DayName = 'MON' | 'TUE' | 'WED' | 'THU' | 'FRI' | 'SAT' | 'SUN'

/** One email of a sequence. Step 0 goes first; step n waits `delayDays` after step n−1 was sent. */
export interface Step {
  /** Subject template. Required on step 0; later steps without one reply as `Re: <previous subject>`. */
  subject?: string
  /** Plain-text body template. At least one of `text` and `html` is required. */
  text?: string
  /** HTML body template; variables are HTML-escaped. */
  html?: string
  /** Days to wait after the previous step was sent (fractions allowed). Ignored on step 0. Default 0. */
  delayDays?: number
  /**
   * A/B variants of the step: each lead gets one, chosen by a weighted hash of campaign, lead and
   * step when its email of this step is first reserved, and kept on retries. A variant's `subject`,
   * `text` and `html` replace the step's own where given.
   */
  variants?: StepVariant[]
  /** Picks a winner among `variants` by reply rate, then sends only it to new leads. */
  autoWinner?: AutoWinner
  /**
   * The variant every lead not yet given one receives: set by `autoWinner` when it decides (kept
   * by `updateCampaign` unless the new step sets it, or sets it to null), or by the host.
   */
  winner?: string | null
}

/** One variant of a step (see {@link Step.variants}). */
export interface StepVariant {
  /** Unique within the step: what the queue item and `variantStats` record. */
  id: string
  subject?: string
  text?: string
  html?: string
  /** Relative share of leads, finite and > 0. Default 1. */
  weight?: number
}

/**
 * The rule that ends a test: once one variant's probability of being the best (by reply rate)
 * reaches `confidence` and every variant has at least `minSends` sends, it becomes the step's
 * `winner`.
 */
export interface AutoWinner {
  metric: 'reply'
  /** Sends each variant needs before a winner may be picked. Default 100. */
  minSends?: number
  /** Probability of being the best the winner must reach, in (0.5, 1). Default 0.95. */
  confidence?: number
}

/**
 * The sending window and pace of a campaign, as the seed stores them. The window fields
 * (`timezone`, `startHour`, `startMinute`, `endHour`, `endMinute`, `allowedDays`) are the
 * calendar's {@link WindowSpec}; `timezone` defaults to `UTC`, and a window that crosses midnight
 * belongs to the day it starts on.
 */
export interface CampaignSchedule extends WindowSpec {
  /** Seconds between two sends of this campaign, before jitter. */
  delayBetweenEmails: number
  /** Random spread of the gap: each gap is `delayBetweenEmails × (1 ± jitter)`. In [0, 1). Default 0.2. */
  jitter: number
  /** Most sends per local day of the campaign, across all its mailboxes. */
  maxEmailsPerDay: number
  /**
   * Whose clock the window is read on: `'campaign'` (its `timezone`, the default) or `'lead'` (each
   * lead's own `timezone`, the campaign's for leads without one). `skipDates` are read on the same
   * clock; `maxEmailsPerDay` always counts local days of the campaign's `timezone`.
   */
  windowTimezone: WindowTimezone
  /** Local dates (`YYYY-MM-DD`) on which nothing is sent: holidays and blackout dates. Default none. */
  skipDates: string[]
}

/**
 * A warm-up ramp: on a local day the mailbox may send `min(dailyEmailLimit, start + step × n)`,
 * where `n` counts its earlier local days on which it sent at least `minUtilization` of that day's
 * ramped limit (quiet days, weekends and pauses never make it jump).
 */
export interface RampUp {
  start: number
  step: number
  /** Share of a day's ramped limit that makes the day count, in (0, 1]. Default 0.8. */
  minUtilization: number
}

/** Who runs a domain's mail, from its MX record: what provider matching pairs. */
export type EmailProvider = 'google' | 'microsoft' | 'yahoo' | 'other'

/** See {@link Campaign.providerMatching}. */
export type ProviderMatching = 'off' | 'prefer' | 'strict'

/**
 * At most `perDay` first emails per recipient domain per campaign day, across this campaign
 * (`scope: 'campaign'`) or across every campaign (`'all'`); free-mail domains are exempt unless
 * `exemptFreeMail` is false. Follow-ups are not counted.
 */
export interface RecipientDomainLimit {
  perDay: number
  scope: 'campaign' | 'all'
  exemptFreeMail: boolean
}

/** See {@link CampaignSchedule.windowTimezone}. */
export type WindowTimezone = 'campaign' | 'lead'

/** See {@link CampaignSchedule.stopOnReply}. */
export type StopOnReply = 'lead' | 'domain'

export interface Campaign extends CampaignSchedule {
  id: string
  name: string
  status: CampaignStatus
  /**
   * Whose sequence a reply read from the inbox stops (`scheduler.applyInbound`): `'lead'` (the
   * default) the replier's only; `'domain'` also every active lead of the campaign at the same
   * address domain (colleagues of one company), except free-mail domains (`gmail.com`, …).
   */
  stopOnReply: StopOnReply
  /** First emails per recipient domain per campaign day; null: no limit (the default). */
  recipientDomainLimit: RecipientDomainLimit | null
  /**
   * Whether first emails leave from a mailbox of the recipient's provider: `'off'` (the default),
   * `'prefer'` (one of its provider's when one has room, else any), `'strict'` (wait for one).
   * Recipients of provider `other` leave from any mailbox.
   */
  providerMatching: ProviderMatching
  /** Mailboxes to rotate over, in round-robin order. */
  mailboxIds: string[]
  steps: Step[]
  /** Custom lead variables the templates may use (besides email, firstName, lastName, company). */
  variables: string[]
  createdAt: Date
  updatedAt: Date
  /**
   * Version of the campaign's settings: 1 at creation, one more with each `updateCampaign`
   * (atomically, in the same write). A deferral carries the version it was computed from, so one
   * computed before a change is recognised even when both fall in the same millisecond.
   */
  settingsVersion: number
  /** Pacing: no send of this campaign may be reserved before this instant. Null before the first send. */
  nextSlotAt: Date | null
  /** Rotation cursor: the mailbox that took the campaign's last first-step send. */
  lastMailboxId: string | null
  /** The campaign's id in the system it was imported from, or null. Unique when set. */
  externalId: string | null
}

export interface Mailbox {
  id: string
  email: string
  /** Display name used in From. */
  name: string | null
  /** Most sends per local day, across every campaign using the mailbox. */
  dailyEmailLimit: number
  /** Most sends per clock hour of the mailbox's `timezone`; null: no hourly cap. */
  hourlyLimit: number | null
  /** Warm-up: the daily limit grows from `start` by `step` per well-used day (see {@link RampUp}); null: none. */
  rampUp: RampUp | null
  /**
   * Warm-up progress, kept by core: how many earlier local days reached `rampUp.minUtilization`
   * of their ramped limit (`level`), as of the local day `dayKey` (null before the first).
   */
  rampLevel: number
  rampDayKey: string | null
  /** The mailbox's provider, from its domain's MX record; null until core has looked it up. */
  provider: EmailProvider | null
  /** IANA zone of the mailbox's day (when its counter resets). Default `UTC`. */
  timezone: string
  /** While set and in the future, nothing is sent from this mailbox. */
  pausedUntil: Date | null
  /** Why the mailbox is paused (for example the server's answer). */
  pauseReason: string | null
  /**
   * Local dates (`YYYY-MM-DD`, in the mailbox's `timezone`) on which it sends nothing: its
   * follow-ups wait for the next day, first emails leave from the campaign's other mailboxes.
   */
  skipDates: string[]
  createdAt: Date
  updatedAt: Date
}

export interface Lead {
  id: string
  campaignId: string
  email: string
  firstName: string | null
  lastName: string | null
  company: string | null
  /** Free-form template variables. */
  variables: Record<string, string>
  /** The lead's IANA time zone, for campaigns that send in each lead's hours; null: unknown. */
  timezone: string | null
  /** The lead's country (ISO 3166-1 alpha-2, upper case), for holiday calendars; null: unknown. */
  country: string | null
  status: LeadStatus
  createdAt: Date
  updatedAt: Date
}

export interface QueueItem {
  id: string
  campaignId: string
  leadId: string
  /** 0-based index into the campaign's steps. */
  step: number
  status: QueueStatus
  /** Not to be sent before this instant. */
  scheduledAt: Date
  /** Failed attempts so far. */
  attempts: number
  /** The mailbox it must leave from (set for follow-ups, sticky per lead), or null for any. */
  mailboxId: string | null
  /** Message-IDs of the earlier emails of this lead's thread, oldest first. */
  references: string[]
  /** The Message-ID, fixed when the send is reserved. */
  messageId: string | null
  /** Subject the thread started with, so follow-ups can reply as `Re: …`. */
  threadSubject: string | null
  /** The lead's window key (`windowKeyOf(lead)`), copied to each of its items: see `ReserveRequest.windowKeys`. */
  windowKey: string
  /**
   * The step variant this item sends (see `Step.variants`), fixed by core when the item is first
   * reserved and written by the store from the completion (`Completion.variantId`); null or absent
   * before that and for steps without variants.
   */
  variantId?: string | null
  leaseToken: string | null
  leaseUntil: Date | null
  /** The last error, or why it was failed or cancelled. */
  lastError: string | null
  sentAt: Date | null
  createdAt: Date
  updatedAt: Date
}

export interface QueueStats {
  pending: number
  sending: number
  sent: number
  failed: number
  cancelled: number
  /** Earliest `scheduledAt` among pending items, or null. */
  nextScheduledAt: Date | null
}

// ---------------------------------------------------------------------------------------------
// Inputs

export interface MailboxInput {
  email: string
  name?: string | null
  dailyEmailLimit: number
  /** Most sends per clock hour of the mailbox's zone. Default none. */
  hourlyLimit?: number | null
  /** Warm-up ramp (`minUtilization` defaults to 0.8). Default none. */
  rampUp?: { start: number; step: number; minUtilization?: number } | null
  timezone?: string
  /** Local dates (`YYYY-MM-DD`) on which the mailbox sends nothing. Default none. */
  skipDates?: string[]
}

export interface CampaignInput {
  name: string
  timezone?: string
  startHour?: number
  startMinute?: number
  endHour?: number
  endMinute?: number
  allowedDays?: string
  /** `'campaign'` (default) or `'lead'`: see {@link CampaignSchedule.windowTimezone}. */
  windowTimezone?: WindowTimezone
  /** Local dates (`YYYY-MM-DD`) on which the campaign sends nothing. Default none. */
  skipDates?: string[]
  /** `'lead'` (default) or `'domain'`: see {@link CampaignSchedule.stopOnReply}. */
  stopOnReply?: StopOnReply
  /** See {@link Campaign.recipientDomainLimit}; `scope` defaults to `'campaign'`, `exemptFreeMail` to true. */
  recipientDomainLimit?: { perDay: number; scope?: 'campaign' | 'all'; exemptFreeMail?: boolean } | null
  /** See {@link Campaign.providerMatching}. Default `'off'`. */
  providerMatching?: ProviderMatching
  delayBetweenEmails?: number
  jitter?: number
  maxEmailsPerDay?: number
  mailboxIds: string[]
  steps: Step[]
  /**
   * Custom variables the templates use besides the built-in `email`, `firstName`, `lastName`
   * and `company`. Declaring them lets a template typo be caught when the campaign is created.
   */
  variables?: string[]
}

/** What may change on a campaign after creation. */
export type CampaignUpdate = Partial<Omit<CampaignInput, 'steps'>> & { steps?: Step[] }

export interface LeadInput {
  email: string
  firstName?: string | null
  lastName?: string | null
  company?: string | null
  /** Extra template variables (strings). */
  variables?: Record<string, string>
  /** IANA time zone (`America/New_York`): with `windowTimezone: 'lead'`, the window is read on it. */
  timezone?: string | null
  /** ISO 3166-1 alpha-2 country (`PL`): the `holidays` calendar the lead follows. */
  country?: string | null
}

export interface AddLeadsResult {
  added: number
  /** Addresses already in the campaign (or repeated in this call), compared case-insensitively. */
  duplicates: number
  invalid: Array<{ email: string; reason: string }>
}
