import { type Attachment, simpleParser } from 'mailparser'
import { type Fields, unfold } from './fields.js'

/** What the classifier reads of a message, taken from mailparser's result once. */
export interface ParsedMessage {
  headers: Fields
  /** Decoded `Subject`, '' when none. */
  subject: string
  /** The readable text: the text/plain part, else mailparser's text of the HTML part. */
  text: string
  /** `multipart/report`'s `report-type` parameter (RFC 6522 §3), lower case, when the message is one. */
  reportType: string | null
  /** Non-text parts a report is made of, decoded as UTF-8 text, with their lower-case content type. */
  parts: readonly { contentType: string; text: string }[]
}

/** Part types a report carries (RFC 3464, RFC 6533, RFC 5965, RFC 6522). */
const REPORT_PARTS = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/feedback-report',
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
])

/**
 * Parses with mailparser: `keepDeliveryStatus` so the DSN part stays a part of its own instead of
 * being merged into the text; no HTML generated from text and no links, since only text is read.
 */
export async function parseMessage(raw: Buffer | string): Promise<ParsedMessage> {
  const mail = await simpleParser(raw, {
    keepDeliveryStatus: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    checksumAlgo: false,
  })
  const headers = new Map<string, string[]>()
  for (const { key, line } of mail.headerLines) {
    if (key === '') continue
    const value = unfold(line.slice(line.indexOf(':') + 1))
    headers.set(key, [...(headers.get(key) ?? []), value])
  }
  const contentType = headers.get('content-type')?.[0] ?? ''
  const reportType = /^\s*multipart\/report\b/i.test(contentType)
    ? (/report-type\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1] ?? '').toLowerCase()
    : null
  return {
    headers,
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    reportType,
    parts: mail.attachments.filter(isReportPart).map((part) => ({
      contentType: part.contentType.toLowerCase(),
      text: part.content.toString('utf8'),
    })),
  }
}

function isReportPart(part: Attachment): boolean {
  return REPORT_PARTS.has(part.contentType.toLowerCase())
}
