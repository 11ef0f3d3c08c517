-- mailcadence (@mailcadence/adapter-sqlite) 001: the store's tables. Run by migrate() inside
-- BEGIN IMMEDIATE, so processes opening a new file at once apply it once. Instants are INTEGER
-- epoch milliseconds from the scheduler's clock (no column defaults to the time of day); ids are
-- INTEGER row ids (AUTOINCREMENT: never reused, so keyset pages never shift); lists are JSON text.
-- Every table is prefixed, so the store can share a file with the host's own tables.

CREATE TABLE mailcadence_mailboxes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL,
  name TEXT,
  daily_email_limit INTEGER NOT NULL CHECK (daily_email_limit >= 0),
  timezone TEXT NOT NULL,
  skip_dates TEXT NOT NULL DEFAULT '[]',
  paused_until INTEGER,
  pause_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE mailcadence_campaigns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('DRAFT', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'CANCELLED')),
  external_id TEXT UNIQUE,
  mailbox_ids TEXT NOT NULL,
  steps TEXT NOT NULL,
  variables TEXT NOT NULL,
  timezone TEXT NOT NULL,
  start_hour INTEGER NOT NULL,
  start_minute INTEGER NOT NULL,
  end_hour INTEGER NOT NULL,
  end_minute INTEGER NOT NULL,
  allowed_days TEXT NOT NULL,
  window_timezone TEXT NOT NULL CHECK (window_timezone IN ('campaign', 'lead')),
  skip_dates TEXT NOT NULL DEFAULT '[]',
  delay_between_emails INTEGER NOT NULL,
  jitter REAL NOT NULL,
  max_emails_per_day INTEGER NOT NULL,
  settings_version INTEGER NOT NULL DEFAULT 1,
  next_slot_at INTEGER,
  last_mailbox_id INTEGER,
  -- A lower bound of the earliest scheduled_at of the campaign's pending items, NULL only when it
  -- has none. The triggers below lower it in the statement that makes an item pending; it may lag
  -- behind (an item reserved or cancelled leaves it earlier than the queue's earliest), and
  -- listDueCampaigns raises it to the queue's earliest under the write lock when it finds it stale.
  next_due_at INTEGER,
  -- Core's deferral (deferCampaigns) and the settings_version it was computed under: a deferral of
  -- older settings is ignored (updateCampaign adds one to settings_version).
  deferred_until INTEGER,
  deferred_version INTEGER,
  -- When the campaign can send at the earliest: what an idle tick reads, through the index below,
  -- so a tick costs O(due campaigns) whatever the number of campaigns waiting.
  can_send_from INTEGER GENERATED ALWAYS AS (
    CASE
      WHEN next_due_at IS NULL THEN NULL
      WHEN deferred_version = settings_version AND deferred_until > next_due_at THEN deferred_until
      ELSE next_due_at
    END
  ) VIRTUAL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE INDEX mailcadence_campaigns_can_send_from ON mailcadence_campaigns (can_send_from)
  WHERE status = 'IN_PROGRESS';

CREATE TABLE mailcadence_leads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id INTEGER NOT NULL REFERENCES mailcadence_campaigns (id),
  email TEXT NOT NULL,
  email_key TEXT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  company TEXT,
  variables TEXT NOT NULL,
  timezone TEXT,
  country TEXT,
  window_key TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'replied', 'bounced', 'suppressed', 'failed')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (campaign_id, email_key)
);

-- suppress() finds an address in every campaign.
CREATE INDEX mailcadence_leads_email_key ON mailcadence_leads (email_key);

CREATE TABLE mailcadence_suppressions (
  email_key TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE mailcadence_queue_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id INTEGER NOT NULL REFERENCES mailcadence_campaigns (id),
  lead_id INTEGER NOT NULL REFERENCES mailcadence_leads (id),
  step INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
  scheduled_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  mailbox_id INTEGER,
  window_key TEXT NOT NULL DEFAULT '',
  thread_refs TEXT NOT NULL DEFAULT '[]',
  message_id TEXT,
  thread_subject TEXT,
  lease_token TEXT,
  lease_until INTEGER,
  last_error TEXT,
  sent_at INTEGER,
  -- Day keys the current (or last) reservation counted on, so a refund gives back only those.
  res_campaign_day_key TEXT,
  res_mailbox_day_key TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (campaign_id, lead_id, step)
);

-- The hot path reads pending and sending rows only: these partial indexes hold just those, so a
-- tick does not slow down as the sent history grows.
-- Earliest pending item of a campaign (runnable campaigns, nextPendingAt, a refusal's facts):
CREATE INDEX mailcadence_items_pending ON mailcadence_queue_items (campaign_id, scheduled_at, id)
  WHERE status = 'pending';
-- Head of each mailbox's (and the unassigned) pending items per window key, for a reservation;
-- also the window keys of a campaign's queue (listWindowKeys skips from key to key).
CREATE INDEX mailcadence_items_pending_by_key ON mailcadence_queue_items
  (campaign_id, window_key, mailbox_id, scheduled_at, id) WHERE status = 'pending';
CREATE INDEX mailcadence_items_pending_by_mailbox ON mailcadence_queue_items
  (campaign_id, mailbox_id, scheduled_at, id) WHERE status = 'pending';
-- Expired leases, for recovery; in-flight items of a campaign, for drained campaigns.
CREATE INDEX mailcadence_items_sending ON mailcadence_queue_items (lease_until) WHERE status = 'sending';
CREATE INDEX mailcadence_items_sending_by_campaign ON mailcadence_queue_items (campaign_id)
  WHERE status = 'sending';
-- queueStats, listQueueItems, listFailedSends, a lead's items.
CREATE INDEX mailcadence_items_by_status ON mailcadence_queue_items (campaign_id, status, updated_at);
CREATE INDEX mailcadence_items_by_lead ON mailcadence_queue_items (lead_id, step);

-- Lowers next_due_at when an item becomes pending, in the same statement (so in the same write
-- transaction): whatever code path makes an item pending, the bound never runs ahead of the queue.
CREATE TRIGGER mailcadence_items_pending_inserted AFTER INSERT ON mailcadence_queue_items
WHEN NEW.status = 'pending'
BEGIN
  UPDATE mailcadence_campaigns SET next_due_at = min(coalesce(next_due_at, NEW.scheduled_at), NEW.scheduled_at)
  WHERE id = NEW.campaign_id;
END;

CREATE TRIGGER mailcadence_items_pending_updated AFTER UPDATE OF status, scheduled_at ON mailcadence_queue_items
WHEN NEW.status = 'pending'
BEGIN
  UPDATE mailcadence_campaigns SET next_due_at = min(coalesce(next_due_at, NEW.scheduled_at), NEW.scheduled_at)
  WHERE id = NEW.campaign_id;
END;

CREATE TABLE mailcadence_send_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id INTEGER NOT NULL,
  lead_id INTEGER NOT NULL,
  step INTEGER NOT NULL,
  mailbox_id INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  -- Invariant 1 as a constraint: a (campaign, lead, step) is logged as sent at most once.
  UNIQUE (campaign_id, lead_id, step)
);

CREATE INDEX mailcadence_send_log_by_time ON mailcadence_send_log (campaign_id, sent_at);

CREATE TABLE mailcadence_campaign_day_counts (
  campaign_id INTEGER NOT NULL,
  day_key TEXT NOT NULL,
  sent INTEGER NOT NULL CHECK (sent >= 0),
  PRIMARY KEY (campaign_id, day_key)
) WITHOUT ROWID;

CREATE TABLE mailcadence_mailbox_day_counts (
  mailbox_id INTEGER NOT NULL,
  day_key TEXT NOT NULL,
  sent INTEGER NOT NULL CHECK (sent >= 0),
  PRIMARY KEY (mailbox_id, day_key)
) WITHOUT ROWID;

-- Sends another system made (recordExternalSends), counted once per key.
CREATE TABLE mailcadence_external_sends (
  key TEXT PRIMARY KEY,
  mailbox_id INTEGER,
  mailbox_day_key TEXT,
  campaign_id INTEGER,
  campaign_day_key TEXT,
  recorded_at INTEGER NOT NULL
);
