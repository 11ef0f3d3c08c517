-- mailcadence (@mailcadence/adapter-prisma) for MySQL 8 and MariaDB 10.6+, after 001_init.sql:
-- campaigns imported from another sender (`external_id`) and the sends that sender made (counted
-- once each). For hosts that do not run `prisma migrate`: run once, in the database your Prisma
-- Client uses.

ALTER TABLE `mailcadence_campaigns` ADD COLUMN `external_id` VARCHAR(255) NULL;

CREATE TABLE `mailcadence_external_sends` (
    `send_key` VARCHAR(255) NOT NULL,
    `mailbox_id` BIGINT NULL,
    `mailbox_day_key` VARCHAR(10) NULL,
    `campaign_id` BIGINT NULL,
    `campaign_day_key` VARCHAR(10) NULL,
    `created_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`send_key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE UNIQUE INDEX `mailcadence_campaigns_external_id_key` ON `mailcadence_campaigns`(`external_id`);
