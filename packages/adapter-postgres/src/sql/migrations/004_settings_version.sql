-- mailcadence 004: a version of each campaign's settings, one more with every updateCampaign, so a
-- deferral (deferCampaigns) computed from older settings is recognised even when the change fell
-- in the same millisecond as the read it came from (updated_at could not tell them apart). Run by
-- migrate() like 001: search_path set to the target schema, inside a transaction, under the
-- advisory lock. Additive: existing campaigns start at 1, and a store of the previous version keeps
-- working on a schema migrated to this one (it leaves the column at its value).
ALTER TABLE campaigns ADD COLUMN settings_version integer NOT NULL DEFAULT 1;
