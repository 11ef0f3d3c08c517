-- mailcadence (@mailcadence/adapter-prisma) for SQLite, after 006_variants.sql: limits that protect
-- mailboxes. Mailboxes get an hourly cap, a warm-up ramp (JSON), core's warm-up progress and their
-- provider; campaigns get a recipient-domain limit (JSON) and provider matching; a table holds the
-- named counters those limits claim. Existing rows read as before: no hourly cap, no ramp (level 0,
-- no day yet), provider unknown, no domain limit, matching `off`.
-- For hosts that do not run `prisma migrate`: run once on the database file.

ALTER TABLE "mailcadence_mailboxes" ADD COLUMN "hourly_limit" INTEGER;

ALTER TABLE "mailcadence_mailboxes" ADD COLUMN "ramp_up" TEXT;

ALTER TABLE "mailcadence_mailboxes" ADD COLUMN "ramp_level" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "mailcadence_mailboxes" ADD COLUMN "ramp_day_key" TEXT;

ALTER TABLE "mailcadence_mailboxes" ADD COLUMN "provider" TEXT;

ALTER TABLE "mailcadence_campaigns" ADD COLUMN "recipient_domain_limit" TEXT;

ALTER TABLE "mailcadence_campaigns" ADD COLUMN "provider_matching" TEXT NOT NULL DEFAULT 'off';

CREATE TABLE "mailcadence_counters" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "count" INTEGER NOT NULL,
    "expires_at" DATETIME NOT NULL
);

CREATE INDEX "mailcadence_counters_expires_at_idx" ON "mailcadence_counters"("expires_at");
