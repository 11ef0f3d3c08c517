/**
 * Headers as they go to nodemailer: the unsubscribe headers kept on one line and DKIM-signed,
 * and the host's own per-message headers checked.
 */
import { describeValue, invalidInput } from '@mailcadence/core/store-kit'
import type { SmtpConnectionOptions } from './transport.js'

const LIST_UNSUBSCRIBE_HEADERS = ['List-Unsubscribe', 'List-Unsubscribe-Post'] as const

/**
 * nodemailer's own default list of signed headers (RFC 4871 §5.5), which leaves out
 * `List-Unsubscribe-Post`. Kept here because nodemailer does not export it.
 */
const NODEMAILER_SIGNED_HEADERS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:' +
  'Content-Transfer-Encoding:Content-ID:Content-Description:Resent-Date:Resent-From:' +
  'Resent-Sender:Resent-To:Resent-Cc:Resent-Message-ID:In-Reply-To:References:List-Id:List-Help:' +
  'List-Unsubscribe:List-Subscribe:List-Post:List-Owner:List-Archive'

/**
 * The connection options with `List-Unsubscribe` and `List-Unsubscribe-Post` in the DKIM signed
 * header list, whatever the host gave (RFC 8058 §4: Gmail and Yahoo offer one-click only when both
 * are signed). Added to the host's `headerFieldNames` (or nodemailer's default) and taken out of
 * its `skipFields`. Options without `dkim` are returned as they are.
 */
export function signUnsubscribeHeaders(connection: SmtpConnectionOptions): SmtpConnectionOptions {
  const dkim = (connection as { dkim?: unknown }).dkim
  if (typeof dkim !== 'object' || dkim === null) return connection
  const { headerFieldNames, skipFields } = dkim as { headerFieldNames?: unknown; skipFields?: unknown }
  const names = fieldList(typeof headerFieldNames === 'string' ? headerFieldNames : NODEMAILER_SIGNED_HEADERS)
  const listed = new Set(names.map((name) => name.toLowerCase()))
  for (const name of LIST_UNSUBSCRIBE_HEADERS) if (!listed.has(name.toLowerCase())) names.push(name)
  const signed: Record<string, unknown> = { ...dkim, headerFieldNames: names.join(':') }
  if (typeof skipFields === 'string') {
    const unsigned = new Set(LIST_UNSUBSCRIBE_HEADERS.map((name) => name.toLowerCase()))
    signed.skipFields = fieldList(skipFields)
      .filter((name) => !unsigned.has(name.toLowerCase()))
      .join(':')
  }
  return { ...connection, dkim: signed } as SmtpConnectionOptions
}

function fieldList(value: string): string[] {
  return value
    .split(':')
    .map((name) => name.trim())
    .filter((name) => name !== '')
}

/** nodemailer's form of a header it must write as it is, neither encoded nor folded. */
type PreparedHeader = { prepared: true; value: string }

/**
 * The message's headers for nodemailer. The unsubscribe headers go as prepared, so nodemailer
 * writes them on one line as they are (its folding of a long `List-Unsubscribe` broke DKIM,
 * nodemailer #1654); `buildMessage` checked them to be ASCII and under 998 characters a line.
 */
export function preparedHeaders(headers: Record<string, string>): Record<string, string | PreparedHeader> {
  const out: Record<string, string | PreparedHeader> = {}
  for (const [name, value] of Object.entries(headers)) {
    const prepared = (LIST_UNSUBSCRIBE_HEADERS as readonly string[]).includes(name)
    out[name] = prepared ? { prepared: true, value } : value
  }
  return out
}

/** Headers mailcadence or the mailer writes: a host header may not replace them. */
const RESERVED = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'dkim-signature',
  'return-path',
  'received',
])

/** RFC 5322 field name: printable ASCII except the colon. */
const FIELD_NAME = /^[!-9;-~]{1,76}$/
const MAX_HOST_HEADERS = 50
const MAX_LINE = 998

/** The host's per-message headers, checked; `invalid-input` naming `headers` (and the header) otherwise. */
export function checkHostHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidInput(
      'headers',
      `must return an object of header names to values, got ${describeValue(value)}`,
    )
  }
  const entries = Object.entries(value)
  if (entries.length > MAX_HOST_HEADERS) {
    throw invalidInput('headers', `returned ${entries.length} headers, more than ${MAX_HOST_HEADERS}`)
  }
  const headers: Record<string, string> = {}
  for (const [name, headerValue] of entries) {
    if (!FIELD_NAME.test(name)) {
      throw invalidInput(
        'headers',
        `${JSON.stringify(name)} is not a header name (printable ASCII, no colon)`,
      )
    }
    if (RESERVED.has(name.toLowerCase())) {
      throw invalidInput(`headers.${name}`, 'is written by mailcadence and cannot be replaced')
    }
    if (typeof headerValue !== 'string') {
      throw invalidInput(`headers.${name}`, `must be a string, got ${describeValue(headerValue)}`)
    }
    if (/[\r\n\0]/.test(headerValue)) throw invalidInput(`headers.${name}`, 'must not contain CR, LF or NUL')
    if (name.length + 2 + headerValue.length > MAX_LINE) {
      throw invalidInput(`headers.${name}`, `makes a header line longer than ${MAX_LINE} characters`)
    }
    headers[name] = headerValue
  }
  return headers
}
