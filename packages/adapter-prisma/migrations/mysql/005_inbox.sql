-- mailcadence (@mailcadence/adapter-prisma) for MySQL 8 and MariaDB 10.6+, after
-- 004_window_keys.sql: what comes back from the inbox (replies, bounces, out-of-office answers). The
-- send log's Message-ID gets an index (a reply is matched to its send by it); the column stays TEXT:
-- a Message-ID may be long (core builds `<uuid@mailbox-domain>`, and `alreadySent` ids are the
-- provider's), and changing it would rebuild the table. MySQL indexes a TEXT column by a prefix, so
-- the index holds the first 191 characters and the adapter compares whole ids exactly, byte for
-- byte. A table records each inbound message applied, once, by its own Message-ID; another keeps
-- where an inbox reader stands in each folder of each mailbox; campaigns get `stop_on_reply`
-- (default `lead`: a reply stops the replier only, as before). Inbound Message-IDs, mailbox ids and
-- folder names compare byte for byte (`utf8mb4_bin`): `INBOX` and `inbox` are two folders, as on
-- the IMAP server. Every statement only adds: old code keeps working while a deploy rolls.
-- For hosts that do not run `prisma migrate`: run once, in the database your Prisma Client uses.

ALTER TABLE `mailcadence_campaigns` ADD COLUMN `stop_on_reply` VARCHAR(16) NOT NULL DEFAULT 'lead';

CREATE INDEX `mailcadence_send_log_message_id_idx` ON `mailcadence_send_log`(`message_id`(191));

CREATE TABLE `mailcadence_inbound_messages` (
    `message_id` VARCHAR(250) COLLATE utf8mb4_bin NOT NULL,
    `kind` VARCHAR(32) NOT NULL,
    `campaign_id` BIGINT NULL,
    `lead_id` BIGINT NULL,
    `processed_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`message_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_inbox_cursors` (
    `mailbox_id` VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    `folder` VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
    `uid_validity` VARCHAR(20) NOT NULL,
    `last_uid` BIGINT NOT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`mailbox_id`, `folder`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
