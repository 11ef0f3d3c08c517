import type { InboundAction, InboundKind } from '../inbound/types.js'
import type { GuardFigures, GuardName } from '../policy/guards.js'
import type { RecoveredItem, SkipReason } from '../store.js'

/** Why a campaign did not send in a tick: the store's reservation reasons, and core's own. */
export type TickSkipReason =
  | SkipReason
  | 'outside-window'
  | 'mailbox-paused'
  /** Lead time zones: no window key with a due email is open now (until the first opens). */
  | 'lead-window'
  /**
   * A skip date holds the campaign back: its own (its window would be open), every due key's
   * (a skip date or a holiday of the lead's country), or that of every mailbox not paused.
   */
  | 'skip-date'
  /** The reservation's lease ran out before the transport was called, so it was given back. */
  | 'lease-expired'
  /** A mailbox reached its `hourlyLimit` this clock hour: the email reserved on it was given back. */
  | 'hourly-limit'
  /** The recipient's domain had its `recipientDomainLimit.perDay` first emails today: given back, tomorrow. */
  | 'domain-limit'
  /**
   * Provider matching `'strict'`: the due first emails wait for a mailbox of their recipients'
   * provider (every one is full, paused or absent), until the first may have room.
   */
  | 'provider-wait'

interface SendEventBase {
  at: Date
  campaignId: string
  leadId: string
  itemId: string
  step: number
  mailboxId: string
  messageId: string
}

export type SchedulerEvent =
  /** Sent (in shadow mode: would have been sent; `shadow` is then true). */
  | (SendEventBase & { type: 'sent'; to: string; subject: string; shadow?: true })
  /**
   * `beforeSend` vetoed it: cancelled as `skipped-already-sent`; or, answering `alreadySent`,
   * recorded as sent at `sentAt` (reason `recorded-already-sent`).
   */
  | (SendEventBase & {
      type: 'vetoed'
      to: string
      reason: typeof VETOED | typeof ALREADY_SENT
      sentAt?: Date
    })
  | (SendEventBase & { type: 'failed'; error: string; bounced: boolean })
  | (SendEventBase & { type: 'retried'; error: string; retryAt: Date; attempts: number })
  | { type: 'mailbox-paused'; at: Date; mailboxId: string; until: Date; reason: string }
  | { type: 'skipped'; at: Date; campaignId: string; reason: TickSkipReason; until?: Date }
  | { type: 'recovered'; at: Date; item: RecoveredItem }
  | { type: 'campaign-completed'; at: Date; campaignId: string }
  /** A completion was refused because recovery (or another worker) had taken the item over. */
  | { type: 'lease-lost'; at: Date; campaignId: string; itemId: string }
  /** `applyInbound` changed something (or recorded it): one event per action. */
  | {
      type: 'inbound'
      at: Date
      messageId: string
      kind: InboundKind
      mailboxId?: string
      action: InboundAction
    }
  /** `applyInbound` found no email of ours the message links to: recorded, nothing else. */
  | { type: 'inbound-unmatched'; at: Date; messageId: string; kind: InboundKind; mailboxId?: string }
  /**
   * A step's `autoWinner` picked its winner (now the step's `winner`, persisted on the campaign):
   * leads given no variant yet receive only it.
   */
  | {
      type: 'variant-winner'
      at: Date
      campaignId: string
      step: number
      variantId: string
      probabilityBest: number
    }

  /**
   * A guard (`SchedulerOptions.guards`) paused a mailbox (until resumed; `mailbox-paused` is
   * emitted too) or a campaign (`PAUSED`): `reason` is the `pauseReason` it wrote
   * (`guard: hard bounces 3 of 50 (6.0%) over 7 days, limit 5%`).
   */
  | {
      type: 'guard-tripped'
      at: Date
      guard: GuardName
      /** The mailbox paused, or (`campaignId`) the campaign paused: one of the two. */
      mailboxId?: string
      campaignId?: string
      figures: GuardFigures
      reason: string
    }

/** Why a vetoed email was cancelled. */
export const VETOED = 'skipped-already-sent'
/** A vetoed email `beforeSend` said had already left: recorded as sent, the sequence goes on. */
export const ALREADY_SENT = 'recorded-already-sent'

export interface TickResult {
  sent: number
  failed: number
  retried: number
  /** Emails `beforeSend` vetoed. */
  vetoed: number
  /** Campaigns that could not send, by reason. */
  skipped: Partial<Record<TickSkipReason, number>>
  /** Expired leases recovered at the start of the tick. */
  recovered: number
  /** Campaigns looked at. */
  campaigns: number
  durationMs: number
  /**
   * The earliest instant at which a tick could send something it cannot send now, or null when
   * nothing is waiting. A host can sleep until then instead of polling.
   */
  nextDueAt: Date | null
}
