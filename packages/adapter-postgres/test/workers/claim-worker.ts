/**
 * A worker process for the multi-process counter test: claims the same counters `attempts` times,
 * `inFlight` calls at once, through its own pool. It opens its connections first, then waits on the
 * test's advisory lock (`barrier`), so every process starts claiming at the same moment, racing on
 * counters none of them has created yet.
 *
 * Configured by the WORKER_CONFIG environment variable (JSON, see `ClaimWorkerConfig`). Prints one
 * JSON line `{ "summary": … }` on stdout when done.
 */
import type { Store } from '@mailcadence/core'
import pg from 'pg'
import { createPostgresStore } from '../../src/index.js'

export interface ClaimWorkerConfig {
  name: string
  url: string
  schema: string
  /** The two keys of an advisory lock the test holds until every worker waits on it. */
  barrier: [number, number]
  attempts: number
  inFlight: number
  /** The claims of every call, in this order (the store must lock in its own order anyway). */
  claims: Array<{ key: string; limit: number | null }>
}

const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}') as ClaimWorkerConfig
const pool = new pg.Pool({ connectionString: config.url, max: config.inFlight })
const store = createPostgresStore({ pool, schema: config.schema })
if (store.claimCounters === undefined) throw new Error('the postgres store has no counters')
const claimCounters: NonNullable<Store['claimCounters']> = store.claimCounters.bind(store)
// Far enough ahead that no sweep ever touches the counters of the test.
const expiresAt = new Date(Date.now() + 86_400_000)
const claims = config.claims.map((c) => ({ ...c, expiresAt }))

const counts = { won: 0, lost: 0, errors: 0 }
await Promise.all(Array.from({ length: config.inFlight }, () => pool.query('SELECT 1')))
await pool.query(
  'SELECT pg_advisory_lock_shared($1::int, $2::int), pg_advisory_unlock_shared($1::int, $2::int)',
  [...config.barrier],
)
let next = 0
async function lane(): Promise<void> {
  while (next < config.attempts) {
    next++
    try {
      if (await claimCounters(claims, new Date())) counts.won++
      else counts.lost++
    } catch (error) {
      counts.errors++
      process.stderr.write(`${config.name}: claim failed: ${(error as Error).message}\n`)
    }
  }
}
const started = Date.now()
await Promise.all(Array.from({ length: config.inFlight }, lane))
const ms = Date.now() - started
await pool.end()
process.stdout.write(`${JSON.stringify({ summary: { name: config.name, ...counts, ms } })}\n`)
