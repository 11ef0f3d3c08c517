/**
 * Provider matching's lookups (scheduler/providers.ts): the cache, lookups shared while in flight,
 * failures and timeouts counted as `other` and asked again later, the `resolveMx` and
 * `resolveMxTimeout` options.
 */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../src/errors.js'
import { resolveOptions, type SchedulerOptions } from '../src/scheduler/options.js'
import { createProviderResolver, type ResolveMx } from '../src/scheduler/providers.js'
import type { Store } from '../src/store.js'

const silent = { debug() {}, info() {}, warn() {}, error() {} }

function resolverWith(resolveMx: ResolveMx | false, timeoutMs = 50) {
  let nowMs = Date.parse('2026-01-05T08:00:00Z')
  const resolver = createProviderResolver({ resolveMx, timeoutMs, now: () => nowMs, logger: silent })
  return { resolver, advance: (ms: number) => (nowMs += ms) }
}

describe('provider lookups', () => {
  it('looks a domain up once, shared while in flight, and keeps the answer', async () => {
    const calls: string[] = []
    const { resolver, advance } = resolverWith(async (domain) => {
      calls.push(domain)
      return ['aspmx.l.google.com']
    })
    const answers = await Promise.all([resolver.lookup('acme.test'), resolver.lookup('acme.test')])
    expect(answers).toEqual([
      { provider: 'google', known: true },
      { provider: 'google', known: true },
    ])
    advance(3_600_000)
    expect(await resolver.lookup('acme.test')).toEqual({ provider: 'google', known: true })
    expect(calls).toEqual(['acme.test'])
    // A day later the answer is asked again.
    advance(24 * 3_600_000)
    await resolver.lookup('acme.test')
    expect(calls).toEqual(['acme.test', 'acme.test'])
  })

  it('needs no lookup for the large consumer domains, and none at all with resolveMx false', async () => {
    const calls: string[] = []
    const { resolver } = resolverWith(async (domain) => {
      calls.push(domain)
      return []
    })
    expect(await resolver.lookup('gmail.com')).toEqual({ provider: 'google', known: true })
    expect(calls).toEqual([])
    const off = resolverWith(false).resolver
    expect(await off.lookup('hotmail.com')).toEqual({ provider: 'microsoft', known: true })
    expect(await off.lookup('acme.test')).toEqual({ provider: 'other', known: true })
  })

  it('counts a failure, a timeout, a throw or an odd answer as other, and asks again five minutes later', async () => {
    let calls = 0
    const answers: Array<() => Promise<string[]>> = [
      () => Promise.reject(new Error('SERVFAIL')),
      () => new Promise<string[]>(() => {}),
      () => {
        throw new Error('sync throw')
      },
      () => Promise.resolve('aspmx.l.google.com' as unknown as string[]),
      () => Promise.resolve([42] as unknown as string[]),
    ]
    for (const answer of answers) {
      const { resolver, advance } = resolverWith(() => {
        calls++
        return answer()
      }, 20)
      calls = 0
      expect(await resolver.lookup('acme.test')).toEqual({ provider: 'other', known: false })
      expect(await resolver.lookup('acme.test')).toEqual({ provider: 'other', known: false })
      expect(calls).toBe(1)
      advance(5 * 60_000)
      await resolver.lookup('acme.test')
      expect(calls).toBe(2)
    }
  })

  it('lookupAll looks each distinct domain up once, a few at a time', async () => {
    let inFlight = 0
    let most = 0
    const calls: string[] = []
    const { resolver } = resolverWith(async (domain) => {
      calls.push(domain)
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 2))
      inFlight--
      return domain.startsWith('m') ? ['x.mail.protection.outlook.com'] : ['mx.other.test']
    })
    const domains = Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'm' : 'o'}${i % 20}.test`)
    const found = await resolver.lookupAll([...domains, 'gmail.com'])
    expect(calls.sort()).toEqual([...new Set(domains)].sort())
    expect(most).toBeLessThanOrEqual(8)
    expect(found.get('m1.test')).toBe('microsoft')
    expect(found.get('o2.test')).toBe('other')
    expect(found.get('gmail.com')).toBe('google')
  })
})

describe('the resolveMx options', () => {
  const base: SchedulerOptions = { store: {} as Store, transport: { send: async () => ({}) } }
  const refusedField = (extra: Record<string, unknown>) => {
    try {
      resolveOptions({ ...base, ...extra } as SchedulerOptions)
    } catch (error) {
      return isMailcadenceError(error, 'invalid-input') ? error.field : String(error)
    }
    return null
  }

  it('accepts a function, false or nothing; refuses anything else naming the option', () => {
    expect(refusedField({ resolveMx: async () => [] })).toBeNull()
    expect(refusedField({ resolveMx: false })).toBeNull()
    expect(refusedField({})).toBeNull()
    for (const bad of [true, 'dns', 0, null, {}]) expect(refusedField({ resolveMx: bad })).toBe('resolveMx')
    for (const bad of [0, -1, 1.5, 60_001, '3000'])
      expect(refusedField({ resolveMxTimeout: bad })).toBe('resolveMxTimeout')
    expect(refusedField({ resolveMxTimeout: 500 })).toBeNull()
  })
})
