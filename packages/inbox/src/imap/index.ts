export { createImapPoller } from './poller.js'
export type {
  ImapPoller,
  ImapPollerBaseOptions,
  ImapPollerEvent,
  ImapPollerOptions,
  IngestFunction,
  MailboxPollReport,
  PolledMessage,
  PollerScheduler,
  PollerTimers,
  PollReport,
} from './types.js'
