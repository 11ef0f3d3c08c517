/**
 * @mailcadence/inbox: what comes back from the inbox (replies, auto-replies, bounces, complaints,
 * unsubscribes) read into a mailcadence scheduler.
 *
 * @packageDocumentation
 */
export * from './classify/index.js'
export {
  createImapPoller,
  type ImapPoller,
  type ImapPollerBaseOptions,
  type ImapPollerEvent,
  type ImapPollerOptions,
  type IngestFunction,
  type MailboxPollReport,
  type PolledMessage,
  type PollerScheduler,
  type PollerTimers,
  type PollReport,
} from './imap/index.js'
export { type IngestOptions, type IngestResult, ingestMessage } from './ingest/index.js'
export {
  createUnsubscribe,
  type Unsubscribe,
  type UnsubscribeClaim,
  type UnsubscribeOptions,
  type UnsubscribeSecret,
} from './unsubscribe/index.js'
