-- mailcadence 002: migrating from a legacy sender (imported campaigns and leads, sends counted from
-- the other system). Run by migrate() like 001: search_path set to the target schema, inside a
-- transaction, under the advisory lock. Additive only: a store of the previous version keeps working
-- on a schema migrated to this one.

-- The campaign's id in the system it was imported from. NULLs never conflict, so only imported
-- campaigns are constrained; createCampaign inserts with ON CONFLICT (external_id) DO NOTHING, so
-- concurrent imports of one campaign create it once.
ALTER TABLE campaigns ADD COLUMN external_id text;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_external_id_once UNIQUE (external_id);

-- Sends another system made (recordExternalSends): one row per key, claimed with
-- INSERT … ON CONFLICT DO NOTHING, so a send is counted at most once however often it is reported.
-- The other columns say what it was counted for, for inspection.
CREATE TABLE external_sends (
  key text PRIMARY KEY,
  mailbox_id bigint,
  mailbox_day_key text,
  campaign_id bigint,
  campaign_day_key text,
  recorded_at timestamptz NOT NULL
);
