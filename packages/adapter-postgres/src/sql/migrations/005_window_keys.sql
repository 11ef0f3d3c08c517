-- mailcadence 005: lead time zones and skip dates (issue #13). Run by migrate() like 001: search_path
-- set to the target schema, inside a transaction, under the advisory lock. Additive: every new column
-- has a default that means "as before" (no zone, campaign's clock, no skip date), so a store of the
-- previous version keeps working on a schema migrated to this one.

-- A lead's zone and country (null: unknown) and its window key, core's windowKeyOf(lead): opaque
-- here, stored with the lead and copied to each of its queue items.
ALTER TABLE leads ADD COLUMN timezone text;
ALTER TABLE leads ADD COLUMN country text;
ALTER TABLE leads ADD COLUMN window_key text NOT NULL DEFAULT '';

-- The item's copy of its lead's window key, which reservations filter on (ReserveRequest.windowKeys).
-- Copied rather than joined: the reservation reads pending items through their indexes only.
ALTER TABLE queue_items ADD COLUMN window_key text NOT NULL DEFAULT '';

ALTER TABLE campaigns ADD COLUMN window_timezone text NOT NULL DEFAULT 'campaign'
  CHECK (window_timezone IN ('campaign', 'lead'));
ALTER TABLE campaigns ADD COLUMN skip_dates text[] NOT NULL DEFAULT '{}';
ALTER TABLE mailboxes ADD COLUMN skip_dates text[] NOT NULL DEFAULT '{}';

-- The window keys of a campaign's pending items with the earliest item of each (listWindowKeys: a
-- loose index scan, one probe per distinct key). Added next to queue_items_pending (campaign_id,
-- scheduled_at, id) rather than replacing it: that one answers "the campaign's earliest pending
-- item" in one probe, which the idle tick (listDueCampaigns), every reservation (nextPendingAt, the
-- refusal's facts) and raiseNextDue ask; from this index it would cost one probe per key (a loose
-- scan) in each of them. The price is one more entry written per item made pending.
CREATE INDEX queue_items_pending_by_key ON queue_items (campaign_id, window_key, scheduled_at, id)
  WHERE status = 'pending';
