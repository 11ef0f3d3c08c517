-- mailcadence (@mailcadence/adapter-prisma) for PostgreSQL, after 003_settings_version.sql: lead
-- time zones and skip dates. Leads get their time zone, country and window key, which each of
-- their queue items copies; campaigns get `window_timezone` and `skip_dates`, mailboxes
-- `skip_dates`; an index finds a campaign's pending items per window key. Existing rows get the
-- defaults (no key, the campaign's clock, no skip date), which is how they behaved before.
-- For hosts that do not run `prisma migrate`: run once, in the schema your Prisma Client uses. On a
-- big queue, create the index first with CREATE INDEX CONCURRENTLY to avoid blocking writes.

ALTER TABLE "mailcadence_mailboxes" ADD COLUMN "skip_dates" TEXT NOT NULL DEFAULT '[]';

ALTER TABLE "mailcadence_campaigns" ADD COLUMN "window_timezone" TEXT NOT NULL DEFAULT 'campaign';

ALTER TABLE "mailcadence_campaigns" ADD COLUMN "skip_dates" TEXT NOT NULL DEFAULT '[]';

ALTER TABLE "mailcadence_leads" ADD COLUMN "timezone" TEXT;

ALTER TABLE "mailcadence_leads" ADD COLUMN "country" TEXT;

ALTER TABLE "mailcadence_leads" ADD COLUMN "window_key" TEXT NOT NULL DEFAULT '';

ALTER TABLE "mailcadence_queue_items" ADD COLUMN "window_key" TEXT NOT NULL DEFAULT '';

CREATE INDEX "mailcadence_queue_items_campaign_id_status_window_key_idx" ON "mailcadence_queue_items"("campaign_id", "status", "window_key", "scheduled_at");
