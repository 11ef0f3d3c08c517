import { addressIn, first, parseFields, splitBlocks } from './fields.js'
import type { BounceSeverity, DeliveryRecipient, StatusCategory } from './types.js'

/**
 * RFC 3464 delivery status notifications (and RFC 6533's `message/global-delivery-status`, the
 * same fields in UTF-8): the `message/delivery-status` part is one block of per-message fields,
 * then one block per recipient, separated by blank lines (§2.1). A block is a recipient's when it
 * carries `Final-Recipient` or `Action`, so a report missing the blank line after the per-message
 * block (seen from some Exchange versions) still yields its recipient.
 */
export function parseDeliveryStatus(text: string): DeliveryRecipient[] {
  const recipients: DeliveryRecipient[] = []
  for (const block of splitBlocks(text)) {
    const fields = parseFields(block)
    const finalRecipient = first(fields, 'final-recipient') ?? first(fields, 'x-actual-recipient')
    const rawAction = first(fields, 'action')
    if (finalRecipient === null && rawAction === null) continue
    const diagnosticCode = stripType(first(fields, 'diagnostic-code'))
    const status = statusOf(first(fields, 'status'), diagnosticCode)
    const action =
      (rawAction ?? '')
        .trim()
        .split(/[\s;(]/)[0]
        ?.toLowerCase() || actionOf(status)
    recipients.push({
      finalRecipient: addressIn(finalRecipient),
      originalRecipient: addressIn(first(fields, 'original-recipient')),
      action,
      status,
      diagnosticCode,
      severity: severityOf(status, action),
      category: categoryOf(status),
    })
  }
  return recipients
}

/**
 * `X-Original-Message-ID` among the per-message fields (Gmail writes it; RFC 3464 §3 allows
 * `X-` extension fields): the sent message's ID even when the report returns no copy of it.
 */
export function reportedMessageIdOf(text: string): string | null {
  return first(parseFields(splitBlocks(text)[0] ?? ''), 'x-original-message-id')
}

/** `smtp; 550 …` → `550 …` (RFC 3464 §2.3.6: a diagnostic-type, `;`, the text). */
function stripType(value: string | null): string | null {
  if (value === null) return null
  const text = value.replace(/^\s*[A-Za-z0-9-]+\s*;\s*/, '').trim()
  return text === '' ? null : text
}

const ENHANCED = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)/

/**
 * The RFC 3463 enhanced code: the `Status` field's, unless it is missing or the catch-all `X.0.0`
 * many MTAs write while the diagnostic names the real one (`Status: 5.0.0`, `550 5.1.1 …`): then
 * the diagnostic's, if of the same class. With no enhanced code anywhere, the SMTP reply code's
 * class (`550` → `5.0.0`).
 */
export function statusOf(status: string | null, diagnostic: string | null): string | null {
  const declared = status === null ? null : ENHANCED.exec(status)
  const fromDiagnostic = diagnostic === null ? null : ENHANCED.exec(diagnostic)
  const declaredCode = declared ? `${declared[1]}.${declared[2]}.${declared[3]}` : null
  const diagnosticCode = fromDiagnostic
    ? `${fromDiagnostic[1]}.${fromDiagnostic[2]}.${fromDiagnostic[3]}`
    : null
  if (declaredCode !== null && !declaredCode.endsWith('.0.0')) return declaredCode
  if (diagnosticCode !== null && (declaredCode === null || declaredCode[0] === diagnosticCode[0])) {
    return diagnosticCode
  }
  if (declaredCode !== null) return declaredCode
  const reply = diagnostic === null ? null : /(?<!\d)([245])\d\d(?!\d)/.exec(diagnostic)
  return reply ? `${reply[1]}.0.0` : null
}

function actionOf(status: string | null): string {
  if (status?.startsWith('2')) return 'delivered'
  if (status?.startsWith('4')) return 'delayed'
  return 'failed'
}

/**
 * RFC 3463 §3.1 classes: 4.X.X is persistent-transient, so soft whatever the `Action` says (an MTA
 * that gives up on a 4.4.7 timeout reports `failed`, but the address may well work); 5.X.X is
 * permanent, hence hard, except 5.2.2 "mailbox full", which RFC 3463 §3.3 itself calls a condition
 * that may clear. With no code at all, `failed` is taken at its word (hard).
 */
export function severityOf(status: string | null, action: string): BounceSeverity {
  if (status === null) return action === 'failed' ? 'hard' : 'soft'
  if (status.startsWith('5') && status !== '5.2.2') return 'hard'
  return 'soft'
}

const CATEGORIES: Record<string, StatusCategory> = {
  '1': 'address',
  '2': 'mailbox',
  '3': 'system',
  '4': 'network',
  '5': 'protocol',
  '6': 'content',
  '7': 'policy',
}

/** The RFC 3463 §3 subject sub-code (`5.7.26` → `policy`). */
export function categoryOf(status: string | null): StatusCategory {
  const subject = status?.split('.')[1]
  return (subject !== undefined && CATEGORIES[subject]) || 'other'
}
