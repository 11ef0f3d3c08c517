import { addressIn, first, parseFields } from './fields.js'

/** The fields of an RFC 5965 `message/feedback-report` part a sender acts on. */
export interface FeedbackReport {
  /** `Feedback-Type`, lower case. */
  feedbackType: string
  /** `Original-Rcpt-To` (§3.2, optional; Yahoo and Microsoft JMRP redact or omit it). */
  originalRecipient: string | null
  /** `User-Agent` (§3.1, required but not always sent). */
  reporter: string | null
}

/**
 * Reads the machine-readable part of an ARF report (RFC 5965 §3): header-like fields, the first
 * block only (`Feedback-Type` and `User-Agent` required, `Original-Rcpt-To` optional).
 */
export function parseFeedbackReport(text: string): FeedbackReport {
  const fields = parseFields(text)
  return {
    feedbackType: (first(fields, 'feedback-type') ?? '').trim().toLowerCase(),
    originalRecipient: addressIn(first(fields, 'original-rcpt-to')),
    reporter: first(fields, 'user-agent'),
  }
}

/**
 * Feedback types that are a recipient's complaint (RFC 5965 §7.3 registry): `abuse`, `fraud`,
 * `virus`, and `other` (free-form, still a recipient's report). `not-spam` is the opposite;
 * `auth-failure` (RFC 6591) is a DMARC/DKIM failure report about authentication, sent by a
 * receiver, not a person: neither counts against the lead.
 */
export function isComplaint(feedbackType: string): boolean {
  return ['abuse', 'fraud', 'virus', 'other'].includes(feedbackType)
}
