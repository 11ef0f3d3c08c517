-- mailcadence (@mailcadence/adapter-sqlite) 002: what comes back from the inbox (replies, bounces,
-- out-of-office answers, the IMAP poller's place). Additive: a store of the previous version keeps
-- working on a file migrated to this one.

-- Replies and bounces name the Message-ID of the email they answer: findSentByMessageIds looks the
-- send up by it, which without this index would read the whole send log.
CREATE INDEX mailcadence_send_log_message_id ON mailcadence_send_log (message_id);

-- Inbound messages applied, once each (recordInbound: INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE mailcadence_inbound_messages (
  message_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  campaign_id INTEGER,
  lead_id INTEGER,
  processed_at INTEGER NOT NULL
);

-- Where an inbox reader stands in each folder of each mailbox (IMAP UIDVALIDITY and last UID).
CREATE TABLE mailcadence_inbox_cursors (
  mailbox_id TEXT NOT NULL,
  folder TEXT NOT NULL,
  uid_validity TEXT NOT NULL,
  last_uid INTEGER NOT NULL CHECK (last_uid >= 0),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, folder)
) WITHOUT ROWID;

-- Whose sequence a reply stops: the replier's ('lead') or every active lead at its domain ('domain').
ALTER TABLE mailcadence_campaigns ADD COLUMN stop_on_reply TEXT NOT NULL DEFAULT 'lead'
  CHECK (stop_on_reply IN ('lead', 'domain'));
