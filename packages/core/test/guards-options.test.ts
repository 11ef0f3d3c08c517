/**
 * The `guards` option of createScheduler: validated when it enters, and what happens on a store
 * without counters (explicit rate guards refused, default ones off with one warning).
 */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../src/errors.js'
import { createMemoryStore } from '../src/memory/index.js'
import { DEFAULT_GUARDS } from '../src/policy/guards.js'
import { createScheduler } from '../src/scheduler/create.js'
import { type Logger, resolveOptions, type SchedulerOptions } from '../src/scheduler/options.js'
import type { Store } from '../src/store.js'

const transport = { send: async () => ({}) }

/** The memory store less its counters. */
function storeWithoutCounters(): Store {
  const { claimCounters: _c, readCounters: _r, releaseCounters: _l, ...rest } = createMemoryStore()
  return rest as Store
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  const noop = () => {}
  return { warnings, debug: noop, info: noop, error: noop, warn: (_obj, msg) => warnings.push(msg ?? '') }
}

function refusedField(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (isMailcadenceError(error, 'invalid-input')) return error.field
    throw error
  }
  return undefined
}

describe('the guards option', () => {
  it('defaults on with the documented thresholds', () => {
    expect(resolveOptions({ store: createMemoryStore(), transport }).guards.settings).toEqual(DEFAULT_GUARDS)
    expect(DEFAULT_GUARDS).toEqual({
      windowDays: 7,
      minSends: 50,
      maxBounceRate: 0.05,
      maxComplaintRate: 0.001,
      maxConsecutiveFailures: 5,
    })
    expect(
      resolveOptions({ store: createMemoryStore(), transport, guards: false }).guards.settings,
    ).toBeNull()
  })

  it('is checked at createScheduler, naming the member', () => {
    const store = createMemoryStore()
    const make = (guards: unknown) => () => createScheduler({ store, transport, guards } as SchedulerOptions)
    expect(refusedField(make({ maxBounceRate: 2 }))).toBe('guards.maxBounceRate')
    expect(refusedField(make({ minSends: -1 }))).toBe('guards.minSends')
    expect(refusedField(make({ windowDays: 'week' }))).toBe('guards.windowDays')
    expect(refusedField(make(7))).toBe('guards')
  })

  it('on a store without counters: explicit rate guards are refused, default ones off with a warning', () => {
    const store = storeWithoutCounters()
    expect(refusedField(() => resolveOptions({ store, transport, guards: {} }))).toBe('guards')
    expect(refusedField(() => resolveOptions({ store, transport, guards: true }))).toBe('guards')
    const logger = recordingLogger()
    const resolved = resolveOptions({ store, transport, logger })
    expect(resolved.guards.settings).toEqual({
      ...DEFAULT_GUARDS,
      maxBounceRate: null,
      maxComplaintRate: null,
    })
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toContain('no counters')
    // Without the rate guards, nothing needs counters.
    const consecutiveOnly = { maxBounceRate: null, maxComplaintRate: null }
    expect(resolveOptions({ store, transport, guards: consecutiveOnly }).guards.settings).toMatchObject({
      maxConsecutiveFailures: 5,
    })
    expect(resolveOptions({ store, transport, guards: false }).guards.settings).toBeNull()
  })

  it('does nothing in shadow mode (nothing is handed to a server)', () => {
    const logger = recordingLogger()
    const resolved = resolveOptions({ store: storeWithoutCounters(), mode: 'shadow', logger })
    expect(resolved.guards.settings).toBeNull()
    expect(logger.warnings).toEqual([])
  })
})
