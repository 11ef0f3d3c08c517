/**
 * The store contract, method by method, driven directly (not through the scheduler): reservation
 * skip reasons and their order, compare-and-set limits, candidate order, sticky mailboxes,
 * completions and their lease check, refunds, recovery, stopping leads, status changes, reading,
 * copies, and what migrations use (external ids, imported leads, external sends, vetoed sends). `runStoreContract` registers it; every adapter runs it on its real backend.
 */
import type { Store } from '../../../store.js'
import { catalogContract } from './catalog.js'
import { completeContract } from './complete.js'
import { dueContract } from './due.js'
import { createFixtures } from './fixtures.js'
import { importContract } from './import.js'
import { inspectContract } from './inspect.js'
import { lifecycleContract } from './lifecycle.js'
import { limitsContract } from './limits.js'
import { reserveContract } from './reserve.js'
import { variantContract } from './variants.js'
import { windowKeyContract } from './window-keys.js'

/** Registers the contract tests. `makeStore` returns a fresh, empty store each call. */
export function contractTests(makeStore: () => Promise<Store>): void {
  const fixtures = createFixtures(makeStore)
  catalogContract(fixtures)
  reserveContract(fixtures)
  completeContract(fixtures)
  lifecycleContract(fixtures)
  dueContract(fixtures)
  importContract(fixtures)
  inspectContract(fixtures)
  windowKeyContract(fixtures)
  variantContract(fixtures)
  limitsContract(fixtures)
}
