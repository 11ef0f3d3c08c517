export { createImapPoller } from './poller.js'
export type {
  ImapPoller,
  ImapPollerEvent,
  ImapPollerOptions,
  InboxCursor,
  IngestFunction,
  MailboxPollReport,
  PolledMessage,
  PollerScheduler,
  PollerTimers,
  PollReport,
} from './types.js'
