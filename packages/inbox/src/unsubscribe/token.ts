/**
 * Unsubscribe tokens: `<payload>.<signature>`, both base64url. The payload is the JSON array
 * `[version, keyId, campaignId, emailKey]`; the signature is HMAC-SHA256 over a domain label and
 * the payload's text, with the key named by `keyId`. The key id lets keys rotate: the first secret
 * signs, every listed one verifies, so links already in inboxes keep working while their key is
 * listed. Signatures are compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const TOKEN_VERSION = 1

/** A signing key: `id` goes into each token (public), `key` never leaves the process. */
export interface UnsubscribeSecret {
  /** Short public name of the key, `[A-Za-z0-9_-]`, 1 to 32 characters. */
  id: string
  /** At least 32 bytes (a string counts its UTF-8 bytes). */
  key: string | Uint8Array
}

/** What a valid token says: whom to unsubscribe, from which campaign's email. */
export interface UnsubscribeClaim {
  campaignId: string
  /** Core's `emailKey` of the lead's address (trimmed, lower case). */
  email: string
  /** The id of the key that signed it. */
  keyId: string
}

/** Why a token was refused; never carries a key or an expected signature. */
export type TokenProblem = 'malformed' | 'unknown-version' | 'unknown-key' | 'bad-signature'

/** Domain separation: these keys sign nothing else the same way. */
const LABEL = 'mailcadence-unsubscribe:'
/** Longer than any token `sign` makes (ids ≤ 200, addresses ≤ 254), so a huge URL costs nothing. */
const MAX_TOKEN_LENGTH = 2_000
const BASE64URL = /^[A-Za-z0-9_-]+$/

function signature(key: Uint8Array, payload: string): Buffer {
  return createHmac('sha256', key).update(LABEL).update(payload).digest()
}

export function signToken(
  secret: { id: string; key: Uint8Array },
  campaignId: string,
  email: string,
): string {
  const payload = Buffer.from(JSON.stringify([TOKEN_VERSION, secret.id, campaignId, email])).toString(
    'base64url',
  )
  return `${payload}.${signature(secret.key, payload).toString('base64url')}`
}

/** The claim of a token signed by one of `keys`, or the problem with it. */
export function verifyToken(
  token: string,
  keys: ReadonlyMap<string, Uint8Array>,
): UnsubscribeClaim | { problem: TokenProblem } {
  if (token.length > MAX_TOKEN_LENGTH) return { problem: 'malformed' }
  const [payload, mac, ...rest] = token.split('.')
  if (!payload || !mac || rest.length > 0 || !BASE64URL.test(payload) || !BASE64URL.test(mac)) {
    return { problem: 'malformed' }
  }
  const payloadBytes = Buffer.from(payload, 'base64url')
  const given = Buffer.from(mac, 'base64url')
  // Canonical encodings only, so one token has one spelling (no spare bits to vary).
  if (payloadBytes.toString('base64url') !== payload || given.toString('base64url') !== mac) {
    return { problem: 'malformed' }
  }
  let fields: unknown
  try {
    fields = JSON.parse(payloadBytes.toString('utf8'))
  } catch {
    return { problem: 'malformed' }
  }
  if (!Array.isArray(fields) || fields.length < 1) return { problem: 'malformed' }
  if (fields[0] !== TOKEN_VERSION) return { problem: 'unknown-version' }
  const [, keyId, campaignId, email] = fields as unknown[]
  if (fields.length !== 4 || typeof keyId !== 'string' || typeof campaignId !== 'string') {
    return { problem: 'malformed' }
  }
  if (typeof email !== 'string' || campaignId === '' || email === '') return { problem: 'malformed' }
  const key = keys.get(keyId)
  if (!key) return { problem: 'unknown-key' }
  const expected = signature(key, payload)
  // timingSafeEqual needs equal lengths; the length of an HMAC-SHA256 is public anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { problem: 'bad-signature' }
  }
  return { campaignId, email, keyId }
}
