-- mailcadence (@mailcadence/adapter-prisma) for MySQL 8 and MariaDB 10.6+, after
-- 003_settings_version.sql: lead time zones and skip dates. Leads get their time zone, country and
-- window key, which each of their queue items copies; campaigns get `window_timezone` and
-- `skip_dates`, mailboxes `skip_dates`; an index finds a campaign's pending items per window key.
-- Existing rows get the defaults (no key, the campaign's clock, no skip date), which is how they
-- behaved before. Window keys compare byte for byte (`utf8mb4_bin`): they are opaque to the store,
-- so two keys that differ only in case are two keys. TEXT takes its default as an expression
-- (`DEFAULT ('[]')`), which MySQL 8.0.13+ and MariaDB 10.2+ accept.
-- For hosts that do not run `prisma migrate`: run once, in the database your Prisma Client uses.

ALTER TABLE `mailcadence_mailboxes` ADD COLUMN `skip_dates` TEXT NOT NULL DEFAULT ('[]');

ALTER TABLE `mailcadence_campaigns` ADD COLUMN `window_timezone` VARCHAR(16) NOT NULL DEFAULT 'campaign';

ALTER TABLE `mailcadence_campaigns` ADD COLUMN `skip_dates` TEXT NOT NULL DEFAULT ('[]');

ALTER TABLE `mailcadence_leads` ADD COLUMN `timezone` VARCHAR(64) NULL;

ALTER TABLE `mailcadence_leads` ADD COLUMN `country` VARCHAR(2) NULL;

ALTER TABLE `mailcadence_leads` ADD COLUMN `window_key` VARCHAR(80) COLLATE utf8mb4_bin NOT NULL DEFAULT '';

ALTER TABLE `mailcadence_queue_items` ADD COLUMN `window_key` VARCHAR(80) COLLATE utf8mb4_bin NOT NULL DEFAULT '';

CREATE INDEX `mailcadence_queue_items_campaign_id_status_window_key_idx` ON `mailcadence_queue_items`(`campaign_id`, `status`, `window_key`, `scheduled_at`);
