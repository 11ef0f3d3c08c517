/**
 * Helpers for mailcadence hosts, demos and tests (`@mailcadence/core/testing`): a fake clock, a
 * seeded random source and a recording transport. They import no test runner, so they load from
 * `import` and `require()` in any app. The store suites that run on vitest are in
 * `@mailcadence/core/conformance`.
 *
 * @packageDocumentation
 */

export { createFakeClock, type FakeClock } from './clock.js'
export { createSeededRandom } from './random.js'
export { createRecordingTransport, type RecordingTransport, type SentRecord } from './transport.js'
