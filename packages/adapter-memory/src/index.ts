/**
 * `@mailcadence/adapter-memory`: the embedded in-memory store, for tests and demos. It keeps
 * nothing across a restart. The implementation ships inside core (`@mailcadence/core/memory`),
 * where the forecast also runs it as a simulation; this package is its stable, documented name.
 *
 * @packageDocumentation
 */
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from '@mailcadence/core/memory'
