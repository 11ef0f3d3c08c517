import {
  isMailcadenceError,
  MailcadenceError,
  type ReserveOutcome,
  type ReserveRequest,
  type Store,
} from '@mailcadence/core'
import { createDatabase, type Queryable } from './db.js'
import * as campaigns from './sql/campaigns.js'
import { completeSends } from './sql/complete.js'
import * as counters from './sql/counters.js'
import * as importing from './sql/import.js'
import * as inbox from './sql/inbox.js'
import * as leads from './sql/leads.js'
import * as listing from './sql/listing.js'
import * as mailboxes from './sql/mailboxes.js'
import * as reading from './sql/reading.js'
import { recoverExpiredLeases } from './sql/recover.js'
import { reserveBatch, reserveInOrder } from './sql/reserve-batch.js'
import { DEFAULT_SCHEMA, tablesOf } from './sql/schema.js'

/** Options of {@link createPostgresStore}: where queries go (`pool` or `client`), and the schema. */
export type PostgresStoreOptions = (
  | {
      /**
       * A `pg` `Pool` (recommended: each store call borrows a connection and gives it back before
       * the transport sends anything). A `Client`, or a client inside the host's own transaction,
       * fits too (see `client`). Anything with pg's `query(text, values)` fits. The store never
       * closes it.
       */
      pool: Queryable
      client?: never
    }
  | {
      /**
       * One connection of the host's: a `Client`, or a pool's client the host checked out. The
       * store's calls are queued one at a time on it. Inside the host's transaction (after its
       * `BEGIN`), each call joins that transaction, its own atomic steps being savepoints of it: the
       * host's `COMMIT` or `ROLLBACK` decides for the host's rows and the store's together (README,
       * "Inside your own transaction"). The store never releases or closes it.
       */
      client: Queryable
      pool?: never
    }
) & {
  /** Schema holding the tables, as created by `migrate()`. Default `mailcadence`. */
  schema?: string
}

/**
 * Creates a store on PostgreSQL. Run {@link migrate} once (at start-up, from any number of
 * processes) before using it.
 *
 * Every method is atomic: reservations and completions are single statements that lock what they
 * change in one fixed order and check everything with compare-and-set conditions, so any number of
 * processes may tick against one database. Time comes only from the `now` core passes in.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const t = tablesOf(options.schema ?? DEFAULT_SCHEMA)
  const target = options.client ?? options.pool
  if (typeof target?.query !== 'function') {
    throw new TypeError(
      'createPostgresStore: give `pool` (a pg Pool) or `client` (a pg Client or pool client): anything with query()',
    )
  }
  const db = createDatabase(target)
  const run = db.session.bind(db)
  /**
   * Sending is not part of a host's transaction: a reservation there would hold the campaign's row
   * until the host commits, and a send whose record the host then rolls back would leave again.
   * Ticks (which reserve and recover) run on a store on the pool.
   */
  const refuseInsideHostTransaction = async (method: string) => {
    if (await db.insideHostTransaction())
      throw new MailcadenceError(
        'store-misconfigured',
        `${method} inside the host's transaction: tick with a store on the pool (createPostgresStore({ pool })), ` +
          "not on the client of the host's transaction",
      )
  }
  let claimsSinceSweep = 0

  return {
    createMailbox: (input, now) => run((s) => mailboxes.createMailbox(s, t, input, now)),
    updateMailbox: (id, patch, now) => run((s) => mailboxes.updateMailbox(s, t, id, patch, now)),
    getMailboxes: (ids) => run((s) => mailboxes.getMailboxes(s, t, ids)),

    createCampaign: (input, now) => run((s) => campaigns.createCampaign(s, t, input, now)),
    getCampaign: (id) => run((s) => campaigns.getCampaign(s, t, id)),
    getCampaignByExternalId: (externalId) => run((s) => campaigns.getCampaignByExternalId(s, t, externalId)),
    updateCampaign: (id, patch, now) => run((s) => campaigns.updateCampaign(s, t, id, patch, now)),
    setCampaignStatus: (id, change, now) => run((s) => campaigns.setCampaignStatus(s, t, id, change, now)),
    completeIfDrained: (id, now) => run((s) => campaigns.completeIfDrained(s, t, id, now)),
    listRunnableCampaigns: (_now, filter) => run((s) => campaigns.listRunnableCampaigns(s, t, filter)),
    listDueCampaigns: (_now, filter) => run((s) => campaigns.listDueCampaigns(s, t, filter)),
    deferCampaigns: (deferrals) => run((s) => campaigns.deferCampaigns(s, t, deferrals)),

    addLeads: (campaignId, input, now) => run((s) => leads.addLeads(s, t, campaignId, input, now)),
    importLeads: (campaignId, input, now) => run((s) => importing.importLeads(s, t, campaignId, input, now)),
    getLead: (campaignId, emailKey) => run((s) => leads.getLead(s, t, campaignId, emailKey)),
    listLeads: (campaignId) => run((s) => leads.listLeads(s, t, campaignId)),
    stopLead: (campaignId, emailKey, status, reason, now) =>
      run((s) => leads.stopLead(s, t, campaignId, emailKey, status, reason, now)),
    suppress: (emailKey, reason, now) => run((s) => leads.suppress(s, t, emailKey, reason, now)),

    // A batch goes through one set-based statement (reserve-batch.ts) when its result is the same as
    // handling its requests one after the other; the requests it cannot decide go one by one, each
    // a batch of one, spread over the pool's connections: each is its own statement (a transaction
    // spanning several could deadlock on mailbox counts), so running them side by side turns one
    // round trip per request into one per group. Requests of one campaign stay in order on one
    // connection, as the contract asks. Completions go in one transaction per batch instead.
    reserveSends: async (requests, now) => {
      await refuseInsideHostTransaction('reserveSends')
      const inOrder = (list: readonly ReserveRequest[]) =>
        inParallel(
          list,
          (r) => r.campaignId,
          (group) => run((s) => reserveInOrder(s, t, group, now)),
          (error): ReserveOutcome => ({ ok: false, reason: 'store-unavailable', error }),
        )
      if (requests.length === 1) return inOrder(requests)
      // A deadlock or a lost connection changed nothing: the requests then go one by one (or fail).
      const decided = await run((s) => reserveBatch(s, t, requests, now)).catch((error: unknown) => {
        if (isMailcadenceError(error, 'store-unavailable')) return null
        throw error
      })
      if (decided === null) return inOrder(requests)
      const rest = requests.flatMap((r, i) => (decided[i] === null ? [{ r, i }] : []))
      if (rest.length > 0) {
        const outcomes = await inOrder(rest.map((x) => x.r))
        rest.forEach((x, j) => {
          decided[x.i] = outcomes[j]!
        })
      }
      return decided as ReserveOutcome[]
    },
    completeSends: (completions, now) =>
      completions.length === 0 ? Promise.resolve([]) : run((s) => completeSends(s, t, completions, now)),
    recoverExpiredLeases: async (now, policy) => {
      await refuseInsideHostTransaction('recoverExpiredLeases')
      return run((s) => recoverExpiredLeases(s, t, now, policy))
    },
    recordExternalSends: (sends, now) => run((s) => importing.recordExternalSends(s, t, sends, now)),

    queueStats: (campaignId) => run((s) => reading.queueStats(s, t, campaignId)),
    countDueByMailbox: (campaignId, now) => run((s) => reading.countDueByMailbox(s, t, campaignId, now)),
    listWindowKeys: (campaignId) => run((s) => reading.listWindowKeys(s, t, campaignId)),
    dayCounts: (query) => run((s) => reading.dayCounts(s, t, query)),
    listQueueItems: (campaignId) => run((s) => reading.listQueueItems(s, t, campaignId)),
    listSendLog: (campaignId) => run((s) => reading.listSendLog(s, t, campaignId)),
    listCampaigns: (query) => run((s) => listing.listCampaigns(s, t, query)),
    listMailboxes: () => run((s) => listing.listMailboxes(s, t)),
    listFailedSends: (campaignId, { limit }) => run((s) => listing.listFailedSends(s, t, campaignId, limit)),
    listRecentSends: (campaignId, { limit }) => run((s) => listing.listRecentSends(s, t, campaignId, limit)),
    listSendTimes: (campaignId, { from, to }) =>
      run((s) => listing.listSendTimes(s, t, campaignId, from, to)),

    findSentByMessageIds: (messageIds) => run((s) => inbox.findSentByMessageIds(s, t, messageIds)),
    getInbound: (messageId) => run((s) => inbox.getInbound(s, t, messageId)),
    recordInbound: (record, now) => run((s) => inbox.recordInbound(s, t, record, now)),
    postponeLead: (campaignId, emailKey, until, now) =>
      run((s) => inbox.postponeLead(s, t, campaignId, emailKey, until, now)),
    stopLeadsOfDomain: (campaignId, domain, status, reason, now) =>
      run((s) => inbox.stopLeadsOfDomain(s, t, campaignId, domain, status, reason, now)),
    getInboxCursor: (mailboxId, folder) => run((s) => inbox.getInboxCursor(s, t, mailboxId, folder)),
    saveInboxCursor: (mailboxId, folder, cursor, now) =>
      run((s) => inbox.saveInboxCursor(s, t, mailboxId, folder, cursor, now)),

    // Now and then a claim first deletes a bounded batch of counters expired by its `now` (a
    // statement of its own that never waits): a failure then fails the claim before it counts.
    claimCounters: (claims, now) =>
      run(async (s) => {
        if (++claimsSinceSweep >= counters.SWEEP_EVERY) {
          claimsSinceSweep = 0
          await counters.sweepExpiredCounters(s, t, now)
        }
        return counters.claimCounters(s, t, claims)
      }),
    releaseCounters: (keys, _now) => run((s) => counters.releaseCounters(s, t, keys)),
    readCounters: (keys) => run((s) => counters.readCounters(s, t, keys)),

    async close() {
      // The pool belongs to the host: it closes it (pool.end()) when it is done with it.
    },
  }
}

/** Most groups of one batch in flight at once: enough to fill a pool, not to hog it. */
const MAX_GROUPS = 8

/**
 * Splits `items` into at most {@link MAX_GROUPS} groups (items with the same key always in the
 * same group, in their order), runs the groups concurrently and puts the results back in order.
 * A group that fails gets `failed(error)` for each of its items, so the groups that succeeded are
 * not lost with it; when every group fails, the first error is thrown.
 */
async function inParallel<T, R>(
  items: readonly T[],
  keyOf: (item: T) => string,
  runGroup: (group: T[]) => Promise<R[]>,
  failed: (error: Error) => R,
): Promise<R[]> {
  if (items.length === 0) return []
  const groupOfKey = new Map<string, number>()
  const groups: Array<{ items: T[]; positions: number[] }> = []
  items.forEach((item, position) => {
    const key = keyOf(item)
    let index = groupOfKey.get(key)
    if (index === undefined) {
      index = groups.length < MAX_GROUPS ? groups.length : groupOfKey.size % MAX_GROUPS
      groupOfKey.set(key, index)
      groups[index] ??= { items: [], positions: [] }
    }
    groups[index]!.items.push(item)
    groups[index]!.positions.push(position)
  })
  const results = new Array<R>(items.length)
  const settled = await Promise.allSettled(groups.map((group) => runGroup(group.items)))
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []))
  if (errors.length === settled.length) throw errors[0]
  settled.forEach((outcome, g) => {
    groups[g]!.positions.forEach((position, i) => {
      results[position] = outcome.status === 'fulfilled' ? outcome.value[i]! : failed(outcome.reason as Error)
    })
  })
  return results
}
