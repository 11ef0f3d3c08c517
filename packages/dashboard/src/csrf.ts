/**
 * CSRF protection without sessions: a signed double-submit cookie.
 *
 * A page sets a random nonce in an `HttpOnly`, `SameSite=Strict` cookie (once per browser) and
 * puts `HMAC-SHA256(secret, nonce)` in a hidden field of each action's form. A POST is accepted
 * only when the field matches the HMAC of the cookie it came with. Another site can neither read
 * the cookie nor compute the HMAC without the secret (so even a cookie planted from a sibling
 * subdomain does not help it), and `SameSite=Strict` keeps browsers from sending the cookie on a
 * cross-site POST in the first place. The secret is the `secret` option, or a random one made per
 * dashboard (then tokens last as long as the process, and processes behind one load balancer need
 * the same `secret`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

const COOKIE = 'mc_csrf'
const NONCE = /^[A-Za-z0-9_-]{43}$/

export interface Csrf {
  /** The token for this request's forms, and a `set-cookie` value when the browser has no nonce yet. */
  issue(request: Request, path: string): { token: string; setCookie: string | null }
  /** Whether `token` (from the form) matches this request's cookie. */
  verify(request: Request, token: string | null): boolean
}

export function createCsrf(secret: string | Uint8Array | undefined): Csrf {
  const key = secret ?? randomBytes(32)
  const sign = (nonce: string) => createHmac('sha256', key).update(nonce).digest('base64url')
  return {
    issue(request, path) {
      const existing = nonceOf(request)
      if (existing) return { token: sign(existing), setCookie: null }
      const nonce = randomBytes(32).toString('base64url')
      const secure = new URL(request.url).protocol === 'https:' ? '; Secure' : ''
      return {
        token: sign(nonce),
        setCookie: `${COOKIE}=${nonce}; Path=${path}; HttpOnly; SameSite=Strict${secure}`,
      }
    },
    verify(request, token) {
      const nonce = nonceOf(request)
      if (!nonce || !token) return false
      const expected = Buffer.from(sign(nonce))
      const given = Buffer.from(token)
      return given.length === expected.length && timingSafeEqual(given, expected)
    },
  }
}

function nonceOf(request: Request): string | null {
  for (const pair of (request.headers.get('cookie') ?? '').split(';')) {
    const [name, ...rest] = pair.trim().split('=')
    const value = rest.join('=')
    if (name === COOKIE && NONCE.test(value)) return value
  }
  return null
}
