-- mailcadence (@mailcadence/adapter-prisma) for PostgreSQL, after 001_init.sql: campaigns
-- imported from another sender (`external_id`) and the sends that sender made (counted once each).
-- For hosts that do not run `prisma migrate`: run once, in the schema your Prisma Client uses.

ALTER TABLE "mailcadence_campaigns" ADD COLUMN "external_id" TEXT;

CREATE TABLE "mailcadence_external_sends" (
    "send_key" TEXT NOT NULL,
    "mailbox_id" BIGINT,
    "mailbox_day_key" TEXT,
    "campaign_id" BIGINT,
    "campaign_day_key" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_external_sends_pkey" PRIMARY KEY ("send_key")
);

CREATE UNIQUE INDEX "mailcadence_campaigns_external_id_key" ON "mailcadence_campaigns"("external_id");
