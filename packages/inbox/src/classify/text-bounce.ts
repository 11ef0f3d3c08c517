import { categoryOf, severityOf, statusOf } from './dsn.js'
import type { DeliveryRecipient } from './types.js'

/**
 * Bounces written as plain text instead of an RFC 3464 report. They come with `Return-Path: <>` like
 * a vacation message does; what tells them apart is their fixed wording, which this module knows
 * for the MTAs that still send them.
 */

export type TextBounceFormat = 'qmail' | 'yahoo' | 'exim' | 'exim-delay' | 'generic'

export interface TextBounce {
  format: TextBounceFormat
  /** `delay` for a warning that delivery is still being tried (Exim's), else `bounce`. */
  kind: 'bounce' | 'delay'
  recipients: DeliveryRecipient[]
  /** The returned copy of the original message (headers first), when the bounce includes one. */
  originalCopy: string | null
}

/**
 * Where the returned copy starts: qmail's QSBMF (cr.yp.to/proto/qsbmf.txt) and Yahoo's
 * "--- Below this line is a copy of the message.", Yahoo's older "--- Original message follows.",
 * Exim's "------ This is a copy of the message, including all the headers. ------", and the
 * "Original message headers:" block of Exchange's text NDRs.
 */
const COPY_SEPARATORS = [
  /^-+ ?Below this line is a copy of the message\.?.*$/im,
  /^-+ ?Original message follows\.?.*$/im,
  /^-+ This is a copy of the message, including all the headers\. -+.*$/im,
  /^Original message headers:.*$/im,
  /^-+ ?(?:Original|Returned|Undelivered) message ?-*.*$/im,
]

/**
 * The wording that identifies each format (first match wins):
 * - qmail-send: "Hi. This is the qmail-send program at …" (QSBMF §2);
 * - Yahoo: "Sorry, we were unable to deliver your message to the following address." or the older
 *   "Message from yahoo.com. Unable to deliver message to the following address(es).";
 * - Exim (bounce_message_text default): "A message that you sent could not be delivered to one or
 *   more of its recipients"; its delay warning (warn_message_file default): "has not yet been
 *   delivered to one or more of its recipients";
 * - generic: the common NDR sentences of Exchange, Sendmail and hosted mail ("Delivery has failed to
 *   these recipients", "The following message to <…> was undeliverable", "Delivery to the following
 *   recipient(s) failed", "I'm sorry to have to inform you that your message could not be delivered").
 */
const FORMATS: readonly (readonly [TextBounceFormat, RegExp])[] = [
  ['qmail', /This is the qmail-send program/i],
  ['yahoo', /unable to deliver (?:your )?message to the following address/i],
  ['exim-delay', /has not yet been delivered to one or more of its\s+recipients/i],
  ['exim', /could not be delivered to one or more of its\s+recipients/i],
  [
    'generic',
    /delivery has failed to these recipients|was undeliverable|delivery to the following recipients? failed|your message could not be delivered|permanent(?:ly)? (?:fatal )?errors?\b.*\bdeliver|undeliverable mail|mail delivery failed/i,
  ],
]

/** Reads a text bounce; null when the text has none of the known wordings. */
export function readTextBounce(text: string): TextBounce | null {
  const format = FORMATS.find(([, pattern]) => pattern.test(text))?.[0]
  if (format === undefined) return null
  const { notice, originalCopy } = splitCopy(text)
  const kind = format === 'exim-delay' ? 'delay' : 'bounce'
  const action = kind === 'delay' ? 'delayed' : 'failed'
  const paragraphs =
    format === 'exim' || format === 'exim-delay' ? eximRecipients(notice) : angleRecipients(notice)
  const recipients = paragraphs.map(({ address, diagnostic }) => recipient(address, diagnostic, action))
  return { format, kind, recipients, originalCopy }
}

function splitCopy(text: string): { notice: string; originalCopy: string | null } {
  let cut: RegExpExecArray | null = null
  for (const separator of COPY_SEPARATORS) {
    const match = separator.exec(text)
    if (match && (cut === null || match.index < cut.index)) cut = match
  }
  if (cut === null) return { notice: text, originalCopy: null }
  const rest = text.slice(cut.index + cut[0].length).replace(/^(?:[ \t]*\r?\n)+/, '')
  return { notice: text.slice(0, cut.index), originalCopy: rest === '' ? null : rest }
}

interface Paragraph {
  address: string
  diagnostic: string | null
}

/** qmail and Yahoo: a `<address>:` line, then the remote host's answer up to a blank line (QSBMF §3). */
function angleRecipients(notice: string): Paragraph[] {
  const found: Paragraph[] = []
  const pattern = /^<([^<>\s]+@[^<>\s]+)>:?[ \t]*(.*)$((?:\r?\n[ \t]*\S.*$)*)/gm
  for (const match of notice.matchAll(pattern)) {
    const diagnostic = `${match[2]} ${match[3]}`.replace(/\s+/g, ' ').trim()
    found.push({ address: match[1]!.toLowerCase(), diagnostic: diagnostic === '' ? null : diagnostic })
  }
  return found
}

/** Exim: each address on its own line indented by two spaces, its reason indented further below it. */
function eximRecipients(notice: string): Paragraph[] {
  const found: Paragraph[] = []
  const pattern = /^ {2}<?([^<>\s]+@[^<>\s]+?)>?[ \t]*$((?:\r?\n {3,}\S.*$)*)/gm
  for (const match of notice.matchAll(pattern)) {
    const diagnostic = (match[2] ?? '').replace(/\s+/g, ' ').trim()
    found.push({ address: match[1]!.toLowerCase(), diagnostic: diagnostic === '' ? null : diagnostic })
  }
  return found
}

/** A recipient in the same shape as a DSN's, its status read from the remote server's answer. */
export function recipient(address: string, diagnostic: string | null, action: string): DeliveryRecipient {
  const status = statusOf(null, diagnostic)
  return {
    finalRecipient: address,
    originalRecipient: null,
    action,
    status,
    diagnosticCode: diagnostic,
    severity: severityOf(status, action),
    category: categoryOf(status),
  }
}
