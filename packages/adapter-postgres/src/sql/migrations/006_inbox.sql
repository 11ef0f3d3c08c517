-- mailcadence 006: what comes back from the inbox (issue #15). Run by migrate() like 001: search_path
-- set to the target schema, inside a transaction, under the advisory lock. Additive: a store of the
-- previous version keeps working on a schema migrated to this one.

-- Replies and bounces name the Message-ID of the email they answer: findSentByMessageIds looks the
-- send up by it, which without this index would read the whole send log. Built here inside the
-- transaction, it blocks writes to the send log (completions) while it builds; on a big send log
-- build it first, outside any transaction, and this statement then finds it (README, "Upgrading a big database"):
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS send_log_message_id ON <schema>.send_log (message_id);
CREATE INDEX IF NOT EXISTS send_log_message_id ON send_log (message_id);

-- Inbound messages applied, once each (recordInbound: INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE inbound_messages (
  message_id text PRIMARY KEY,
  kind text NOT NULL,
  campaign_id bigint,
  lead_id bigint,
  processed_at timestamptz NOT NULL
);

-- Where an inbox reader stands in each folder of each mailbox (IMAP UIDVALIDITY and last UID).
CREATE TABLE inbox_cursors (
  mailbox_id text NOT NULL,
  folder text NOT NULL,
  uid_validity text NOT NULL,
  last_uid bigint NOT NULL CHECK (last_uid >= 0),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (mailbox_id, folder)
);

-- Whose sequence a reply stops: the replier's ('lead') or every active lead at its domain ('domain').
ALTER TABLE campaigns ADD COLUMN stop_on_reply text NOT NULL DEFAULT 'lead'
  CHECK (stop_on_reply IN ('lead', 'domain'));
