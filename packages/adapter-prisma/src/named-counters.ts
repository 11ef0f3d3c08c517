/**
 * Named counters (`CounterStore`, table `mailcadence_counters`): core's hourly caps, recipient-domain
 * limits, warm-up and guard figures. Core chooses every key and limit; this only counts, atomically.
 *
 * A claim is one transaction that takes its counters in key order, each with a compare-and-set
 * (`UPDATE … SET count = count + by WHERE key = … AND count <= limit - by`), which also locks the
 * row until the transaction ends; the first counter that has no room rolls the whole transaction
 * back (nothing changed, the result is false). Concurrent claims on shared keys thus queue on the
 * first of them in the same order, so they cannot deadlock on existing rows, and each re-checks its
 * condition on the latest committed count: never past a limit, from one process or many. On SQLite
 * the database takes one writer at a time. A counter's first claim inserts its row (skipped, and
 * the compare-and-set tried again, when a concurrent claim inserted it first; on MySQL the whole
 * transaction is run again then, see `claimOne`).
 */
import type { CounterClaim } from '@mailcadence/core'
import type { CounterRow, Models } from './client.js'
import { insertIfMissing, type Provider } from './provider.js'
import { Rollback, RunAgain, type Runner } from './runner.js'

/** Claims between two sweeps of expired counters (per store). */
export const SWEEP_EVERY = 100
/** Most expired counters one sweep deletes, so a sweep stays short whatever has piled up. */
export const SWEEP_BATCH = 100

/** `CounterStore.claimCounters`, in one transaction: see the module comment. */
export async function claimCounters(
  tx: Models,
  provider: Provider,
  claims: readonly CounterClaim[],
): Promise<boolean> {
  // One order for every claim (JavaScript's, by code units): claims lock shared counters in the
  // same order, so they queue rather than deadlock.
  const sorted = [...claims].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  for (const claim of sorted) {
    if (!(await claimOne(tx, provider, claim))) throw new Rollback(false)
  }
  return true
}

async function claimOne(tx: Models, provider: Provider, claim: CounterClaim): Promise<boolean> {
  const by = claim.by ?? 1
  if (claim.limit !== null && by > claim.limit) return false
  const room = claim.limit === null ? {} : { count: { lte: claim.limit - by } }
  // The counter keeps its latest expiry: one compare-and-set when it already has this one or a
  // later one (the usual case: core claims a key with one expiry), else one that moves it too.
  const keep = await tx.mcCounter.updateMany({
    where: { key: claim.key, expiresAt: { gte: claim.expiresAt }, ...room },
    data: { count: { increment: by } },
  })
  if (keep.count === 1) return true
  const move = await tx.mcCounter.updateMany({
    where: { key: claim.key, expiresAt: { lt: claim.expiresAt }, ...room },
    data: { count: { increment: by }, expiresAt: claim.expiresAt },
  })
  if (move.count === 1) return true
  // No room, or no row yet. A plain read tells which, taking no lock: on MySQL an `INSERT IGNORE`
  // of an existing row would take a shared lock, and two claims upgrading theirs would deadlock.
  const exists = await tx.mcCounter.findUnique({ where: { key: claim.key }, select: { key: true } })
  if (exists === null) {
    const row = { key: claim.key, count: by, expiresAt: claim.expiresAt }
    if (await insertIfMissing(tx.mcCounter, provider, row, { key: claim.key })) return true
    // A concurrent claim inserted it first (the insert waited for it to commit). On MySQL the
    // skipped `INSERT IGNORE` holds a shared lock on the row, and every claim that raced for it
    // upgrading its own would deadlock: start over instead, when the row is there to update.
    if (provider === 'mysql') throw new RunAgain(`counter ${claim.key} was created concurrently`)
  }
  // The row exists: it is full, or a concurrent claim inserted it after the updates above looked.
  // One more compare-and-set decides, on the latest committed row.
  const again = await tx.mcCounter.updateMany({
    where: { key: claim.key, ...room },
    data: { count: { increment: by } },
  })
  if (again.count === 0) return false
  await tx.mcCounter.updateMany({
    where: { key: claim.key, expiresAt: { lt: claim.expiresAt } },
    data: { expiresAt: claim.expiresAt },
  })
  return true
}

/** `CounterStore.releaseCounters`: one off each counter that has any (never below 0). */
export async function releaseCounters(tx: Models, keys: readonly string[]): Promise<void> {
  // One statement per key (a key listed twice loses two, as in the memory store), in the claims'
  // order, so a release and a claim never deadlock.
  for (const key of [...keys].sort()) {
    await tx.mcCounter.updateMany({ where: { key, count: { gt: 0 } }, data: { count: { decrement: 1 } } })
  }
}

/** `CounterStore.readCounters`: every key's count, 0 for a key with no row. */
export async function readCounters(db: Models, keys: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const key of keys) out[key] = 0
  if (keys.length === 0) return out
  const rows = (await db.mcCounter.findMany({
    where: { key: { in: [...new Set(keys)] } },
    select: { key: true, count: true },
  })) as Pick<CounterRow, 'key' | 'count'>[]
  for (const row of rows) out[row.key] = row.count
  return out
}

/**
 * Deletes up to `SWEEP_BATCH` counters that expired at or before `now` (the scheduler's clock): core
 * never reads nor claims them again. Its own short transaction, re-checking the expiry in the
 * delete, so a counter claimed meanwhile with a later expiry stays.
 */
export async function sweepExpiredCounters(tx: Models, now: Date): Promise<number> {
  const expired = (await tx.mcCounter.findMany({
    where: { expiresAt: { lte: now } },
    select: { key: true },
    orderBy: { expiresAt: 'asc' },
    take: SWEEP_BATCH,
  })) as Pick<CounterRow, 'key'>[]
  if (expired.length === 0) return 0
  const deleted = await tx.mcCounter.deleteMany({
    where: { key: { in: expired.map((row) => row.key) }, expiresAt: { lte: now } },
  })
  return deleted.count
}

/**
 * The three `CounterStore` methods on a runner; every `SWEEP_EVERY`th claim of this store also
 * sweeps expired counters, after its own transaction committed.
 */
export function counterMethods(run: Runner, provider: () => Promise<Provider>) {
  let claimsSinceSweep = 0
  return {
    async claimCounters(claims: readonly CounterClaim[], now: Date): Promise<boolean> {
      const kind = await provider()
      const claimed = await run.write('claimCounters', (tx) => claimCounters(tx, kind, claims))
      if (++claimsSinceSweep >= SWEEP_EVERY) {
        claimsSinceSweep = 0
        // Housekeeping only: the claim has committed, so a failed sweep must not fail the call
        // (core would take the claim for lost); the next sweep deletes what this one left.
        await run.write('claimCounters', (tx) => sweepExpiredCounters(tx, now)).catch(() => undefined)
      }
      return claimed
    },
    releaseCounters: (keys: readonly string[], _now: Date): Promise<void> =>
      run.write('releaseCounters', (tx) => releaseCounters(tx, keys)),
    readCounters: (keys: readonly string[]): Promise<Record<string, number>> =>
      run.read('readCounters', (db) => readCounters(db, keys)),
  }
}
