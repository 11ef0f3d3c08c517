-- mailcadence (@mailcadence/adapter-prisma) for MySQL 8 and MariaDB 10.6+, after
-- 006_variants.sql: limits that protect mailboxes. Mailboxes get an hourly cap, a warm-up ramp
-- (JSON), core's warm-up progress and their provider; campaigns get a recipient-domain limit (JSON)
-- and provider matching; a table holds the named counters those limits claim. Existing rows read as
-- before: no hourly cap, no ramp (level 0, no day yet), provider unknown, no domain limit, matching
-- `off`. Counter keys compare byte for byte (`utf8mb4_bin`): core's keys hold mailbox ids and
-- domains, and two keys that differ only in case are two counters. Every statement only adds: old
-- code keeps working while a deploy rolls.
-- For hosts that do not run `prisma migrate`: run once, in the database your Prisma Client uses.

ALTER TABLE `mailcadence_mailboxes` ADD COLUMN `hourly_limit` INTEGER NULL;

ALTER TABLE `mailcadence_mailboxes` ADD COLUMN `ramp_up` TEXT NULL;

ALTER TABLE `mailcadence_mailboxes` ADD COLUMN `ramp_level` INTEGER NOT NULL DEFAULT 0;

ALTER TABLE `mailcadence_mailboxes` ADD COLUMN `ramp_day_key` VARCHAR(32) NULL;

ALTER TABLE `mailcadence_mailboxes` ADD COLUMN `provider` VARCHAR(16) NULL;

ALTER TABLE `mailcadence_campaigns` ADD COLUMN `recipient_domain_limit` TEXT NULL;

ALTER TABLE `mailcadence_campaigns` ADD COLUMN `provider_matching` VARCHAR(16) NOT NULL DEFAULT 'off';

CREATE TABLE `mailcadence_counters` (
    `key` VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    `count` INTEGER NOT NULL,
    `expires_at` DATETIME(3) NOT NULL,

    INDEX `mailcadence_counters_expires_at_idx`(`expires_at`),
    PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
