/**
 * The store suites for adapter authors (`@mailcadence/core/conformance`): the conformance, contract
 * and race suites, which run inside vitest, and the fuzz model over the public API, which needs
 * fast-check. Both are optional peer dependencies; only this entry point loads them. The helpers a
 * host uses outside tests (fake clock, seeded random, recording transport) are in
 * `@mailcadence/core/testing`, which imports no test runner.
 *
 * @packageDocumentation
 */

export {
  FUZZ_FAMILIES,
  type FuzzFamily,
  type FuzzOptions,
  type FuzzReport,
  fuzzPublicApi,
} from './testing/conformance/fuzz/index.js'
export {
  type ConformanceOptions,
  type MakeStore,
  runStoreConformance,
  runStoreContract,
} from './testing/conformance/index.js'
export {
  type MakeRaceStores,
  type RaceOptions,
  type RaceStores,
  runStoreRaces,
} from './testing/conformance/races.js'
