import type { SendErrorLike } from '../transport.js'

/**
 * What to do after a failed send, decided from the SMTP reply code (RFC 5321), the enhanced
 * status code (RFC 3463) and the network error code:
 *
 * - `retry`: temporary (4xx, network trouble, a full mailbox `5.2.2`): the item waits and tries again.
 * - `bounce`: the address is bad (`5.1.x`): the lead is marked bounced and the address suppressed.
 * - `fail`: any other permanent answer: this item fails, the lead is kept.
 * - `pause-mailbox`: the sending mailbox is the problem (authentication, connection refused,
 *   policy or throttling `4.7.x`/`5.7.x`): the mailbox is paused for `pauseMs`, the item goes back
 *   to pending without spending an attempt, and the lead is kept.
 *
 * `fault` marks what the guards (policy/guards.ts) count as a failed send of the mailbox besides
 * permanent refusals: it could not log in (`authentication`), could not reach its server
 * (`connection`), or the server refused it permanently for policy (`policy`, `5.7.x`). Temporary
 * answers (greylisting, throttling `4.7.x`, `421`) have none.
 */
export type SendFailure =
  | { action: 'retry'; detail: string; fault?: 'connection' }
  | { action: 'bounce'; detail: string }
  | { action: 'fail'; detail: string }
  | {
      action: 'pause-mailbox'
      detail: string
      pauseMs: number
      fault?: 'authentication' | 'connection' | 'policy'
    }

const NETWORK_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'ECONNRESET',
  'EPIPE',
  'EDNS',
  'EPROTOCOL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
])
/** Network codes that say the server could not be reached at all (not a connection lost mid-way). */
const UNREACHABLE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'EDNS', 'ENOTFOUND', 'EAI_AGAIN'])

const MINUTE = 60_000

/**
 * Reads the RFC 3463 code `x.y.z` of a server reply. It must follow the reply code (`550 5.1.1`,
 * `550-5.1.1`) or open the text, and agree with the reply code's class: a `d.d.d` elsewhere in
 * the text (an IP address, a version) is not one.
 */
export function enhancedStatus(response: string | undefined): string | null {
  if (!response) return null
  const match = /(?:^|\s)(?:([245])\d\d[ -])?([245])\.(\d{1,3})\.(\d{1,3})(?=$|[\s,;:.)])/.exec(response)
  if (!match || (match[1] !== undefined && match[1] !== match[2])) return null
  if (match[1] === undefined && match.index !== 0) return null
  return `${match[2]}.${match[3]}.${match[4]}`
}

export function classifySendError(error: unknown): SendFailure {
  const e = (
    typeof error === 'object' && error !== null ? error : { message: String(error) }
  ) as SendErrorLike
  const response = e.response ?? e.message ?? ''
  const detail = describe(e)
  const basic = typeof e.responseCode === 'number' ? e.responseCode : basicCodeOf(response)
  const enhanced = enhancedStatus(response)
  const [cls, subject] = enhanced ? enhanced.split('.') : []

  if (e.code === 'EAUTH' || basic === 535 || basic === 534 || basic === 530) {
    return { action: 'pause-mailbox', detail, pauseMs: 60 * MINUTE, fault: 'authentication' }
  }
  if (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message ?? '')) {
    return { action: 'pause-mailbox', detail, pauseMs: 15 * MINUTE, fault: 'connection' }
  }
  if (subject === '7' && (cls === '4' || cls === '5')) {
    // Policy or throttling (Gmail 421 4.7.x, 550 5.7.26, Outlook 5.7.515): the sender is the
    // problem, not the lead. Temporary answers pause briefly, permanent ones for longer.
    if (cls === '4') return { action: 'pause-mailbox', detail, pauseMs: 15 * MINUTE }
    return { action: 'pause-mailbox', detail, pauseMs: 6 * 60 * MINUTE, fault: 'policy' }
  }
  if (basic === 421) return { action: 'pause-mailbox', detail, pauseMs: 15 * MINUTE }
  if (enhanced === '5.2.2' || cls === '4') return { action: 'retry', detail }
  if (cls === '5' && subject === '1') return { action: 'bounce', detail }
  if (basic !== null && basic >= 400 && basic < 500) return { action: 'retry', detail }
  if (basic === 550 || basic === 551 || basic === 553) {
    // Without an enhanced code, 550/551/553 at RCPT mean the mailbox does not exist.
    return enhanced ? { action: 'fail', detail } : { action: 'bounce', detail }
  }
  if (basic !== null && basic >= 500) return { action: 'fail', detail }
  if (e.code && UNREACHABLE_CODES.has(e.code)) return { action: 'retry', detail, fault: 'connection' }
  if (e.code && NETWORK_CODES.has(e.code)) return { action: 'retry', detail }
  // Unknown errors (a bug in a custom transport, a thrown string): retry, bounded by maxAttempts.
  return { action: 'retry', detail }
}

function basicCodeOf(response: string): number | null {
  const match = /^([245]\d\d)\b/.exec(response.trim())
  return match ? Number(match[1]) : null
}

/** A one-line description for logs and `lastError`: the server's answer, never credentials. */
function describe(e: SendErrorLike): string {
  const text = (e.response ?? e.message ?? 'unknown error').replace(/[\r\n]+/g, ' ').slice(0, 500)
  return e.code && !text.includes(e.code) ? `${e.code}: ${text}` : text
}
