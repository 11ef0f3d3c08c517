-- mailcadence (@mailcadence/adapter-prisma) for MySQL 8 and MariaDB 10.6+, after
-- 004_window_keys.sql: step variants (A/B tests). A queue item keeps the variant core chose on its
-- first reservation, so a retry sends the same one and variant stats can count it. Existing rows
-- get null (no variant), which is how they behaved before.
-- For hosts that do not run `prisma migrate`: run once, in the database your Prisma Client uses.

ALTER TABLE `mailcadence_queue_items` ADD COLUMN `variant_id` VARCHAR(200) NULL;
