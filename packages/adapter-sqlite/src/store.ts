import type { Store } from '@mailcadence/core'
import { MailcadenceError } from '@mailcadence/core'
import { Db } from './db.js'
import { openDatabase, type SqliteDatabase, type SqliteDriverName, type SqliteHandle } from './driver.js'
import { applyPragmas, migrate } from './migrate.js'
import * as campaigns from './sql/campaigns.js'
import { completeOne, hasExpiredLeases, recoverExpiredLeases } from './sql/complete.js'
import * as counters from './sql/counters.js'
import * as due from './sql/due.js'
import * as importing from './sql/import.js'
import * as inbox from './sql/inbox.js'
import * as leads from './sql/leads.js'
import * as mailboxes from './sql/mailboxes.js'
import * as reading from './sql/reading.js'
import { reserveOne } from './sql/reserve.js'

/** Options of {@link createSqliteStore}: `filename` or `database`, the rest optional. */
export interface SqliteStoreOptions {
  /**
   * Path of the database file, created if missing (with its `-wal` and `-shm` companions next to
   * it). Every process that opens the same file shares one store. `':memory:'` works but is
   * neither durable nor shared.
   */
  filename?: string
  /**
   * A database the host opened itself instead: a `node:sqlite` `DatabaseSync` or a
   * `better-sqlite3` `Database`. The store sets its pragmas (WAL, `busy_timeout`, `synchronous`),
   * creates its `mailcadence_*` tables in it, and never closes it.
   */
  database?: SqliteHandle
  /**
   * Which driver opens `filename`. Default `'auto'`: `node:sqlite` where Node has it (22.13+),
   * otherwise `better-sqlite3` (an optional peer dependency, needed on Node 20).
   */
  driver?: SqliteDriverName
  /**
   * How long (ms) a write waits for another process's write to finish before failing with
   * `store-unavailable`. Default 5000. The wait blocks this process's event loop (SQLite drivers
   * are synchronous); writes are short, so it is usually a few milliseconds.
   */
  busyTimeout?: number
  /**
   * `'full'` (default): a committed write survives a power loss. `'normal'`: faster, survives a
   * process crash, but the last writes before a power loss may be lost, and with them the record
   * of a send that left (it could then be sent again).
   */
  synchronous?: 'full' | 'normal'
}

/** The SQLite store: a `Store` with every optional capability (migration, inbox, counters, inspection, deferrals). */
export type SqliteStore = Required<Store>

/**
 * Creates a durable store on one SQLite file; its tables are created or migrated on the spot.
 *
 * Every method is one transaction: writes in `BEGIN IMMEDIATE`, which holds SQLite's single write
 * lock from the first read to the commit, so each check-then-write is atomic against every other
 * process on the file; reads in a snapshot, which WAL lets run beside a writer. Several processes
 * (or several stores in one process) may tick against one file. Time comes only from the `now` core
 * passes in.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const own = options.database === undefined
  if (own && (typeof options.filename !== 'string' || options.filename === '')) {
    throw new MailcadenceError(
      'invalid-input',
      'filename: must be the path of the SQLite file (or pass `database`)',
      {
        field: 'filename',
      },
    )
  }
  if (!own && typeof options.database?.prepare !== 'function') {
    throw new MailcadenceError(
      'invalid-input',
      'database: must be a node:sqlite DatabaseSync or a better-sqlite3 Database',
      {
        field: 'database',
      },
    )
  }
  const handle =
    (options.database as SqliteDatabase | undefined) ??
    openDatabase(options.filename!, options.driver ?? 'auto')
  const db = new Db(handle)
  try {
    applyPragmas(db, { busyTimeout: options.busyTimeout ?? 5000, synchronous: options.synchronous ?? 'full' })
    migrate(db)
  } catch (error) {
    if (own) handle.close()
    throw error
  }
  let closed = false
  // Each method is synchronous inside; the promise only carries its result or error.
  const write = <T>(fn: () => T): Promise<T> => new Promise((resolve) => resolve(db.write(fn)))
  const read = <T>(fn: () => T): Promise<T> => new Promise((resolve) => resolve(db.read(fn)))
  let claimsSinceSweep = 0

  return {
    createMailbox: (input, now) => write(() => mailboxes.createMailbox(db, input, now)),
    updateMailbox: (id, patch, now) => write(() => mailboxes.updateMailbox(db, id, patch, now)),
    getMailboxes: (ids) => read(() => mailboxes.getMailboxes(db, ids)),

    createCampaign: (input, now) => write(() => campaigns.createCampaign(db, input, now)),
    getCampaign: (id) => read(() => campaigns.getCampaign(db, id)),
    getCampaignByExternalId: (externalId) => read(() => campaigns.getCampaignByExternalId(db, externalId)),
    updateCampaign: (id, patch, now) => write(() => campaigns.updateCampaign(db, id, patch, now)),
    setCampaignStatus: (id, change, now) => write(() => campaigns.setCampaignStatus(db, id, change, now)),
    completeIfDrained: (id, now) => write(() => campaigns.completeIfDrained(db, id, now)),
    listRunnableCampaigns: (_now, filter) => read(() => due.listRunnableCampaigns(db, filter?.ids)),
    listDueCampaigns: async (_now, filter) => {
      const listing = await read(() => due.listDueCampaigns(db, filter.dueBefore, filter.ids))
      // Raising stale bounds takes the write lock: only when one was found, so idle ticks stay reads.
      if (listing.stale.length > 0) await write(() => due.raiseNextDue(db, listing.stale))
      return { campaigns: listing.campaigns, laterAt: listing.laterAt }
    },
    deferCampaigns: (deferrals) =>
      deferrals.length === 0 ? Promise.resolve() : write(() => due.deferCampaigns(db, deferrals)),

    addLeads: (campaignId, input, now) => write(() => leads.addLeads(db, campaignId, input, now)),
    importLeads: (campaignId, input, now) => write(() => importing.importLeads(db, campaignId, input, now)),
    getLead: (campaignId, emailKey) => read(() => leads.getLead(db, campaignId, emailKey)),
    listLeads: (campaignId) => read(() => leads.listLeads(db, campaignId)),
    stopLead: (campaignId, emailKey, status, reason, now) =>
      write(() => leads.stopLead(db, campaignId, emailKey, status, reason, now)),
    suppress: (emailKey, reason, now) => write(() => leads.suppress(db, emailKey, reason, now)),

    // A batch is one transaction: its requests are handled in order, each on the state the ones
    // before it left, and all of them commit together (one lock, one sync to disk).
    reserveSends: (requests, now) =>
      requests.length === 0 ? Promise.resolve([]) : write(() => requests.map((r) => reserveOne(db, r, now))),
    completeSends: (completions, now) =>
      completions.length === 0
        ? Promise.resolve([])
        : write(() => completions.map((c) => completeOne(db, c, now))),
    // Every tick asks; an expired lease is rare, so look first without taking the write lock.
    recoverExpiredLeases: async (now, policy) =>
      (await read(() => hasExpiredLeases(db, now))) ? write(() => recoverExpiredLeases(db, now, policy)) : [],
    recordExternalSends: (sends, now) => write(() => importing.recordExternalSends(db, sends, now)),

    queueStats: (campaignId) => read(() => reading.queueStats(db, campaignId)),
    countDueByMailbox: (campaignId, now) => read(() => reading.countDueByMailbox(db, campaignId, now)),
    listWindowKeys: (campaignId) => read(() => reading.listWindowKeys(db, campaignId)),
    dayCounts: (query) => read(() => reading.dayCounts(db, query)),
    listQueueItems: (campaignId) => read(() => reading.listQueueItems(db, campaignId)),
    listSendLog: (campaignId) => read(() => reading.listSendLog(db, campaignId)),
    listCampaigns: (query) => read(() => campaigns.listCampaigns(db, query)),
    listMailboxes: () => read(() => mailboxes.listMailboxes(db)),
    listFailedSends: (campaignId, { limit }) => read(() => reading.listFailedSends(db, campaignId, limit)),
    listRecentSends: (campaignId, { limit }) => read(() => reading.listRecentSends(db, campaignId, limit)),
    listSendTimes: (campaignId, { from, to }) => read(() => reading.listSendTimes(db, campaignId, from, to)),

    findSentByMessageIds: (messageIds) => read(() => inbox.findSentByMessageIds(db, messageIds)),
    getInbound: (messageId) => read(() => inbox.getInbound(db, messageId)),
    recordInbound: (record, now) => write(() => inbox.recordInbound(db, record, now)),
    postponeLead: (campaignId, emailKey, until, now) =>
      write(() => inbox.postponeLead(db, campaignId, emailKey, until, now)),
    stopLeadsOfDomain: (campaignId, domain, status, reason, now) =>
      write(() => inbox.stopLeadsOfDomain(db, campaignId, domain, status, reason, now)),
    getInboxCursor: (mailboxId, folder) => read(() => inbox.getInboxCursor(db, mailboxId, folder)),
    saveInboxCursor: (mailboxId, folder, cursor, now) =>
      write(() => inbox.saveInboxCursor(db, mailboxId, folder, cursor, now)),

    claimCounters: (claims, now) =>
      claims.length === 0
        ? Promise.resolve(true)
        : write(() => {
            const claimed = counters.claimCounters(db, claims)
            // Now and then, expired counters go in the same transaction: it holds the lock already.
            if (++claimsSinceSweep >= counters.SWEEP_EVERY) {
              claimsSinceSweep = 0
              counters.sweepExpiredCounters(db, now)
            }
            return claimed
          }),
    releaseCounters: (keys) =>
      keys.length === 0 ? Promise.resolve() : write(() => counters.releaseCounters(db, keys)),
    readCounters: (keys) =>
      keys.length === 0 ? Promise.resolve({}) : read(() => counters.readCounters(db, keys)),

    async close() {
      // A database the host passed in stays open: it is the host's to close.
      if (closed || !own) return
      closed = true
      handle.close()
    },
  }
}
