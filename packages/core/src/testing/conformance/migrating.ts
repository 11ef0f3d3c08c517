import type { MigrationStore, Store } from '../../store.js'
import { supportsMigration } from '../../store-kit/index.js'

/** The store with its migration methods, for the tests of that optional capability. */
export function migrating(store: Store): Store & MigrationStore {
  if (!supportsMigration(store))
    throw new Error('this store has no migration methods (MigrationStore): skip the migration tests for it')
  return store
}
