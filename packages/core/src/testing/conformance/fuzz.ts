import { afterEach, it } from 'vitest'
import { guardedMakeStore } from './fuzz/guard.js'
import { FUZZ_FAMILIES, type FuzzOptions, fuzzEnv } from './fuzz/index.js'
import { type ConformanceOptions, createHarness, type MakeStore } from './harness.js'

/** Properties fuzzed, each a run of the model with valid inputs only or with one family of hostile values. */
const PROPERTIES: Array<{ title: string; options: FuzzOptions; maxRuns?: number }> = [
  { title: 'valid inputs', options: {} },
  ...FUZZ_FAMILIES.map((family) => ({
    title: `hostile ${family}`,
    options: { families: [family] },
  })),
  {
    title: 'sends that never settle',
    options: { hungSends: true },
    // Each tick of a hung scenario waits out the send timeout in real time: fewer scenarios.
    maxRuns: 10,
  },
  {
    title: 'every hostile family, error messages short and escaped',
    options: { families: FUZZ_FAMILIES, strictMessages: true },
  },
]

/** The fuzz properties, over stores made by `makeStore` (one per scenario, closed after each test). */
export function fuzzTests(makeStore: MakeStore, options: ConformanceOptions): void {
  // Its stores note invalid dates core hands them: a scenario fails on the first.
  const harness = createHarness(guardedMakeStore(makeStore))
  afterEach(() => harness.cleanup())
  const suite = { runs: options.fuzzRuns ?? 30, length: options.fuzzLength ?? 30, seed: options.fuzzSeed }
  for (const property of PROPERTIES) {
    const title = `${property.title}: every call settles with a result or an error naming its field; invariants hold`
    it(title, async () => {
      const report = await fuzzEnv(harness.env, {
        ...property.options,
        runs: Math.min(suite.runs, property.maxRuns ?? suite.runs),
        length: suite.length,
        ...(suite.seed === undefined ? {} : { seed: suite.seed }),
      })
      if (report.failure) throw new Error(`fuzz seed ${report.seed}:\n${report.failure}`)
    })
  }
}
