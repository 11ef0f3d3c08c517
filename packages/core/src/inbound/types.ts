/**
 * What comes back from the inbox, as core needs it. Core does not parse mail: a classifier
 * (`classifyMessage` of `@mailcadence/inbox`) turns a raw message into this, and its result is one
 * of these as it is (the shapes are structural).
 */

/** What an inbound message is (the classifier's kinds). */
export type InboundKind =
  | 'reply'
  | 'auto-reply'
  | 'out-of-office'
  | 'bounce'
  | 'delay'
  | 'complaint'
  | 'unsubscribe'
  | 'unknown'

export const INBOUND_KINDS: readonly InboundKind[] = [
  'reply',
  'auto-reply',
  'out-of-office',
  'bounce',
  'delay',
  'complaint',
  'unsubscribe',
  'unknown',
]

/** One recipient of a delivery report, as far as core acts on it. */
export interface InboundRecipient {
  /** The address that failed or is delayed, lower case, or null when the report does not say. */
  finalRecipient: string | null
  /** Hard: the address will not work. Soft: it may later. */
  severity: 'hard' | 'soft'
}

/** An inbound message, classified; see `Scheduler.applyInbound`. */
export interface InboundMessage {
  /**
   * The inbound message's own Message-ID (`<…>`), the key that makes applying it idempotent: at
   * most `INPUT_LIMITS.messageIdLength` characters, one line. Null is refused (`invalid-input`):
   * `ingestMessage` of `@mailcadence/inbox` puts a digest of the raw message here when it has none
   * or a longer one.
   */
  messageId: string | null
  kind: InboundKind
  /**
   * Message-IDs it refers to, most specific first (`In-Reply-To`, `References` newest first, the
   * original inside a report): the first that one of our sends carries decides the match. At most
   * 100 are looked at; ids longer than a header line (998 characters) are none of ours and ignored.
   */
  linkedMessageIds: readonly string[]
  /** `out-of-office`: the day the person is back (`YYYY-MM-DD`), or null/absent when not given. */
  returnDate?: string | null
  /** `bounce`: hard when any failed recipient is hard. Absent: derived from `recipients`. */
  severity?: 'hard' | 'soft'
  /** `bounce` and `delay`: the recipients of the report. */
  recipients?: readonly InboundRecipient[]
  /**
   * `complaint`: who complained, when the report says (often redacted). For the host's records:
   * what is suppressed is the address of the lead the report links to.
   */
  originalRecipient?: string | null
}

/** What applying an inbound message did, one entry per change (and one event each). */
export type InboundAction =
  /** A lead's sequence stopped: the replier (`replied`) or a bouncer (`bounced`). */
  | {
      type: 'stopped'
      campaignId: string
      leadId: string
      email: string
      status: 'replied' | 'bounced'
      /** Pending emails cancelled. */
      cancelled: number
    }
  /**
   * `stopOnReply: 'domain'`: the replier's active colleagues in the campaign (same address domain,
   * not a free-mail one) stopped too, as `completed`.
   */
  | {
      type: 'domain-stopped'
      campaignId: string
      domain: string
      leads: Array<{ leadId: string; email: string }>
      cancelled: number
    }
  /** The address is suppressed in every campaign. */
  | { type: 'suppressed'; email: string; reason: 'bounce' | 'complaint' | 'unsubscribe'; cancelled: number }
  /** The lead's next email moved (or stayed, when it was already later) to `scheduledAt`. */
  | { type: 'postponed'; campaignId: string; leadId: string; itemId: string; step: number; scheduledAt: Date }
  /** Nothing to change (an auto-reply, a delay, a soft bounce, an out-of-office with nothing pending). */
  | { type: 'recorded'; reason: string }

export interface InboundResult {
  messageId: string
  kind: InboundKind
  /**
   * `applied`: matched, recorded now with its actions; `duplicate`: this Message-ID was applied
   * before, nothing done; `unmatched`: it links to no email we sent (yet), nothing done and nothing
   * recorded, so ingesting it again later (once its send is written) may still apply it.
   */
  status: 'applied' | 'duplicate' | 'unmatched'
  /** Whether it links to an email we sent (for a duplicate: whether it did the first time). */
  matched: boolean
  campaignId: string | null
  leadId: string | null
  /** The lead's address, when matched (and not a duplicate). */
  email: string | null
  /** The Message-ID of ours it matched, when matched (and not a duplicate). */
  matchedMessageId: string | null
  actions: InboundAction[]
}

/** Options of `Scheduler.applyInbound`. */
export interface ApplyInboundOptions {
  /** The mailbox it arrived in: for logs and events only (the match is by Message-ID). */
  mailboxId?: string
}
