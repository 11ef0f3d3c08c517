import { MailcadenceError } from '@mailcadence/core'
import { isComplaint, parseFeedbackReport } from './arf.js'
import { parseDeliveryStatus, reportedMessageIdOf } from './dsn.js'
import { addressIn, first, headerBlockOf, parseFields } from './fields.js'
import { autoSignal, isMailSystemSender, linkedIdsOfHeaders } from './headers.js'
import { messageIdsIn, normaliseMessageId, uniqueIds } from './message-ids.js'
import { hasAutomaticReplySubject, isOutOfOffice } from './ooo.js'
import { dayOfDateHeader, returnDateOf } from './ooo-date.js'
import { asksToUnsubscribe } from './opt-out.js'
import { type ParsedMessage, parseMessage } from './parse.js'
import { ownText } from './quote.js'
import { readTextBounce, recipient } from './text-bounce.js'
import type { Classification, ClassificationBase, DeliveryRecipient } from './types.js'

/**
 * Classifies one inbound message (the raw RFC 5322 bytes, as IMAP `FETCH BODY[]` returns them).
 * Pure: no clock, no network; a message that cannot be parsed is `unknown`, never an error.
 *
 * Rules, first match wins:
 * 1. an RFC 5965 ARF report → `complaint` (or `unknown` for `not-spam`/`auth-failure` reports);
 * 2. an RFC 3464 DSN → `bounce` if any recipient failed, else `delay` if any is delayed, else
 *    (a success notice) `auto-reply`;
 * 3. `X-Failed-Recipients` (Exim, Gmail) → `bounce`;
 * 4. a qmail, Yahoo, Exim or common NDR text from a mail-system sender → `bounce` or `delay`;
 * 5. an automatic-message header or an automatic-reply subject → `out-of-office` when it says the
 *    person is away, else `auto-reply`;
 * 6. a message with a sender → `unsubscribe` when its own text asks for it, else `reply`;
 * 7. `unknown`.
 *
 * @throws MailcadenceError `invalid-input` naming `raw` when it is not a string, Buffer or Uint8Array.
 */
export async function classifyMessage(raw: string | Buffer | Uint8Array): Promise<Classification> {
  const source = toSource(raw)
  let message: ParsedMessage
  try {
    message = await parseMessage(source)
  } catch {
    return {
      kind: 'unknown',
      messageId: null,
      from: null,
      subject: null,
      linkedMessageIds: [],
      rule: 'unparsable',
    }
  }
  const base = baseOf(message)
  return (
    complaintOf(message, base) ??
    deliveryReportOf(message, base) ??
    failedRecipientsOf(message, base) ??
    textBounceOf(message, base) ??
    automaticOf(message, base) ??
    personalOf(message, base)
  )
}

function toSource(raw: unknown): Buffer | string {
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) return raw
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  throw new MailcadenceError(
    'invalid-input',
    'raw: must be the raw message as a string, a Buffer or a Uint8Array',
    {
      field: 'raw',
    },
  )
}

function baseOf(message: ParsedMessage): ClassificationBase {
  const messageId = first(message.headers, 'message-id')
  return {
    messageId: messageId === null ? null : (messageIdsIn(messageId)[0] ?? normaliseMessageId(messageId)),
    from: addressIn(first(message.headers, 'from')),
    subject: message.subject === '' ? null : message.subject,
    linkedMessageIds: linkedIdsOfHeaders(message.headers),
    rule: '',
  }
}

/** The base with the original message's ID (from a report's returned copy) linked after the headers' own. */
function withOriginal(base: ClassificationBase, copy: string | null, rule: string): ClassificationBase {
  const original = copy === null ? [] : messageIdsIn(first(parseFields(headerBlockOf(copy)), 'message-id'))
  return { ...base, linkedMessageIds: uniqueIds([...base.linkedMessageIds, ...original]), rule }
}

/** The returned message or its headers inside a report (RFC 3464 §2, RFC 5965 §2 item 3, RFC 6533). */
function originalCopyOf(message: ParsedMessage): string | null {
  const copy = message.parts.find((part) =>
    ['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers'].includes(
      part.contentType,
    ),
  )
  return copy?.text ?? null
}

function complaintOf(message: ParsedMessage, base: ClassificationBase): Classification | null {
  const part = message.parts.find((candidate) => candidate.contentType === 'message/feedback-report')
  if (part === undefined) return null
  const copy = originalCopyOf(message)
  const report = parseFeedbackReport(part.text)
  if (!isComplaint(report.feedbackType)) {
    return { kind: 'unknown', ...withOriginal(base, copy, `arf-${report.feedbackType || 'untyped'}`) }
  }
  const copyTo = copy === null ? null : addressIn(first(parseFields(headerBlockOf(copy)), 'to'))
  return {
    kind: 'complaint',
    ...withOriginal(base, copy, 'arf'),
    feedbackType: report.feedbackType,
    originalRecipient: report.originalRecipient ?? copyTo,
    reporter: report.reporter,
  }
}

function deliveryReportOf(message: ParsedMessage, base: ClassificationBase): Classification | null {
  const part = message.parts.find(
    (candidate) =>
      candidate.contentType === 'message/delivery-status' ||
      candidate.contentType === 'message/global-delivery-status',
  )
  if (part === undefined) return null
  const recipients = parseDeliveryStatus(part.text)
  const copied = withOriginal(base, originalCopyOf(message), 'dsn')
  const reported = messageIdsIn(reportedMessageIdOf(part.text))
  const linked = { ...copied, linkedMessageIds: uniqueIds([...copied.linkedMessageIds, ...reported]) }
  const failed = recipients.filter((recipient) => recipient.action === 'failed')
  if (failed.length > 0)
    return { kind: 'bounce', ...linked, severity: severityOfAll(failed), recipients: failed }
  const delayed = recipients.filter((recipient) => recipient.action === 'delayed')
  if (delayed.length > 0) return { kind: 'delay', ...linked, recipients: delayed }
  return { kind: 'auto-reply', ...linked, rule: 'dsn-success' }
}

function severityOfAll(recipients: readonly DeliveryRecipient[]): 'hard' | 'soft' {
  return recipients.some((recipient) => recipient.severity === 'hard') ? 'hard' : 'soft'
}

/**
 * `X-Failed-Recipients` (Exim adds it to every bounce, Gmail to its own): the addresses that failed
 * permanently; their reasons are taken from the text when it is a format `readTextBounce` knows.
 */
function failedRecipientsOf(message: ParsedMessage, base: ClassificationBase): Classification | null {
  const header = (message.headers.get('x-failed-recipients') ?? []).join(',')
  const addresses = header
    .split(',')
    .map((address) => addressIn(address))
    .filter((address): address is string => address !== null)
  if (addresses.length === 0) return null
  const text = readTextBounce(message.text)
  const recipients = addresses.map(
    (address) =>
      text?.recipients.find((recipient) => recipient.finalRecipient === address) ??
      readFailed(address, text?.recipients.length === 1 ? text.recipients[0]!.diagnosticCode : null),
  )
  const linked = withOriginal(base, text?.originalCopy ?? originalCopyOf(message), 'x-failed-recipients')
  return { kind: 'bounce', ...linked, severity: severityOfAll(recipients), recipients }
}

function readFailed(address: string, diagnostic: string | null): DeliveryRecipient {
  return recipient(address, diagnostic, 'failed')
}

function textBounceOf(message: ParsedMessage, base: ClassificationBase): Classification | null {
  if (!isMailSystemSender(message.headers)) return null
  const bounce = readTextBounce(message.text)
  if (bounce === null) return null
  const linked = withOriginal(base, bounce.originalCopy ?? originalCopyOf(message), `${bounce.format}-text`)
  if (bounce.kind === 'delay') return { kind: 'delay', ...linked, recipients: bounce.recipients }
  return {
    kind: 'bounce',
    ...linked,
    severity: severityOfAll(bounce.recipients),
    recipients: bounce.recipients,
  }
}

function automaticOf(message: ParsedMessage, base: ClassificationBase): Classification | null {
  const signal = autoSignal(message.headers) ?? (hasAutomaticReplySubject(message.subject) ? 'subject' : null)
  if (signal === null) return null
  const text = ownText(message.text)
  if (!isOutOfOffice(message.subject, text)) return { kind: 'auto-reply', ...base, rule: signal }
  const written = dayOfDateHeader(first(message.headers, 'date'))
  return { kind: 'out-of-office', ...base, rule: signal, returnDate: returnDateOf(text, written) }
}

function personalOf(message: ParsedMessage, base: ClassificationBase): Classification {
  if (base.from === null) return { kind: 'unknown', ...base, rule: 'no-sender' }
  if (asksToUnsubscribe(ownText(message.text))) return { kind: 'unsubscribe', ...base, rule: 'own-text' }
  return { kind: 'reply', ...base, rule: 'person' }
}
