/** What an inbound message is, as far as a sender acting on it needs to know. */
export type ClassificationKind =
  /** A person answered. */
  | 'reply'
  /** A machine answered (RFC 3834 auto-response, a ticket acknowledgement, a success DSN). */
  | 'auto-reply'
  /** A machine answered that the person is away; `returnDate` when the text gives one. */
  | 'out-of-office'
  /** A delivery failed (RFC 3464 DSN, `X-Failed-Recipients`, a qmail/Exim/Yahoo text bounce). */
  | 'bounce'
  /** A delivery is late and still being retried (`Action: delayed`, Exim's delay warning). */
  | 'delay'
  /** A recipient reported the message as spam (RFC 5965 ARF). */
  | 'complaint'
  /** A person answered asking to be removed, in their own words (quoted text does not count). */
  | 'unsubscribe'
  /** Nothing to act on: unparsable, no sender, or a report that is not a complaint. */
  | 'unknown'

/** Soft: may deliver later (4.x.x, 5.2.2 mailbox full). Hard: the address will not work (other 5.x.x). */
export type BounceSeverity = 'hard' | 'soft'

/**
 * The subject of an RFC 3463 enhanced status code (`X.1.X` address, `X.2.X` mailbox, …), so a host
 * can tell a bad address from a policy block (`5.7.x`: the sending side is at fault, not the lead).
 */
export type StatusCategory =
  | 'address'
  | 'mailbox'
  | 'system'
  | 'network'
  | 'protocol'
  | 'content'
  | 'policy'
  | 'other'

/** One recipient of a delivery report (an RFC 3464 per-recipient block, or what a text bounce says). */
export interface DeliveryRecipient {
  /** `Final-Recipient` (lower-cased address, type prefix removed), or the address a text bounce names. */
  finalRecipient: string | null
  /** `Original-Recipient`, when given. */
  originalRecipient: string | null
  /** `Action`, lower case (`failed`, `delayed`, `delivered`, `relayed`, `expanded`). */
  action: string
  /** The enhanced status code (`5.1.1`), from `Status` or read from the diagnostic; null if none. */
  status: string | null
  /** `Diagnostic-Code` without its type prefix (`550 5.1.1 User unknown`), unfolded. */
  diagnosticCode: string | null
  severity: BounceSeverity
  category: StatusCategory
}

/** What every classification carries. */
export interface ClassificationBase {
  /** The inbound message's own `Message-ID`, with angle brackets; the key for idempotent handling. */
  messageId: string | null
  /** The `From` address, lower case. */
  from: string | null
  /** The decoded `Subject`. */
  subject: string | null
  /**
   * Message-IDs this message refers to, angle brackets included, most specific first:
   * `In-Reply-To`, every `References` entry (newest first), the original message inside a DSN or ARF
   * report. No duplicates.
   */
  linkedMessageIds: string[]
  /** Which rule decided, e.g. `dsn`, `auto-submitted`, `qmail-text-bounce`: for logs and debugging. */
  rule: string
}

export type Classification =
  | (ClassificationBase & { kind: 'reply' | 'auto-reply' | 'unsubscribe' | 'unknown' })
  | (ClassificationBase & {
      kind: 'out-of-office'
      /** The day the person says they are back (`YYYY-MM-DD`), or null when the text gives none. */
      returnDate: string | null
    })
  | (ClassificationBase & {
      kind: 'bounce'
      /** Hard when any failed recipient is hard. */
      severity: BounceSeverity
      /** The failed recipients (delayed ones of the same report are left out). */
      recipients: DeliveryRecipient[]
    })
  | (ClassificationBase & { kind: 'delay'; recipients: DeliveryRecipient[] })
  | (ClassificationBase & {
      kind: 'complaint'
      /** `Feedback-Type`, lower case (`abuse`, `fraud`, `virus`, `other`). */
      feedbackType: string
      /** `Original-Rcpt-To`, else the `To` of the reported message: the person who complained. */
      originalRecipient: string | null
      /** `User-Agent` of the report (`Yahoo!-Mail-Feedback/2.0`, …), when given. */
      reporter: string | null
    })
