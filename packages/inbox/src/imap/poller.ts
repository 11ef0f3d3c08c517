import { type Clock, type Logger, type Mailbox, MailcadenceError, type Scheduler } from '@mailcadence/core'
import { ImapFlow, type ImapFlowOptions } from 'imapflow'
import { ingestMessage } from '../ingest/index.js'
import { backoffDelay, sanitizeError, secretsOf } from './errors.js'
import { type FolderContext, pollFolder, StoreFailure } from './folder.js'
import type {
  ImapPoller,
  ImapPollerEvent,
  ImapPollerOptions,
  IngestFunction,
  MailboxPollReport,
  PolledMessage,
  PollerTimers,
  PollReport,
} from './types.js'

const DEFAULTS = { interval: 60_000, batchSize: 50, backoffBase: 30_000, backoffMax: 30 * 60_000 }
const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const SYSTEM_CLOCK: Clock = { now: () => new Date() }
const GLOBAL_TIMERS: PollerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * Reads each mailbox's folders over IMAP and hands every new message to ingest, keeping a cursor
 * (UIDVALIDITY + last UID) per mailbox and folder in the store. See the package README.
 */
export function createImapPoller(options: ImapPollerOptions): ImapPoller {
  const o = resolveOptions(options)
  const failures = new Map<string, { count: number; retryAt: Date }>()
  const emit = (event: ImapPollerEvent): void => {
    try {
      o.onEvent?.(event)
    } catch (error) {
      o.logger.error({ err: error }, 'imap poller: onEvent threw')
    }
  }
  const folderContext: FolderContext = { ...o, emit }

  async function pollMailbox(mailbox: Mailbox, messages: PolledMessage[]): Promise<MailboxPollReport> {
    const mailboxId = mailbox.id
    const backoff = failures.get(mailboxId)
    if (backoff && backoff.retryAt.getTime() > o.clock.now().getTime()) {
      return { mailboxId, status: 'backing-off', retryAt: backoff.retryAt }
    }
    let connection: ImapFlowOptions | undefined
    let client: ImapFlow | undefined
    let folder: string | null = null
    try {
      connection = await o.connect(mailbox)
      // imapflow's default logger prints every command: off unless the host brings its own. No
      // IDLE either: the connection lives for one poll.
      client = new ImapFlow({ disableAutoIdle: true, ...connection, logger: connection.logger ?? false })
      // Socket errors also arrive as 'error' events; the failed command reports them to us.
      client.on('error', () => {})
      await client.connect()
      for (const name of o.folders) {
        folder = name
        try {
          await pollFolder(folderContext, client, mailboxId, name, messages)
        } catch (error) {
          // A folder the server refuses on a live connection (missing, no rights) does not stop the others.
          if (error instanceof StoreFailure || !client.usable) throw error
          const { message, code } = sanitizeError(error, secretsOf(connection))
          const retryAt = new Date(o.clock.now().getTime() + o.interval)
          o.logger.warn({ mailboxId, folder: name, code }, `imap poller: ${message}`)
          emit({ type: 'imap-error', mailboxId, folder: name, message, code, failures: 0, retryAt })
        }
      }
      folder = null
      failures.delete(mailboxId)
      return { mailboxId, status: 'polled' }
    } catch (error) {
      // The store failing is no reason to back off this mailbox: the whole poll fails instead.
      if (error instanceof StoreFailure) throw error.error
      return failed(mailboxId, folder, error, secretsOf(connection))
    } finally {
      await close(client)
    }
  }

  function failed(
    mailboxId: string,
    folder: string | null,
    error: unknown,
    secrets: string[],
  ): MailboxPollReport {
    const count = (failures.get(mailboxId)?.count ?? 0) + 1
    const delay = backoffDelay(count, o.backoffBase, o.backoffMax, o.random)
    const retryAt = new Date(o.clock.now().getTime() + delay)
    failures.set(mailboxId, { count, retryAt })
    const { message, code } = sanitizeError(error, secrets)
    o.logger.warn({ mailboxId, folder, code, failures: count, retryAt }, `imap poller: ${message}`)
    emit({ type: 'imap-error', mailboxId, folder, message, code, failures: count, retryAt })
    return { mailboxId, status: 'failed', retryAt, error: message }
  }

  async function poll(): Promise<PollReport> {
    const all = await o.scheduler.listMailboxes()
    const wanted = o.mailboxIds ? all.filter((m) => o.mailboxIds?.includes(m.id)) : all
    const report: PollReport = { mailboxes: [], messages: [] }
    // One mailbox at a time: a poll is light, and the order of the report is the mailboxes' order.
    for (const mailbox of wanted) report.mailboxes.push(await pollMailbox(mailbox, report.messages))
    return report
  }

  // Polls never overlap: two at once could save a folder's cursor out of order.
  let chain: Promise<unknown> = Promise.resolve()
  const pollOnce = (): Promise<PollReport> => {
    const next = chain.then(poll)
    chain = next.catch(() => {})
    return next
  }

  let loop: { stopped: boolean; current: Promise<void>; wake: () => void } | undefined
  return {
    pollOnce,
    start() {
      if (loop && !loop.stopped) return
      const state = { stopped: false, current: Promise.resolve(), wake: () => {} }
      loop = state
      const run = async (): Promise<void> => {
        while (!state.stopped) {
          try {
            await pollOnce()
          } catch (error) {
            // Only the store can fail a whole poll (listing mailboxes, saving a cursor).
            o.logger.error({ err: error }, 'imap poll failed; retrying at the next interval')
          }
          if (state.stopped) break
          await new Promise<void>((resolve) => {
            const handle = o.timers.setTimeout(resolve, o.interval)
            state.wake = () => {
              o.timers.clearTimeout(handle)
              resolve()
            }
          })
        }
      }
      state.current = run()
    },
    async stop() {
      if (!loop) return
      const state = loop
      state.stopped = true
      state.wake()
      await state.current
    },
  }
}

async function close(client: ImapFlow | undefined): Promise<void> {
  if (!client) return
  try {
    if (client.usable) await client.logout()
    else client.close()
  } catch {
    client.close()
  }
}

function resolveOptions(options: ImapPollerOptions) {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object')
  const { scheduler, connect } = options
  for (const name of ['listMailboxes', 'getInboxCursor', 'saveInboxCursor'] as const) {
    if (typeof scheduler?.[name] !== 'function') throw invalid('scheduler', `must have a ${name}() method`)
  }
  if (typeof connect !== 'function') throw invalid('connect', 'must be a function returning imapflow options')
  const ingest = resolveIngest(options)
  const folders = options.folders ?? ['INBOX']
  if (
    !Array.isArray(folders) ||
    folders.length === 0 ||
    folders.some((f) => typeof f !== 'string' || f === '')
  ) {
    throw invalid('folders', 'must be a non-empty list of folder names')
  }
  if (options.mailboxIds !== undefined && !Array.isArray(options.mailboxIds)) {
    throw invalid('mailboxIds', 'must be a list of mailbox ids')
  }
  if (options.resync !== undefined && options.resync !== 'all' && options.resync !== 'new') {
    throw invalid('resync', "must be 'all' or 'new'")
  }
  if (options.move !== undefined && (typeof options.move !== 'string' || options.move === '')) {
    throw invalid('move', 'must be a folder name')
  }
  return {
    scheduler,
    connect,
    ingest,
    folders: [...folders],
    mailboxIds: options.mailboxIds ? [...options.mailboxIds] : undefined,
    interval: positive('interval', options.interval, DEFAULTS.interval),
    batchSize: positive('batchSize', options.batchSize, DEFAULTS.batchSize),
    backoffBase: positive('backoffBase', options.backoffBase, DEFAULTS.backoffBase),
    backoffMax: positive('backoffMax', options.backoffMax, DEFAULTS.backoffMax),
    resync: options.resync ?? 'all',
    markSeen: options.markSeen === true,
    move: options.move,
    onEvent: options.onEvent,
    logger: options.logger ?? SILENT,
    clock: options.clock ?? SYSTEM_CLOCK,
    random: options.random ?? Math.random,
    timers: options.timers ?? GLOBAL_TIMERS,
  }
}

function resolveIngest(options: ImapPollerOptions): IngestFunction {
  if (options.ingest !== undefined) {
    if (typeof options.ingest !== 'function') throw invalid('ingest', 'must be a function')
    return options.ingest
  }
  const scheduler = options.scheduler as Partial<Pick<Scheduler, 'applyInbound'>>
  if (typeof scheduler.applyInbound !== 'function') {
    throw invalid('ingest', 'is required when the scheduler has no applyInbound() method')
  }
  const target = { applyInbound: scheduler.applyInbound.bind(scheduler) }
  return (raw, { mailboxId }) => ingestMessage(target, raw, { mailboxId })
}

function positive(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value <= 0) throw invalid(field, 'must be a positive integer')
  return value
}

function invalid(field: string, problem: string): MailcadenceError {
  return new MailcadenceError('invalid-input', `createImapPoller: ${field} ${problem}`, { field })
}
