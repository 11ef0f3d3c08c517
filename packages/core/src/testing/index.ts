/**
 * Test helpers for mailcadence hosts and adapter authors: the store conformance, contract and race
 * suites (run on vitest), the fuzz model over the public API (needs fast-check), a fake clock, a
 * seeded random source and a recording transport.
 *
 * @packageDocumentation
 */

export { createFakeClock, type FakeClock } from './clock.js'
export {
  FUZZ_FAMILIES,
  type FuzzFamily,
  type FuzzOptions,
  type FuzzReport,
  fuzzPublicApi,
} from './conformance/fuzz/index.js'
export {
  type ConformanceOptions,
  type MakeStore,
  runStoreConformance,
  runStoreContract,
} from './conformance/index.js'
export {
  type MakeRaceStores,
  type RaceOptions,
  type RaceStores,
  runStoreRaces,
} from './conformance/races.js'
export { createSeededRandom } from './random.js'
export { createRecordingTransport, type RecordingTransport, type SentRecord } from './transport.js'
