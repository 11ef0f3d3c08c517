-- mailcadence (@mailcadence/adapter-prisma) for MySQL 8 and MariaDB 10.6+, after 002_import.sql: a
-- version of each campaign's settings, one more with every updateCampaign (existing campaigns start
-- at 1). For hosts that do not run `prisma migrate`: run once, in the database your Prisma Client
-- uses.

ALTER TABLE `mailcadence_campaigns` ADD COLUMN `settings_version` INTEGER NOT NULL DEFAULT 1;
