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
    parts: withInlineCopy(
      raw,
      reportType,
      mail.attachments.filter(isReportPart).map((part) => ({
        contentType: part.contentType.toLowerCase(),
        text: part.content.toString('utf8'),
      })),
    ),
  }
}

type Part = ParsedMessage['parts'][number]

/**
 * mailparser merges a `message/rfc822` part marked `Content-Disposition: inline` (Microsoft's JMRP
 * reports, some DSNs) into the text and keeps only a few of its headers, losing the Message-ID a
 * report is matched by. Such a part is identity-encoded (RFC 2046 §5.2.1 allows only 7bit, 8bit
 * or binary), so its headers can be read from the raw message directly.
 */
function withInlineCopy(raw: Buffer | string, reportType: string | null, parts: Part[]): Part[] {
  if (reportType === null || parts.some((part) => COPY_TYPES.has(part.contentType))) return parts
  const source = typeof raw === 'string' ? raw : raw.toString('utf8')
  const header = /^content-type:[ \t]*(message\/(?:rfc822|global))\b.*$/im.exec(source)
  if (header === null) return parts
  const afterHeader = source.slice(header.index)
  const body = /\r?\n[ \t]*\r?\n/.exec(afterHeader)
  if (body === null) return parts
  const copy = afterHeader.slice(body.index + body[0].length)
  return [...parts, { contentType: header[1]!.toLowerCase(), text: copy }]
}

const COPY_TYPES = new Set([
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
])

function isReportPart(part: Attachment): boolean {
  return REPORT_PARTS.has(part.contentType.toLowerCase())
}
