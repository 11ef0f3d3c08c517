import { afterEach, describe } from 'vitest'
import type { Store } from '../../store.js'
import { contractTests } from './contract/index.js'
import { explainTests } from './explain.js'
import { extremeTests } from './extremes.js'
import { failureTests } from './failures.js'
import { fuzzTests } from './fuzz.js'
import { guardTests } from './guards.js'
import { type ConformanceOptions, createHarness, type MakeStore } from './harness.js'
import { inboxTests } from './inbox.js'
import { invariantTests } from './invariants.js'
import { leadZoneTests } from './lead-zones.js'
import { lifecycleTests } from './lifecycle.js'
import { mailboxLimitTests } from './mailbox-limits.js'
import { providerTests } from './providers.js'
import { rotationTests } from './rotation.js'
import { timingTests } from './timing.js'
import { weekTests } from './week.js'

/**
 * The store conformance suite: what "an adapter works" means. Call it from a vitest test file:
 *
 * ```ts
 * runStoreConformance('postgres', async () => createPostgresStore({ pool, schema: await freshSchema() }))
 * ```
 *
 * `makeStore` is called once per test and must return an empty store; the suite closes it after
 * the test (through `scheduler.close()`). Everything runs through the real scheduler with a fake
 * clock and a recording transport, and asserts the invariants of docs/invariants.md (in the repository).
 *
 * `fuzzing the public API` (needs fast-check, an optional peer dependency) calls `makeStore` once
 * per scenario: fast-check generates sequences of every scheduler call with valid inputs, or valid
 * ones with a hostile value (one property per family: numbers, strings, types, prototype names,
 * dates), ticks with failing sends and a second scheduler, and clock moves across DST changes.
 * Each call must settle in bounded time with a result or a `MailcadenceError` (`invalid-input`
 * naming its `field`, or `not-found`/`invalid-state` the ids or the state explain); each tick's
 * sends must keep the invariants (no duplicate, daily limits, window, pacing, follow-up delays,
 * pauses, suppressions, replies), and past the lease nothing may be left `sending`. Tune it with
 * `fuzzRuns`, `fuzzLength` and `fuzzSeed` (a failure prints its seed and shrunk sequence).
 */
export function runStoreConformance(
  name: string,
  makeStore: MakeStore,
  options: ConformanceOptions = {},
): void {
  describe(`store conformance: ${name}`, { timeout: options.timeout ?? 60_000 }, () => {
    const harness = createHarness(makeStore)
    afterEach(() => harness.cleanup())
    describe('invariants under concurrency', () => invariantTests(harness.env))
    describe('pacing and windows', () => timingTests(harness.env))
    describe('rotation and threads', () => rotationTests(harness.env))
    describe('failures and recovery', () => failureTests(harness.env))
    describe('lifecycle', () => lifecycleTests(harness.env))
    describe('a working week', () => weekTests(harness.env))
    describe('explain() agrees with tick()', () => explainTests(harness.env))
    describe('lead time zones, skip dates and holidays', () => leadZoneTests(harness.env))
    describe('provider matching', () => providerTests(harness.env))
    describe('accepted values at their maximums', () => extremeTests(harness.env))
    describe('what comes back from the inbox', () => inboxTests(harness.env))
    describe('limits that protect mailboxes', () => mailboxLimitTests(harness.env))
    describe('guards: automatic pauses on bounces, complaints and failures', () => guardTests(harness.env))
    describe('fuzzing the public API', () => fuzzTests(makeStore, options))
  })
}

export type { ConformanceOptions, MakeStore }

/**
 * The store contract, method by method: each `Store` method driven directly with hand-built
 * requests (skip reasons in order, compare-and-set limits, candidate order, sticky mailboxes,
 * lease checks, refunds, recovery, stops, reading, copies). Complements `runStoreConformance`,
 * which drives the store through the scheduler. Stores made for a test are closed after it.
 */
export function runStoreContract(name: string, makeStore: MakeStore, options: ConformanceOptions = {}): void {
  describe(`store contract: ${name}`, { timeout: options.timeout ?? 60_000 }, () => {
    const made: Store[] = []
    afterEach(async () => {
      await Promise.all(made.splice(0).map((store) => store.close()))
    })
    contractTests(async () => {
      const store = await makeStore()
      made.push(store)
      return store
    })
  })
}
