import { afterEach, it } from 'vitest'
import { guardedMakeStore } from './fuzz/guard.js'
import { FUZZ_FAMILIES, type FuzzOptions, fuzzEnv, knownBugOfFamily } from './fuzz/index.js'
import { type ConformanceOptions, createHarness, type MakeStore } from './harness.js'

/**
 * Properties fuzzed, each a run of the model with valid inputs only or with one family of hostile
 * values. `known` names the open bug a property still fails on: it is registered skipped.
 */
const PROPERTIES: Array<{ title: string; options: FuzzOptions; known?: string | undefined }> = [
  { title: 'valid inputs', options: {} },
  ...FUZZ_FAMILIES.map((family) => ({
    title: `hostile ${family}`,
    options: { families: [family] },
    known: knownBugOfFamily(family),
  })),
  {
    title: 'sends that never settle',
    options: { hungSends: true, callTimeoutMs: 5_000 },
    // TODO(#12, hung sends): a send that never settles keeps its concurrency slot, so after
    // `concurrency` of them every tick() hangs. The fix's send timeout may need setting here.
    known: 'a hung send blocks every later tick',
  },
  {
    title: 'every hostile family, error messages short and escaped',
    options: { families: FUZZ_FAMILIES, strictMessages: true },
    // TODO(#12, messages): error messages echo raw CR/LF/NUL and whole 200 kB values back.
    known: 'error messages quote raw and whole values',
  },
]

/** The fuzz properties, over stores made by `makeStore` (one per scenario, closed after each test). */
export function fuzzTests(makeStore: MakeStore, options: ConformanceOptions): void {
  // Its stores note invalid dates core hands them: a scenario fails on the first.
  const harness = createHarness(guardedMakeStore(makeStore))
  afterEach(() => harness.cleanup())
  const suite = { runs: options.fuzzRuns ?? 30, length: options.fuzzLength ?? 30, seed: options.fuzzSeed }
  for (const property of PROPERTIES) {
    const test = property.known ? it.skip : it
    const title = `${property.title}: every call settles with a result or an error naming its field; invariants hold`
    test(property.known ? `${title} (TODO #12: ${property.known})` : title, async () => {
      const report = await fuzzEnv(harness.env, {
        ...property.options,
        runs: suite.runs,
        length: suite.length,
        ...(suite.seed === undefined ? {} : { seed: suite.seed }),
      })
      if (report.failure) throw new Error(`fuzz seed ${report.seed}:\n${report.failure}`)
    })
  }
}
