import { runStoreRaces } from '@mailcadence/core/testing'
import { createMemoryStore } from '../src/index.js'

// One process's memory has no second connection: both sides share the store. The races still
// interleave calls at every await, and this run shows the suite's checks hold on a reference store.
runStoreRaces('memory', async () => {
  const store = createMemoryStore()
  return { a: store, b: store }
})
