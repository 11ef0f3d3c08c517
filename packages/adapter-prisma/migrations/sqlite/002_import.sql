-- mailcadence (@mailcadence/adapter-prisma) for SQLite, after 001_init.sql: campaigns imported
-- from another sender (`external_id`) and the sends that sender made (counted once each).
-- For hosts that do not run `prisma migrate`: run once on the database file.

ALTER TABLE "mailcadence_campaigns" ADD COLUMN "external_id" TEXT;

CREATE TABLE "mailcadence_external_sends" (
    "send_key" TEXT NOT NULL PRIMARY KEY,
    "mailbox_id" BIGINT,
    "mailbox_day_key" TEXT,
    "campaign_id" BIGINT,
    "campaign_day_key" TEXT,
    "created_at" DATETIME NOT NULL
);

CREATE UNIQUE INDEX "mailcadence_campaigns_external_id_key" ON "mailcadence_campaigns"("external_id");
