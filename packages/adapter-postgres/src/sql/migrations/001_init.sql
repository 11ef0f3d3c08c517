-- mailcadence 001: the store's tables. migrate() runs this with search_path set to the target schema,
-- inside a transaction, under an advisory lock. Instants are timestamptz; ids are bigint identities.
-- No column defaults to now(): every instant comes from the scheduler's clock.

CREATE TABLE mailboxes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  name text,
  daily_email_limit integer NOT NULL CHECK (daily_email_limit >= 0),
  timezone text NOT NULL,
  paused_until timestamptz,
  pause_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- day_key/day_sent: the campaign's count for its current window day. Kept on the campaign row so
-- that the reservation's row lock on the campaign also covers the count (exact, no read-then-write).
CREATE TABLE campaigns (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('DRAFT', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'CANCELLED')),
  mailbox_ids text[] NOT NULL,
  steps jsonb NOT NULL,
  variables text[] NOT NULL,
  timezone text NOT NULL,
  start_hour integer NOT NULL,
  start_minute integer NOT NULL,
  end_hour integer NOT NULL,
  end_minute integer NOT NULL,
  allowed_days text NOT NULL,
  delay_between_emails integer NOT NULL,
  jitter double precision NOT NULL,
  max_emails_per_day integer NOT NULL,
  next_slot_at timestamptz,
  last_mailbox_id bigint,
  day_key text,
  day_sent integer NOT NULL DEFAULT 0 CHECK (day_sent >= 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Every tick lists the running campaigns.
CREATE INDEX campaigns_in_progress ON campaigns (id) WHERE status = 'IN_PROGRESS';

CREATE TABLE leads (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id bigint NOT NULL REFERENCES campaigns (id),
  email text NOT NULL,
  email_key text NOT NULL,
  first_name text,
  last_name text,
  company text,
  variables jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'completed', 'replied', 'bounced', 'suppressed', 'failed')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT leads_once_per_campaign UNIQUE (campaign_id, email_key)
);

-- suppress() finds an address in every campaign.
CREATE INDEX leads_email_key ON leads (email_key);

CREATE TABLE suppressions (
  email_key text PRIMARY KEY,
  reason text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE queue_items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id bigint NOT NULL REFERENCES campaigns (id),
  lead_id bigint NOT NULL REFERENCES leads (id),
  step integer NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
  scheduled_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  mailbox_id bigint REFERENCES mailboxes (id),
  thread_refs text[] NOT NULL DEFAULT '{}',
  message_id text,
  thread_subject text,
  lease_token text,
  lease_until timestamptz,
  last_error text,
  sent_at timestamptz,
  -- Day keys the current (or last) reservation counted on, so a refund gives back only those.
  res_campaign_day_key text,
  res_mailbox_day_key text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT queue_items_once_per_step UNIQUE (campaign_id, lead_id, step)
);

-- The hot path reads pending and sending rows only. These partial indexes hold just those rows, so
-- their size, and the cost of every tick, does not grow with the sent history.
-- Earliest pending item per campaign (runnable campaigns, not-due, nextPendingAt):
CREATE INDEX queue_items_pending ON queue_items (campaign_id, scheduled_at, id) WHERE status = 'pending';
-- Head of each mailbox's pending items, and of the unassigned ones (mailbox_id IS NULL), for the
-- reservation: an item held by a full mailbox is never scanned.
CREATE INDEX queue_items_pending_by_mailbox ON queue_items (campaign_id, mailbox_id, scheduled_at, id)
  WHERE status = 'pending';
-- Expired leases, for recovery:
CREATE INDEX queue_items_sending ON queue_items (lease_until) WHERE status = 'sending';
-- "Is anything of this campaign in flight?", for drained campaigns:
CREATE INDEX queue_items_sending_by_campaign ON queue_items (campaign_id) WHERE status = 'sending';

CREATE TABLE send_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id bigint NOT NULL,
  lead_id bigint NOT NULL,
  step integer NOT NULL,
  mailbox_id bigint NOT NULL,
  message_id text NOT NULL,
  recipient text NOT NULL,
  subject text NOT NULL,
  sent_at timestamptz NOT NULL,
  -- Invariant 1 as a constraint: a (campaign, lead, step) is logged as sent at most once.
  CONSTRAINT send_log_once_per_step UNIQUE (campaign_id, lead_id, step)
);

-- One row per mailbox per local day: claimed with INSERT … ON CONFLICT DO UPDATE … WHERE sent < limit.
CREATE TABLE mailbox_day_counts (
  mailbox_id bigint NOT NULL,
  day_key text NOT NULL,
  sent integer NOT NULL CHECK (sent >= 0),
  PRIMARY KEY (mailbox_id, day_key)
);
