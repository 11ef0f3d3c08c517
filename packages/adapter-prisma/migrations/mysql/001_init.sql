-- mailcadence (@mailcadence/adapter-prisma) tables for MySQL 8 and MariaDB 10.6+, matching
-- schema/mysql/mailcadence.prisma. For hosts that do not run `prisma migrate`: run once, in the
-- database your Prisma Client uses.

CREATE TABLE `mailcadence_mailboxes` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `email` VARCHAR(320) NOT NULL,
    `name` TEXT NULL,
    `daily_email_limit` INTEGER NOT NULL,
    `timezone` VARCHAR(64) NOT NULL,
    `paused_until` DATETIME(3) NULL,
    `pause_reason` TEXT NULL,
    `created_at` DATETIME(3) NOT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_campaigns` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `name` TEXT NOT NULL,
    `status` VARCHAR(16) NOT NULL,
    `timezone` VARCHAR(64) NOT NULL,
    `start_hour` INTEGER NOT NULL,
    `start_minute` INTEGER NOT NULL,
    `end_hour` INTEGER NOT NULL,
    `end_minute` INTEGER NOT NULL,
    `allowed_days` VARCHAR(64) NOT NULL,
    `delay_between_emails` INTEGER NOT NULL,
    `jitter` DOUBLE NOT NULL,
    `max_emails_per_day` INTEGER NOT NULL,
    `mailbox_ids` TEXT NOT NULL,
    `steps` MEDIUMTEXT NOT NULL,
    `variables` TEXT NOT NULL,
    `next_slot_at` DATETIME(3) NULL,
    `last_mailbox_id` BIGINT NULL,
    `revision` INTEGER NOT NULL DEFAULT 0,
    `created_at` DATETIME(3) NOT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    INDEX `mailcadence_campaigns_status_idx`(`status`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_leads` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `campaign_id` BIGINT NOT NULL,
    `email` VARCHAR(320) NOT NULL,
    `email_key` VARCHAR(320) NOT NULL,
    `first_name` TEXT NULL,
    `last_name` TEXT NULL,
    `company` TEXT NULL,
    `variables` TEXT NOT NULL,
    `status` VARCHAR(16) NOT NULL,
    `revision` INTEGER NOT NULL DEFAULT 0,
    `created_at` DATETIME(3) NOT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    INDEX `mailcadence_leads_email_key_idx`(`email_key`),
    UNIQUE INDEX `mailcadence_leads_campaign_id_email_key_key`(`campaign_id`, `email_key`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_queue_items` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `campaign_id` BIGINT NOT NULL,
    `lead_id` BIGINT NOT NULL,
    `step` INTEGER NOT NULL,
    `status` VARCHAR(16) NOT NULL,
    `scheduled_at` DATETIME(3) NOT NULL,
    `attempts` INTEGER NOT NULL,
    `mailbox_id` BIGINT NULL,
    `references` TEXT NOT NULL,
    `message_id` TEXT NULL,
    `thread_subject` TEXT NULL,
    `lease_token` VARCHAR(64) NULL,
    `lease_until` DATETIME(3) NULL,
    `last_error` TEXT NULL,
    `sent_at` DATETIME(3) NULL,
    `res_campaign_day_key` VARCHAR(10) NULL,
    `res_mailbox_day_key` VARCHAR(10) NULL,
    `created_at` DATETIME(3) NOT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    INDEX `mailcadence_queue_items_campaign_id_status_scheduled_at_idx`(`campaign_id`, `status`, `scheduled_at`),
    INDEX `mailcadence_queue_items_status_lease_until_idx`(`status`, `lease_until`),
    INDEX `mailcadence_queue_items_lead_id_status_idx`(`lead_id`, `status`),
    UNIQUE INDEX `mailcadence_queue_items_campaign_id_lead_id_step_key`(`campaign_id`, `lead_id`, `step`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_send_log` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `campaign_id` BIGINT NOT NULL,
    `lead_id` BIGINT NOT NULL,
    `step` INTEGER NOT NULL,
    `mailbox_id` BIGINT NOT NULL,
    `message_id` TEXT NOT NULL,
    `to_email` VARCHAR(320) NOT NULL,
    `subject` TEXT NOT NULL,
    `sent_at` DATETIME(3) NOT NULL,

    INDEX `mailcadence_send_log_campaign_id_sent_at_idx`(`campaign_id`, `sent_at`),
    UNIQUE INDEX `mailcadence_send_log_campaign_id_lead_id_step_key`(`campaign_id`, `lead_id`, `step`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_campaign_days` (
    `campaign_id` BIGINT NOT NULL,
    `day_key` VARCHAR(10) NOT NULL,
    `sent` INTEGER NOT NULL,

    PRIMARY KEY (`campaign_id`, `day_key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_mailbox_days` (
    `mailbox_id` BIGINT NOT NULL,
    `day_key` VARCHAR(10) NOT NULL,
    `sent` INTEGER NOT NULL,

    PRIMARY KEY (`mailbox_id`, `day_key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `mailcadence_suppressions` (
    `email_key` VARCHAR(320) NOT NULL,
    `reason` TEXT NOT NULL,
    `created_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`email_key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `mailcadence_leads` ADD CONSTRAINT `mailcadence_leads_campaign_id_fkey` FOREIGN KEY (`campaign_id`) REFERENCES `mailcadence_campaigns`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE `mailcadence_queue_items` ADD CONSTRAINT `mailcadence_queue_items_campaign_id_fkey` FOREIGN KEY (`campaign_id`) REFERENCES `mailcadence_campaigns`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE `mailcadence_queue_items` ADD CONSTRAINT `mailcadence_queue_items_lead_id_fkey` FOREIGN KEY (`lead_id`) REFERENCES `mailcadence_leads`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
