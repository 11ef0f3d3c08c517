import type { ImapFlowOptions } from 'imapflow'

/** The secrets of a connection: never written to a log, an error or an event. */
export function secretsOf(options: ImapFlowOptions | undefined): string[] {
  const auth = options?.auth
  if (!auth) return []
  return [auth.pass, auth.accessToken].filter((s): s is string => typeof s === 'string' && s.length > 0)
}

/** A word of base64 long enough to be a SASL response (`AHVzZXIAcHc=` is `\0user\0pw`). */
const BASE64_WORD = /[A-Za-z0-9+/]{8,}={0,2}/g

/**
 * Whether `word` is base64 of a SASL response, whoever's credentials it carries: PLAIN
 * (`authzid\0user\0pass`) or XOAUTH2 / OAUTHBEARER (`…\x01auth=Bearer …\x01\x01`). Checked by
 * shape, so the user name (or authzid) need not be known and an ordinary word is left alone.
 */
function isSaslBlob(word: string): boolean {
  if (word.length % 4 !== 0) return false
  const text = Buffer.from(word, 'base64').toString('latin1')
  return text.split('\0').length === 3 || text.includes('\x01auth=')
}

/**
 * A one-line description of an IMAP error without credentials. Built from the fields imapflow
 * sets (code, the server's response text) rather than the error object, which may hold the
 * command as sent (an `AUTHENTICATE PLAIN` carries the password, base64-encoded). Each secret, raw
 * and base64-encoded, and every base64 SASL response are masked, and only then is the text cut to
 * 500 characters (cut first, a secret on the edge would leave its first characters behind).
 */
export function sanitizeError(
  error: unknown,
  secrets: readonly string[],
): { message: string; code: string | undefined } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    message?: unknown
    code?: unknown
    responseText?: unknown
    serverResponseCode?: unknown
    authenticationFailed?: unknown
  }
  const code = typeof e.code === 'string' ? e.code : undefined
  const parts: string[] = []
  if (e.authenticationFailed === true) parts.push('authentication failed')
  const base = typeof e.message === 'string' ? e.message : String(error)
  if (base && !parts.includes(base.toLowerCase())) parts.push(base)
  if (typeof e.responseText === 'string' && e.responseText && e.responseText !== base)
    parts.push(e.responseText)
  if (typeof e.serverResponseCode === 'string') parts.push(`[${e.serverResponseCode}]`)
  // Whole SASL responses first: a secret masked inside one would leave it no longer base64.
  let message = parts.join(': ').replace(BASE64_WORD, (word) => (isSaslBlob(word) ? '***' : word))
  for (const secret of secrets) {
    for (const form of [secret, Buffer.from(secret).toString('base64')]) {
      message = message.split(form).join('***')
    }
  }
  return { message: message.replace(/\s+/g, ' ').slice(0, 500), code }
}

/**
 * The wait before the next try after `failures` consecutive failures: `base · 2^(failures-1)`,
 * capped at `max`, of which the upper half is random ("equal jitter"), so mailboxes that failed
 * together (one server down) do not all come back in the same second.
 */
export function backoffDelay(failures: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(0, failures - 1), 30))
  return Math.round(ceiling / 2 + (ceiling / 2) * random())
}
