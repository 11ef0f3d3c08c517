/**
 * The `List-Unsubscribe` header (RFC 2369) for one-click unsubscribe (RFC 8058), built from what
 * the host's `unsubscribeUrl` hook answers and checked before it becomes a header.
 *
 * Checked, not repaired: a URL that is not absolute `https:`, holds a character outside printable
 * ASCII, or makes the header line longer than 998 characters would otherwise be RFC 2047-encoded
 * or folded by the mailer, and no mail client can unsubscribe through that (nodemailer #1654).
 */
import { invalidInput } from '../errors.js'

/**
 * What the `unsubscribeUrl` hook may answer: the one-click `https:` URL, or that URL with a
 * `mailto:` address beside it (`<https://…>, <mailto:…>` in the header), or null for none.
 */
export type UnsubscribeTarget = string | { url: string; mailto?: string | null | undefined }

/** The checked unsubscribe of one message: the header's value and the URL a body may show. */
export interface UnsubscribeHeader {
  /** `List-Unsubscribe`'s value, e.g. `<https://…>, <mailto:…>`. */
  value: string
  /** The one-click `https:` URL (`{{unsubscribeUrl}}` in a step's text or html). */
  url: string
}

/** RFC 5322 caps a header line at 998 characters, the field name and `: ` included. */
const MAX_LINE = 998
const FIELD_PREFIX = 'List-Unsubscribe: '
/** RFC 3986's characters; anything else must be percent-encoded. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/

const FIELD = 'unsubscribeUrl'

/**
 * The header for the hook's answer, or null when it gave none (null, undefined, ''). Throws an
 * `invalid-input` error naming `unsubscribeUrl` for an unusable answer; the message describes the
 * problem without repeating the URL, which carries the lead's unsubscribe token.
 */
export function unsubscribeHeader(answer: unknown): UnsubscribeHeader | null {
  if (answer === null || answer === undefined || answer === '') return null
  let url: unknown
  let mailto: unknown
  if (typeof answer === 'string') url = answer
  else if (typeof answer === 'object' && !Array.isArray(answer)) {
    ;({ url, mailto } = answer as { url?: unknown; mailto?: unknown })
  } else {
    throw invalidInput(FIELD, `must return a URL string, { url, mailto? } or null, got ${typeof answer}`)
  }
  checkUri(FIELD, url, 'https:')
  let value = `<${url}>`
  if (mailto !== undefined && mailto !== null && mailto !== '') {
    checkUri(`${FIELD}.mailto`, mailto, 'mailto:')
    value += `, <${mailto}>`
  }
  if (FIELD_PREFIX.length + value.length > MAX_LINE) {
    throw invalidInput(
      FIELD,
      `makes a List-Unsubscribe header line of ${FIELD_PREFIX.length + value.length} characters, more than ${MAX_LINE}; use a shorter URL`,
    )
  }
  return { value, url }
}

function checkUri(field: string, value: unknown, scheme: 'https:' | 'mailto:'): asserts value is string {
  if (typeof value !== 'string') throw invalidInput(field, `must be a string, got ${typeof value}`)
  const outside = [...value].findIndex((ch) => !URI_CHARACTERS.test(ch))
  if (outside !== -1) {
    throw invalidInput(
      field,
      `has a character outside ASCII URL characters at position ${outside} (spaces, line breaks, quotes, <, > and non-ASCII must be percent-encoded)`,
    )
  }
  if (BAD_PERCENT.test(value)) throw invalidInput(field, 'has a "%" not followed by two hex digits')
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw invalidInput(field, `must be an absolute ${scheme} URL`)
  }
  if (parsed.protocol !== scheme) {
    throw invalidInput(
      field,
      `must be an absolute ${scheme} URL, got a ${JSON.stringify(parsed.protocol)} one`,
    )
  }
  if (scheme === 'https:' && (parsed.username !== '' || parsed.password !== '')) {
    throw invalidInput(field, 'must not carry a user name or password')
  }
  if (scheme === 'mailto:' && !/^[^@?]+@[^@?]+/.test(parsed.pathname)) {
    throw invalidInput(field, 'must name an address (mailto:unsubscribe@example.com)')
  }
}
