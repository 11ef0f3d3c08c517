import type { Clock, InboxCursor, Logger, Mailbox, Scheduler } from '@mailcadence/core'
import type { ImapFlowOptions } from 'imapflow'

/**
 * What the poller needs from the scheduler: its mailboxes and the cursor (`InboxCursor`: the
 * folder's UIDVALIDITY and the last UID read) per mailbox and folder; and `applyInbound` unless
 * `ingest` is given. Structural, so a test double fits too.
 */
export type PollerScheduler = Pick<Scheduler, 'listMailboxes' | 'getInboxCursor' | 'saveInboxCursor'>

/**
 * Hands one raw message to the scheduler (classify, match, act); must be idempotent per
 * Message-ID. Its result is reported per message (`IngestResult` with the default ingest).
 */
export type IngestFunction = (raw: Buffer, options: { mailboxId: string }) => Promise<unknown>

/** Timer functions the poll loop waits with; replace them to drive `start()` in a test. */
export interface PollerTimers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/**
 * The scheduler and what each message is handed to: by default `ingestMessage(scheduler, raw,
 * { mailboxId })` (classify, then `scheduler.applyInbound`), or an `ingest` of your own.
 */
export type ImapPollerOptions = ImapPollerBaseOptions &
  (
    | { scheduler: PollerScheduler & Pick<Scheduler, 'applyInbound'>; ingest?: IngestFunction }
    | { scheduler: PollerScheduler; ingest: IngestFunction }
  )

export interface ImapPollerBaseOptions {
  /**
   * imapflow's connection options for a mailbox (host, port, secure, `auth: { user, pass }` or
   * `{ user, accessToken }`). Called at each poll, so a fresh OAuth token can be returned. The
   * poller sets `logger: false` unless you pass a logger of your own: imapflow's default logger
   * writes every command to stdout.
   */
  connect: (mailbox: Mailbox) => ImapFlowOptions | Promise<ImapFlowOptions>
  /** Milliseconds between the end of one poll and the start of the next in `start()`. Default 60 000. */
  interval?: number
  /** Folders read in each mailbox. Default `['INBOX']`. */
  folders?: string[]
  /** Only these mailboxes (ids). Default: every mailbox of `scheduler.listMailboxes()`. */
  mailboxIds?: string[]
  /** Messages fetched per IMAP FETCH (their sources are held in memory together). Default 50. */
  batchSize?: number
  /**
   * What to read when a folder has no cursor yet or its UIDVALIDITY changed: `'all'` (default)
   * reads every message in it once, so a lost or reset cursor misses nothing (ingest ignores the
   * ones it already saw); `'new'` starts from the next message to arrive, for large folders
   * whose history does not matter.
   */
  resync?: 'all' | 'new'
  /** Add `\Seen` to each message after it is ingested. Default `false`: the folder is opened read-only. */
  markSeen?: boolean
  /** Move each message to this folder after it is ingested. Default: messages stay where they are. */
  move?: string
  /** First back-off after a connection or authentication error, in ms. Default 30 000. */
  backoffBase?: number
  /** Longest back-off, in ms. Default 30 minutes. */
  backoffMax?: number
  onEvent?: (event: ImapPollerEvent) => void
  logger?: Logger
  /** Default: the system clock. Back-off times are read from it. */
  clock?: Clock
  /** Source of the back-off jitter, in [0, 1). Default `Math.random`. */
  random?: () => number
  /** Default: the global `setTimeout`/`clearTimeout`. */
  timers?: PollerTimers
}

export type ImapPollerEvent =
  | {
      /**
       * A mailbox could not be read (connection refused, authentication failed, a folder missing).
       * `message` is sanitized: it never holds the password or token.
       */
      type: 'imap-error'
      mailboxId: string
      /** The folder being read, or `null` when the connection itself failed. */
      folder: string | null
      message: string
      /** imapflow's or Node's error code, when there is one. */
      code: string | undefined
      /** Consecutive failed polls of this mailbox; 0 for a folder's error, which is not backed off. */
      failures: number
      /** The mailbox (or, for a folder's error, the folder) is not read again before this time. */
      retryAt: Date
    }
  | {
      /** A folder had no cursor or its UIDVALIDITY changed: it is read again as `resync` says. */
      type: 'cursor-reset'
      mailboxId: string
      folder: string
      previous: InboxCursor | null
      uidValidity: string
    }
  | {
      /**
       * Ingest threw for this message. `skipped: false` (the store failed, or any error but
       * `invalid-input`): the folder stops at it and it is retried at the next poll. `skipped: true`
       * (a `MailcadenceError` `invalid-input`: it would fail every time): the cursor moves past it,
       * and the message is left in the folder, neither flagged nor moved.
       */
      type: 'ingest-error'
      mailboxId: string
      folder: string
      uid: number
      message: string
      skipped: boolean
    }

/** One message read and ingested. */
export interface PolledMessage {
  mailboxId: string
  folder: string
  uid: number
  /** What ingest returned: an `IngestResult` with the default ingest. */
  result: unknown
}

/** What one `pollOnce()` did, per mailbox. */
export interface MailboxPollReport {
  mailboxId: string
  status: 'polled' | 'failed' | 'backing-off'
  /** With `backing-off` and `failed`: when the mailbox is tried again. */
  retryAt?: Date
  /** With `failed`: the sanitized error. */
  error?: string
}

export interface PollReport {
  mailboxes: MailboxPollReport[]
  messages: PolledMessage[]
}

export interface ImapPoller {
  /**
   * Reads every mailbox once (skipping those backing off). A mailbox's IMAP error is reported (in
   * the result and an `imap-error` event), never thrown; rejects only when the store fails
   * (listing the mailboxes, reading or saving a cursor).
   */
  pollOnce(): Promise<PollReport>
  /** Polls now and then every `interval` until `stop()`. A second call does nothing. */
  start(): void
  /** Ends the loop and waits for the poll in progress. */
  stop(): Promise<void>
}
