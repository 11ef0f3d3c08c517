import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { signToken, verifyToken } from '../../src/unsubscribe/token.js'

const key = randomBytes(32)
const keys = new Map([['k1', key]])
const secret = { id: 'k1', key }
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'

describe('unsubscribe tokens', () => {
  it('round-trips any campaign id and address (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.emailAddress(), (campaignId, email) => {
        const token = signToken(secret, campaignId, email)
        expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
        expect(verifyToken(token, keys)).toEqual({ campaignId, email, keyId: 'k1' })
      }),
    )
  })

  it('refuses every single-character change (property)', () => {
    const token = signToken(secret, 'campaign-1', 'jan@example.com')
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...BASE64URL), (at, ch) => {
        fc.pre(token[at] !== ch)
        const changed = token.slice(0, at) + ch + token.slice(at + 1)
        expect(verifyToken(changed, keys)).toHaveProperty('problem')
      }),
      { numRuns: 500 },
    )
  })

  it('names the problem without a key or expected signature', () => {
    const token = signToken(secret, 'c', 'a@b.test')
    expect(verifyToken(token, new Map([['k2', key]]))).toEqual({ problem: 'unknown-key' })
    expect(verifyToken(token, new Map([['k1', randomBytes(32)]]))).toEqual({ problem: 'bad-signature' })
    expect(verifyToken('x'.repeat(3000), keys)).toEqual({ problem: 'malformed' })
    const v2 = Buffer.from(JSON.stringify([2, 'k1', 'c', 'a@b.test'])).toString('base64url')
    expect(verifyToken(`${v2}.${token.split('.')[1]}`, keys)).toEqual({ problem: 'unknown-version' })
  })
})
