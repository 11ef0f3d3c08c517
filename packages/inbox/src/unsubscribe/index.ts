/**
 * One-click unsubscribe (RFC 8058) on the Fetch API: signed links for the scheduler's
 * `unsubscribeUrl`, and a handler that shows a confirmation page on GET (link scanners fetch
 * links; a GET must change nothing) and suppresses the address on POST.
 */
import { type Campaign, emailKey, type Lead, MailcadenceError, type Scheduler } from '@mailcadence/core'
import { maskedAddress, page } from './page.js'
import { signToken, type UnsubscribeSecret, verifyToken } from './token.js'

export type { UnsubscribeClaim, UnsubscribeSecret } from './token.js'

export interface UnsubscribeOptions {
  /** Where suppressions go: `scheduler.suppress(email, reason)`. */
  scheduler: Pick<Scheduler, 'suppress'>
  /**
   * The absolute `https:` URL the handler is mounted at, e.g. `https://acme.test/unsubscribe`.
   * Links are this URL with the token in the `t` query parameter.
   */
  baseUrl: string
  /** Signing keys, newest first: the first signs, every one verifies (keep old ones while their links are out). */
  secrets: readonly UnsubscribeSecret[]
}

export interface Unsubscribe {
  /** The lead's one-click link; pass `unsubscribe.url` as the scheduler's `unsubscribeUrl`. */
  url(lead: Pick<Lead, 'email'>, campaign: Pick<Campaign, 'id'>): string
  /**
   * Answers a request to the link: GET and HEAD a confirmation page (200, nothing changed), POST
   * with `List-Unsubscribe=One-Click` (RFC 8058, or the page's button) suppresses the address and
   * answers 200, a tampered, unknown-key or malformed token 400, other methods 405.
   */
  handle(request: Request): Promise<Response>
}

/** Bodies above this are refused unread: a one-click POST is about 30 bytes. */
const MAX_BODY_BYTES = 16 * 1024
const MIN_KEY_BYTES = 32
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

export function createUnsubscribe(options: UnsubscribeOptions): Unsubscribe {
  const { scheduler, base, keys, signing } = checkOptions(options)

  return {
    url(lead, campaign) {
      const url = new URL(base)
      url.searchParams.set('t', signToken(signing, campaign.id, emailKey(lead.email)))
      return url.href
    },

    async handle(request) {
      const method = request.method.toUpperCase()
      if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return page('method')
      const head = method === 'HEAD'
      const token = new URL(request.url).searchParams.get('t') ?? ''
      const claim = verifyToken(token, keys)
      if ('problem' in claim) return page('invalid', { head })
      const address = maskedAddress(claim.email)
      if (method !== 'POST') return page('confirm', { address, head })
      const form = await readForm(request)
      if (form === 'too-large') return page('too-large')
      if (form?.get('List-Unsubscribe') !== 'One-Click') return page('not-one-click')
      try {
        // Idempotent: suppressing an address already suppressed changes nothing.
        await scheduler.suppress(claim.email, `unsubscribed: one-click link (campaign ${claim.campaignId})`)
      } catch {
        // The store's error may describe its connection: it is not shown to whoever clicked.
        return page('unavailable')
      }
      return page('done', { address })
    },
  }
}

/** The POST body as form fields (urlencoded or multipart), null when it is neither, or too large. */
async function readForm(request: Request): Promise<URLSearchParams | FormData | null | 'too-large'> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > MAX_BODY_BYTES) return 'too-large'
  const bytes = await readAtMost(request, MAX_BODY_BYTES)
  if (bytes === null) return 'too-large'
  const type = (request.headers.get('content-type') ?? '').toLowerCase()
  if (type.startsWith('multipart/form-data')) {
    try {
      return await new Response(bytes, { headers: { 'content-type': type } }).formData()
    } catch {
      return null
    }
  }
  // RFC 8058 names urlencoded; a missing content type is read the same way.
  if (type === '' || type.startsWith('application/x-www-form-urlencoded') || type.startsWith('text/plain')) {
    return new URLSearchParams(new TextDecoder().decode(bytes).trim())
  }
  return null
}

async function readAtMost(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      return null
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

function invalid(field: string, problem: string): MailcadenceError {
  return new MailcadenceError('invalid-input', `${field}: ${problem}`, { field })
}

/** The options checked; error messages name the field and never show a key. */
function checkOptions(options: UnsubscribeOptions) {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object')
  const { scheduler, baseUrl, secrets } = options
  if (typeof scheduler?.suppress !== 'function') {
    throw invalid('scheduler', 'must be a scheduler (an object with suppress(email, reason))')
  }
  if (typeof baseUrl !== 'string') throw invalid('baseUrl', 'must be a string')
  let base: URL
  try {
    base = new URL(baseUrl)
  } catch {
    throw invalid('baseUrl', 'must be an absolute https: URL')
  }
  if (base.protocol !== 'https:') {
    throw invalid(
      'baseUrl',
      `must be an absolute https: URL (RFC 8058), got ${JSON.stringify(base.protocol)}`,
    )
  }
  if (base.username || base.password) throw invalid('baseUrl', 'must not carry a user name or password')
  if (base.hash) throw invalid('baseUrl', 'must not have a #fragment')
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw invalid('secrets', 'must list at least one { id, key }')
  }
  const keys = new Map<string, Uint8Array>()
  secrets.forEach((secret: unknown, i) => {
    const at = `secrets[${i}]`
    if (typeof secret !== 'object' || secret === null) throw invalid(at, 'must be an object { id, key }')
    const { id, key } = secret as { id?: unknown; key?: unknown }
    if (typeof id !== 'string' || !KEY_ID.test(id)) {
      throw invalid(`${at}.id`, 'must be 1 to 32 characters of A-Z, a-z, 0-9, "_" or "-"')
    }
    if (keys.has(id)) throw invalid(`${at}.id`, `repeats the id ${JSON.stringify(id)}`)
    const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key
    if (!(bytes instanceof Uint8Array)) throw invalid(`${at}.key`, 'must be a string or a Uint8Array')
    if (bytes.byteLength < MIN_KEY_BYTES) {
      throw invalid(
        `${at}.key`,
        `must be at least ${MIN_KEY_BYTES} bytes (a random 32-byte key), got ${bytes.byteLength}`,
      )
    }
    // A copy: a caller clearing or reusing its buffer does not change our keys.
    keys.set(id, Uint8Array.from(bytes))
  })
  const first = secrets[0] as UnsubscribeSecret
  const signing = { id: first.id, key: keys.get(first.id) as Uint8Array }
  return { scheduler, base: base.href, keys, signing }
}
