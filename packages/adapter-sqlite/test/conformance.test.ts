import { runStoreConformance, runStoreContract } from '@mailcadence/core/conformance'
import { afterAll } from 'vitest'
import { createSqliteStore, type SqliteStore } from '../src/index.js'
import { tempFiles } from './support/files.js'

// A fresh file per store; the directory goes when the file's tests end. `synchronous: 'normal'`
// spares a sync to disk per commit (behaviour is the same; the multi-process, crash and store tests
// run on the default, 'full'), so the suite stays quick on every Node of the matrix.
const files = tempFiles('conf')
const stores: SqliteStore[] = []
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
})
const makeStore = () => {
  const store = createSqliteStore({ filename: files.next(), synchronous: 'normal' })
  stores.push(store)
  return store
}

runStoreConformance('sqlite', makeStore, { timeout: 60_000 })
runStoreContract('sqlite', makeStore)
