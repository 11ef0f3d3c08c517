/**
 * The stores a benchmark runs against. Each backend makes fresh, empty stores and cleans up what
 * it made; the Postgres and Prisma backends join the list when their adapters are installed.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import type { Store } from '@mailcadence/core'

export interface Backend {
  name: string
  /** Whether several OS processes can share one of its stores. */
  shared: boolean
  createStore(): Promise<Store>
  dispose(): Promise<void>
}

export function memoryBackend(): Backend {
  return {
    name: 'memory',
    shared: false,
    createStore: async () => createMemoryStore(),
    dispose: async () => {},
  }
}
