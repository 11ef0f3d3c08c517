/**
 * The counters (`CounterStore`) beyond the contract: eight OS processes claiming the same fresh
 * counters at once (so they also race to create them) never pass a limit and never count half a
 * claim; the sweep of expired counters deletes a bounded batch, and only expired ones.
 */

import { randomInt } from 'node:crypto'
import type { CounterClaim, CounterStore, Store } from '@mailcadence/core'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { SWEEP_BATCH, SWEEP_EVERY } from '../src/sql/counters.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'
import { startClaimWorker, waitFor } from './support/workers.js'

const WORKERS = 8
const ATTEMPTS = 50
const IN_FLIGHT = 4
const HOT_LIMIT = 25

const ready = await databaseAvailable('counters')
const suite = ready ? describe : describe.skip

function counterStore(store: Store): Store & CounterStore {
  if (!store.claimCounters || !store.releaseCounters || !store.readCounters)
    throw new Error('the postgres store lacks the CounterStore methods')
  return store as Store & CounterStore
}

suite('counters', () => {
  let pool: pg.Pool
  const schemas: string[] = []

  beforeAll(() => {
    pool = createTestPool(5)
  })

  afterAll(async () => {
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  it(`${WORKERS} processes claiming one counter never pass its limit, and count all of a claim or none`, {
    timeout: 120_000,
  }, async () => {
    const schema = await freshSchema(pool, 'counters_mp', schemas)
    const store = counterStore(createPostgresStore({ pool, schema }))
    const hot = 'hot'
    const pairs = ['pair-0', 'pair-1']
    const owns = Array.from({ length: WORKERS }, (_, w) => `own-${w}`)
    // The workers wait on this advisory lock once connected, so they start claiming together.
    const barrier: [number, number] = [0x6d63_7463, randomInt(2 ** 31)]
    const gate = await pool.connect()
    try {
      await gate.query('SELECT pg_advisory_lock($1::int, $2::int)', barrier)
      const workers = owns.map((own, w) => {
        const claims = [
          { key: hot, limit: HOT_LIMIT },
          { key: pairs[w % 2]!, limit: 1_000 },
          { key: own, limit: null },
        ]
        // Half the processes name the counters in the opposite order.
        if (w % 2 === 1) claims.reverse()
        return startClaimWorker({
          name: `claimer-${w}`,
          url: DATABASE_URL,
          schema,
          barrier,
          attempts: ATTEMPTS,
          inFlight: IN_FLIGHT,
          claims,
        })
      })
      await waitFor(
        'every worker at the barrier',
        async () => {
          const { rows } = await pool.query(
            `SELECT count(*)::int AS n FROM pg_locks
               WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND NOT granted`,
            barrier,
          )
          return rows[0].n === WORKERS
        },
        90_000,
      )
      await gate.query('SELECT pg_advisory_unlock($1::int, $2::int)', barrier)
      const summaries = await Promise.all(workers.map((w) => w.done))
      console.info(
        `[adapter-postgres] counters: ${WORKERS} processes × ${ATTEMPTS} claims`,
        summaries.map((s) => `${s.name}: ${s.won} won in ${s.ms} ms`).join(', '),
      )
      expect(summaries.map((s) => s.errors)).toEqual(owns.map(() => 0))
      const won = summaries.map((s) => Number(s.won))
      expect(won.reduce((a, b) => a + b, 0)).toBe(HOT_LIMIT)
      expect(summaries.reduce((n, s) => n + Number(s.won) + Number(s.lost), 0)).toBe(WORKERS * ATTEMPTS)
      const counts = await store.readCounters([hot, ...pairs, ...owns])
      expect(counts[hot]).toBe(HOT_LIMIT)
      expect(counts[pairs[0]!]! + counts[pairs[1]!]!).toBe(HOT_LIMIT)
      // Each process's own counter moved exactly with its won claims: no claim counted in part.
      expect(owns.map((own) => counts[own])).toEqual(won)
    } finally {
      // Also when a worker never reached the barrier: the others then run and exit.
      await gate.query('SELECT pg_advisory_unlock_all()')
      gate.release()
    }
  })

  it('sweeps a bounded batch of expired counters, oldest first, and keeps live ones', async () => {
    const schema = await freshSchema(pool, 'counters_sweep', schemas)
    const store = counterStore(createPostgresStore({ pool, schema }))
    const t0 = new Date('2025-01-06T09:00:00Z')
    const minutes = (n: number) => new Date(t0.getTime() + n * 60_000)
    const claim = (key: string, expiresAt: Date): CounterClaim[] => [{ key, limit: null, expiresAt }]
    // SWEEP_BATCH + 30 counters that expire at t0 + 1…130 min, one that lives all day, and claims
    // up to a multiple of SWEEP_EVERY: every sweep so far ran at t0, when none had expired.
    const expiring = SWEEP_BATCH + 30
    for (let i = 0; i < expiring; i++) await store.claimCounters(claim(`old-${i}`, minutes(i + 1)), t0)
    await store.claimCounters(claim('live', minutes(24 * 60)), t0)
    let claimed = expiring + 1
    while (claimed % SWEEP_EVERY !== 0) {
      await store.claimCounters(claim('live', minutes(24 * 60)), t0)
      claimed++
    }
    const rows = async () =>
      (
        await pool.query<{ key: string; count: number }>(
          `SELECT key, count FROM "${schema}".counters ORDER BY expires_at, key`,
        )
      ).rows
    expect(await rows()).toHaveLength(expiring + 1)
    // Until the next sweep, long after every old counter expired: one batch goes, the oldest.
    const later = minutes(6 * 60)
    for (let i = 0; i < SWEEP_EVERY; i++) await store.claimCounters(claim('live', minutes(24 * 60)), later)
    const left = await rows()
    expect(left.map((r) => r.key)).toEqual([
      ...Array.from({ length: expiring - SWEEP_BATCH }, (_, i) => `old-${SWEEP_BATCH + i}`),
      'live',
    ])
    expect(left.at(-1)!.count).toBe(claimed - expiring + SWEEP_EVERY)
    // A swept counter reads 0 and counts again from there.
    expect(await store.readCounters(['old-0'])).toEqual({ 'old-0': 0 })
    expect(await store.claimCounters([{ key: 'old-0', limit: 1, expiresAt: minutes(24 * 60) }], later)).toBe(
      true,
    )
  })
})
