/**
 * The embedded in-memory store (`@mailcadence/core/memory`, re-exported by `@mailcadence/adapter-memory`):
 * for tests, demos and the forecast's simulation. It loses everything when the process exits.
 *
 * @packageDocumentation
 */
import type { Store } from '../index.js'
import { campaignMethods } from './campaigns.js'
import { counterMethods } from './counters.js'
import { inboxMethods } from './inbox.js'
import { leadMethods } from './leads.js'
import { mailboxMethods } from './mailboxes.js'
import { queueMethods } from './queue.js'
import { readingMethods } from './reading.js'
import { createState } from './state.js'

/**
 * Options of {@link createMemoryStore}. There are none yet; the type exists so options can be
 * added later without changing the signature.
 */
// biome-ignore lint/suspicious/noEmptyInterface: an interface, so later options can be added and documented one by one.
export interface MemoryStoreOptions {}

/** The memory store: a `Store` with every optional capability (migration, inspection, deferrals, inbox, counters). */
export type MemoryStore = Required<Store>

/**
 * Creates a store that keeps everything in this process's memory.
 *
 * Every method does all its work synchronously before its promise settles, so calls never
 * interleave: each is atomic with respect to every other call in the process, which is what the
 * `Store` contract asks. The state is lost when the process exits, and it cannot be shared
 * between processes: use the Postgres or Prisma adapter for that.
 *
 * Pending items are indexed per campaign (by window key and mailbox, ordered by `scheduledAt`
 * then id) and day counts are kept in maps, so reserving, listing runnable campaigns and reading
 * stats cost the same however long the send history and the queue of closed zones grow.
 *
 * @param _options - reserved for future options; may be omitted.
 */
export function createMemoryStore(_options: MemoryStoreOptions = {}): MemoryStore {
  const state = createState()
  return {
    ...mailboxMethods(state),
    ...campaignMethods(state),
    ...leadMethods(state),
    ...queueMethods(state),
    ...readingMethods(state),
    ...inboxMethods(state),
    ...counterMethods(state),
    async close() {
      // Nothing to release: the state is plain memory. The store stays readable after close, so a
      // host or a test can still inspect it.
    },
  }
}
