/**
 * Every option of `createScheduler` is checked when it enters: a wrong type or a value outside its
 * documented range is an `invalid-input` error naming the option, never a `TypeError` or a value
 * taken as it is (issue #12). `createSmtpTransport`'s options: transport-smtp's own options test.
 */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError, type MailcadenceError } from '../src/errors.js'
import { INPUT_LIMITS } from '../src/model/limits.js'
import { resolveOptions, type SchedulerOptions } from '../src/scheduler/options.js'
import type { Store } from '../src/store.js'

function refused(fn: () => unknown, field: string): MailcadenceError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(isMailcadenceError(caught, 'invalid-input'), `${field}: got ${String(caught)}`).toBe(true)
  const error = caught as MailcadenceError
  expect(error.field).toBe(field)
  expect(error.message.startsWith(`${field}: `)).toBe(true)
  return error
}

const store = {} as Store
const transport = { send: async () => ({}) }
const base: SchedulerOptions = { store, transport }
const resolve = (extra: Record<string, unknown>) => resolveOptions({ ...base, ...extra } as SchedulerOptions)

describe('createScheduler options', () => {
  it('applies the defaults', () => {
    const o = resolveOptions(base)
    expect(o).toMatchObject({
      mode: 'live',
      concurrency: 10,
      maxSendsPerCampaignPerTick: 1,
      lookahead: 30_000,
      lease: 300_000,
      leaseRecovery: 'fail',
      retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 3_600_000 },
      interval: 30_000,
    })
  })

  it('carries the holidays calendar, none by default', () => {
    const holidays = (_country: string, _year: number) => ['2026-12-25']
    expect(resolveOptions(base).holidays).toBeUndefined()
    expect(resolve({ holidays }).holidays).toBe(holidays)
  })

  it('refuses a missing store or transport, and options that are not an object', () => {
    refused(() => resolveOptions(undefined as unknown as SchedulerOptions), 'options')
    refused(() => resolveOptions({} as SchedulerOptions), 'store')
    refused(() => resolve({ store: 'db' }), 'store')
    refused(() => resolveOptions({ store }), 'transport')
    expect(resolveOptions({ store, mode: 'shadow' }).mode).toBe('shadow')
    refused(() => resolve({ transport: {} }), 'transport.send')
    refused(() => resolve({ transport: { send: () => {}, verify: 1 } }), 'transport.verify')
    refused(() => resolve({ transport: { send: () => {}, close: 'x' } }), 'transport.close')
  })

  it.each<[string, unknown]>([
    ['mode', 'dry-run'],
    ['mode', null],
    ['beforeSend', true],
    ['clock', Date],
    ['random', 0.5],
    ['leaseRecovery', 'retry-later'],
    ['leaseRecovery', Symbol('retry')],
    ['campaignFilter', 'c1'],
    ['unsubscribeUrl', 'https://x.test/u'],
    ['onEvent', {}],
    ['logger', console.log],
    ['retry', 5],
    ['holidays', ['2026-12-25']],
    ['holidays', null],
  ])('refuses %s = %p', (name, value) => {
    refused(() => resolve({ [name]: value }), name)
  })

  it('names the member at fault of a clock, a logger, retry and campaignFilter', () => {
    refused(() => resolve({ clock: { now: () => new Date(), sleep: 5 } }), 'clock.sleep')
    refused(() => resolve({ clock: { now: new Date() } }), 'clock.now')
    refused(() => resolve({ logger: { info: () => {}, warn: () => {}, error: () => {} } }), 'logger.debug')
    refused(() => resolve({ campaignFilter: ['c1', 5] }), 'campaignFilter[1]')
    refused(() => resolve({ campaignFilter: ['c1', ''] }), 'campaignFilter[1]')
    refused(() => resolve({ retry: { maxAttempts: 0 } }), 'retry.maxAttempts')
    refused(() => resolve({ retry: { baseDelayMs: -1 } }), 'retry.baseDelayMs')
    refused(() => resolve({ retry: { maxDelayMs: 1e15 } }), 'retry.maxDelayMs')
  })

  it.each<[string, number, number]>([
    ['concurrency', 1, INPUT_LIMITS.concurrency],
    ['maxSendsPerCampaignPerTick', 1, INPUT_LIMITS.maxSendsPerCampaignPerTick],
    ['lookahead', 0, INPUT_LIMITS.lookahead],
    ['lease', 1, INPUT_LIMITS.lease],
    ['interval', 1, INPUT_LIMITS.interval],
  ])('bounds %s to [%d, %d]', (name, min, max) => {
    expect(resolve({ [name]: min })).toHaveProperty(name, min)
    expect(resolve({ [name]: max })).toHaveProperty(name, max)
    for (const bad of [min - 1, max + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', 10n, null]) {
      refused(() => resolve({ [name]: bad }), name)
    }
  })

  it('bounds retry delays so a retry date stays valid', () => {
    const at = { baseDelayMs: INPUT_LIMITS.retryDelay, maxDelayMs: INPUT_LIMITS.retryDelay, maxAttempts: 100 }
    expect(resolve({ retry: at }).retry).toEqual(at)
    refused(() => resolve({ retry: { baseDelayMs: INPUT_LIMITS.retryDelay + 1 } }), 'retry.baseDelayMs')
    refused(() => resolve({ retry: { maxAttempts: 101 } }), 'retry.maxAttempts')
  })

  it('copies a campaignFilter list, and keeps a predicate', () => {
    const ids = ['c1']
    const o = resolve({ campaignFilter: ids })
    ids.push('c2')
    expect(o.campaignFilter).toEqual(['c1'])
    const predicate = () => true
    expect(resolve({ campaignFilter: predicate }).campaignFilter).toBe(predicate)
  })
})
