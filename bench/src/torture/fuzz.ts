/**
 * The fuzz model of `@mailcadence/core/testing` run long: random sequences of every public call
 * (valid inputs and hostile ones), ticks with failing sends and a second scheduler, clock moves
 * across DST changes, on the memory store and on PostgreSQL. A failure prints the seed and the
 * shrunk counterexample; `TORTURE_FUZZ_SEED=<seed>` replays it.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createPostgresStore, migrate } from '@mailcadence/adapter-postgres'
import {
  FUZZ_FAMILIES,
  type FuzzFamily,
  type FuzzOptions,
  fuzzPublicApi,
  type MakeStore,
} from '@mailcadence/core/conformance'
import pg from 'pg'
import { DATABASE_URL, dropSchema, schemaName } from '../postgres.js'

const replaySeed = process.env.TORTURE_FUZZ_SEED ? Number(process.env.TORTURE_FUZZ_SEED) : undefined
/**
 * `--quick` (what `pnpm test` runs) replays one fixed seed, so a landing does not hang on the luck
 * of the draw; the full run draws a new seed each time, to find what no fixed seed shows.
 */
const QUICK_SEED = 2026

async function fuzz(name: string, makeStore: MakeStore, options: FuzzOptions): Promise<string[]> {
  const problems: string[] = []
  // Valid inputs alone, then each hostile family on its own (a failure names its family).
  for (const families of [[], ...FUZZ_FAMILIES.map((f): FuzzFamily[] => [f])]) {
    const started = performance.now()
    const report = await fuzzPublicApi(makeStore, {
      ...options,
      families,
      ...(replaySeed === undefined ? {} : { seed: replaySeed }),
    })
    const label = `${name}, ${families[0] ?? 'valid inputs'}`
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    const { calls, refused, ticks, sends } = report.stats
    console.log(
      `  fuzz ${label}: ${report.runs} scenarios, ${calls} calls (${refused} refused), ${ticks} ticks, ${sends} sends, seed ${report.seed} (${seconds} s)`,
    )
    if (report.failure)
      problems.push(`fuzz ${label} failed (replay: TORTURE_FUZZ_SEED=${report.seed}):\n${report.failure}`)
  }
  return problems
}

export async function fuzzMemoryScenario(quick: boolean): Promise<string[]> {
  return fuzz('memory', () => createMemoryStore(), {
    runs: quick ? 100 : 1000,
    length: quick ? 30 : 60,
    ...(quick ? { seed: QUICK_SEED } : {}),
  })
}

export async function fuzzPostgresScenario(quick: boolean): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
  const schemas: string[] = []
  const makeStore = async () => {
    const schema = schemaName('fuzz')
    schemas.push(schema)
    await migrate(pool, { schema })
    return createPostgresStore({ pool, schema })
  }
  try {
    return await fuzz('postgres', makeStore, {
      runs: quick ? 15 : 150,
      length: quick ? 20 : 60,
      callTimeoutMs: 30_000,
      ...(quick ? { seed: QUICK_SEED } : {}),
    })
  } finally {
    await pool.end()
    for (const schema of schemas) await dropSchema(schema)
  }
}
