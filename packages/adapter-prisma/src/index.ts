/**
 * `@mailcadence/adapter-prisma`: the mailcadence store in the host's own database, through the
 * host's own Prisma Client (Prisma 7, with a driver adapter), on PostgreSQL, MySQL/MariaDB or SQLite.
 *
 * @packageDocumentation
 */
import type { CounterStore, InboxStore, MigrationStore, Store } from '@mailcadence/core'
import * as batches from './batches.js'
import * as campaigns from './campaigns.js'
import { lacksField, type PrismaClientLike } from './client.js'
import { invalidInput, toStoreError } from './errors.js'
import * as inbox from './inbox.js'
import * as leads from './leads.js'
import * as listing from './listing.js'
import * as mailboxes from './mailboxes.js'
import { counterMethods } from './named-counters.js'
import { checkProvider, clientProvider, type Provider, probeProvider } from './provider.js'
import * as read from './read.js'
import { createRunner } from './runner.js'

export type {
  MailcadenceModels,
  PrismaClientLike,
  PrismaModelDelegate,
  PrismaTransactionOptions,
} from './client.js'
export { isRetryable, toStoreError } from './errors.js'
export type { Provider } from './provider.js'

/** Options of {@link createPrismaStore}. */
export interface PrismaStoreOptions {
  /**
   * The database behind the client. Read from the client when omitted (Prisma keeps the provider
   * it was generated for); give it for a client wrapped so that it no longer tells.
   */
  provider?: Provider
  /**
   * Most runs of one transaction when the database rolls it back for a write conflict, a deadlock,
   * a lock timeout or a busy SQLite file, before the call fails with `store-unavailable`. Default 8.
   */
  maxAttempts?: number
  /** Prisma's `maxWait` for the store's transactions, in ms. Default 20 000. */
  transactionMaxWait?: number
  /** Prisma's `timeout` for the store's transactions, in ms. Default 30 000. */
  transactionTimeout?: number
}

/**
 * What each migration after the first added to mailcadence.prisma, oldest first: a client generated
 * from an older schema is refused at once with the migration it lacks, rather than failing later.
 */
const SCHEMA_GENERATIONS: readonly { migration: string; adds: string; lacks: (prisma: object) => boolean }[] =
  [
    {
      migration: '002_import',
      adds: 'McExternalSend',
      lacks: (prisma) => (prisma as { mcExternalSend?: unknown }).mcExternalSend === undefined,
    },
    {
      migration: '003_settings_version',
      adds: 'McCampaign.settingsVersion',
      lacks: (prisma) => lacksField(prisma, 'McCampaign', 'settingsVersion'),
    },
    {
      migration: '004_window_keys',
      adds: 'McQueueItem.windowKey',
      lacks: (prisma) => lacksField(prisma, 'McQueueItem', 'windowKey'),
    },
    {
      migration: '005_inbox',
      adds: 'McInboxCursor or McCampaign.stopOnReply',
      lacks: (prisma) =>
        (prisma as { mcInboxCursor?: unknown }).mcInboxCursor === undefined ||
        lacksField(prisma, 'McCampaign', 'stopOnReply'),
    },
    {
      migration: '006_variants',
      adds: 'McQueueItem.variantId',
      lacks: (prisma) => lacksField(prisma, 'McQueueItem', 'variantId'),
    },
    {
      migration: '007_limits',
      adds: 'McCounter, McMailbox.hourlyLimit or McCampaign.providerMatching',
      lacks: (prisma) =>
        (prisma as { mcCounter?: unknown }).mcCounter === undefined ||
        lacksField(prisma, 'McMailbox', 'hourlyLimit') ||
        lacksField(prisma, 'McCampaign', 'providerMatching'),
    },
  ]

/**
 * Creates a store on the host's Prisma Client. Its schema must include the models of
 * `mailcadence.prisma` (or, on MySQL and MariaDB, `schema/mysql/mailcadence.prisma`), migrated.
 *
 * The store never opens or closes connections: `close()` leaves the client to the host, which
 * disconnects it when it shuts down. It never reads a clock either: every instant comes from the
 * scheduler's `now`.
 *
 * ```ts
 * const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString }) })
 * const scheduler = createScheduler({ store: createPrismaStore(prisma), transport })
 * ```
 *
 * @param prisma - the host's `PrismaClient` (typed structurally: any generated client fits).
 * @param options - see {@link PrismaStoreOptions}.
 * @throws `MailcadenceError` `invalid-input` for an unsupported provider or a bad option.
 */
export function createPrismaStore(
  prisma: PrismaClientLike,
  options: PrismaStoreOptions = {},
): Store & MigrationStore & InboxStore & CounterStore {
  if (typeof prisma !== 'object' || prisma === null || typeof prisma.$transaction !== 'function') {
    throw invalidInput('prisma', 'must be a PrismaClient')
  }
  if (prisma.mcQueueItem === undefined || prisma.mcCampaign === undefined) {
    throw invalidInput(
      'prisma',
      "its schema lacks mailcadence's models: add mailcadence.prisma and generate again",
    )
  }
  const outdated = SCHEMA_GENERATIONS.find((generation) => generation.lacks(prisma))
  if (outdated) {
    throw invalidInput(
      'prisma',
      `its schema has an older mailcadence.prisma (no ${outdated.adds}): copy the current one, generate again and migrate (migrations/<database>/${outdated.migration}.sql)`,
    )
  }
  const maxAttempts = positiveInteger(options.maxAttempts ?? 8, 'maxAttempts')
  const maxWait = positiveInteger(options.transactionMaxWait ?? 20_000, 'transactionMaxWait')
  const timeout = positiveInteger(options.transactionTimeout ?? 30_000, 'transactionTimeout')

  const known =
    options.provider === undefined ? clientProvider(prisma) : checkProvider(options.provider, 'provider')
  let detected: Promise<Provider> | undefined
  const provider = (): Promise<Provider> => {
    if (known !== undefined) return Promise.resolve(known)
    detected ??= probeProvider(prisma).catch((error: unknown) => {
      detected = undefined // ask again next time
      throw toStoreError(error, 'detecting the database')
    })
    return detected
  }
  const run = createRunner(prisma, provider, { maxAttempts, maxWait, timeout })

  return {
    // -- mailboxes -------------------------------------------------------------------------------
    createMailbox: (input, now) =>
      run.write('createMailbox', (tx) => mailboxes.createMailbox(tx, input, now)),
    updateMailbox: (id, patch, now) =>
      run.write('updateMailbox', (tx) => mailboxes.updateMailbox(tx, id, patch, now)),
    getMailboxes: (ids) => run.read('getMailboxes', (db) => mailboxes.getMailboxes(db, ids)),

    // -- campaigns -------------------------------------------------------------------------------
    createCampaign: (input, now) => campaigns.createCampaignOnce(run, input, now),
    getCampaign: (id) => run.read('getCampaign', (db) => campaigns.getCampaign(db, id)),
    getCampaignByExternalId: (externalId) =>
      run.read('getCampaignByExternalId', (db) => campaigns.getCampaignByExternalId(db, externalId)),
    updateCampaign: (id, patch, now) =>
      run.write('updateCampaign', (tx) => campaigns.updateCampaign(tx, id, patch, now)),
    setCampaignStatus: (id, change, now) =>
      run.write('setCampaignStatus', (tx) => campaigns.setCampaignStatus(tx, id, change, now)),
    completeIfDrained: (id, now) =>
      run.write('completeIfDrained', (tx) => campaigns.completeIfDrained(tx, id, now)),
    listRunnableCampaigns: (_now, filter) =>
      run.read('listRunnableCampaigns', (db) => campaigns.listRunnableCampaigns(db, filter)),
    // The runnable list, split at `dueBefore` here rather than in the query: correct, not faster.
    listDueCampaigns: async (_now, { dueBefore, ids }) => {
      const all = await run.read('listRunnableCampaigns', (db) =>
        campaigns.listRunnableCampaigns(db, ids === undefined ? undefined : { ids }),
      )
      let laterAt: Date | null = null
      const due = all.filter((r) => {
        if (r.nextItemAt === null || r.nextItemAt <= dueBefore) return true
        if (laterAt === null || r.nextItemAt < laterAt) laterAt = r.nextItemAt
        return false
      })
      return { campaigns: due, laterAt }
    },

    // -- leads -----------------------------------------------------------------------------------
    addLeads: (campaignId, input, now) => batches.addLeadsInSlices(run, campaignId, input, now),
    importLeads: (campaignId, input, now) => batches.importLeadsInSlices(run, campaignId, input, now),
    getLead: (campaignId, emailKey) => run.read('getLead', (db) => leads.getLead(db, campaignId, emailKey)),
    listLeads: (campaignId) => run.read('listLeads', (db) => leads.listLeads(db, campaignId)),
    stopLead: (campaignId, emailKey, status, reason, now) =>
      run.write('stopLead', (tx) => leads.stopLead(tx, campaignId, emailKey, status, reason, now)),
    async suppress(emailKey, reason, now) {
      const kind = await provider()
      return run.write('suppress', (tx) => leads.suppress(tx, kind, emailKey, reason, now))
    },

    // -- the queue -------------------------------------------------------------------------------
    reserveSends: async (requests, now) => batches.reserveSends(run, await provider(), requests, now),
    completeSends: (completions, now) => batches.completeSends(run, completions, now),
    recoverExpiredLeases: (now, policy) => batches.recoverExpiredLeases(run, now, policy),
    recordExternalSends: async (sends, now) => batches.recordExternalSends(run, await provider(), sends, now),

    // -- reading ---------------------------------------------------------------------------------
    queueStats: (campaignId) => run.read('queueStats', (db) => read.queueStats(db, campaignId)),
    countDueByMailbox: (campaignId, now) =>
      run.read('countDueByMailbox', (db) => read.countDueByMailbox(db, campaignId, now)),
    listWindowKeys: (campaignId) => run.read('listWindowKeys', (db) => read.listWindowKeys(db, campaignId)),
    dayCounts: (query) => run.read('dayCounts', (db) => read.dayCounts(db, query)),
    listQueueItems: (campaignId) => run.read('listQueueItems', (db) => read.listQueueItems(db, campaignId)),
    listSendLog: (campaignId) => run.read('listSendLog', (db) => read.listSendLog(db, campaignId)),
    listCampaigns: (query) => run.read('listCampaigns', (db) => listing.listCampaigns(db, query)),
    listMailboxes: () => run.read('listMailboxes', (db) => listing.listMailboxes(db)),
    listFailedSends: (campaignId, { limit }) =>
      run.read('listFailedSends', (db) => listing.listFailedSends(db, campaignId, limit)),
    listRecentSends: (campaignId, { limit }) =>
      run.read('listRecentSends', (db) => listing.listRecentSends(db, campaignId, limit)),
    listSendTimes: (campaignId, { from, to }) =>
      run.read('listSendTimes', (db) => listing.listSendTimes(db, campaignId, from, to)),

    // -- the inbox ---------------------------------------------------------------------------------
    findSentByMessageIds: (messageIds) =>
      run.read('findSentByMessageIds', (db) => inbox.findSentByMessageIds(db, messageIds)),
    getInbound: (messageId) => run.read('getInbound', (db) => inbox.getInbound(db, messageId)),
    recordInbound: async (record, now) => {
      const kind = await provider()
      return run.write('recordInbound', (tx) => inbox.recordInbound(tx, kind, record, now))
    },
    postponeLead: (campaignId, emailKey, until, now) =>
      run.write('postponeLead', (tx) => inbox.postponeLead(tx, campaignId, emailKey, until, now)),
    stopLeadsOfDomain: (campaignId, domain, status, reason, now) =>
      run.write('stopLeadsOfDomain', (tx) =>
        inbox.stopLeadsOfDomain(tx, campaignId, domain, status, reason, now),
      ),
    getInboxCursor: (mailboxId, folder) =>
      run.read('getInboxCursor', (db) => inbox.getInboxCursor(db, mailboxId, folder)),
    saveInboxCursor: async (mailboxId, folder, cursor, now) => {
      const kind = await provider()
      return run.write('saveInboxCursor', (tx) =>
        inbox.saveInboxCursor(tx, kind, mailboxId, folder, cursor, now),
      )
    },

    // -- counters ----------------------------------------------------------------------------------
    ...counterMethods(run, provider),

    async close() {
      // The client is the host's: it disconnects it when it shuts down.
    },
  }
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw invalidInput(field, `must be a positive integer; got ${value}`)
  return value
}
