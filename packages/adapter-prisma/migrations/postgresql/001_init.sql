-- mailcadence (@mailcadence/adapter-prisma) tables for PostgreSQL, matching mailcadence.prisma.
-- For hosts that do not run `prisma migrate`: run once, in the schema your Prisma Client uses.

CREATE TABLE "mailcadence_mailboxes" (
    "id" BIGSERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "daily_email_limit" INTEGER NOT NULL,
    "timezone" TEXT NOT NULL,
    "paused_until" TIMESTAMP(3),
    "pause_reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_mailboxes_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "mailcadence_campaigns" (
    "id" BIGSERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "start_hour" INTEGER NOT NULL,
    "start_minute" INTEGER NOT NULL,
    "end_hour" INTEGER NOT NULL,
    "end_minute" INTEGER NOT NULL,
    "allowed_days" TEXT NOT NULL,
    "delay_between_emails" INTEGER NOT NULL,
    "jitter" DOUBLE PRECISION NOT NULL,
    "max_emails_per_day" INTEGER NOT NULL,
    "mailbox_ids" TEXT NOT NULL,
    "steps" TEXT NOT NULL,
    "variables" TEXT NOT NULL,
    "next_slot_at" TIMESTAMP(3),
    "last_mailbox_id" BIGINT,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_campaigns_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "mailcadence_leads" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" BIGINT NOT NULL,
    "email" TEXT NOT NULL,
    "email_key" TEXT NOT NULL,
    "first_name" TEXT,
    "last_name" TEXT,
    "company" TEXT,
    "variables" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_leads_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "mailcadence_queue_items" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" BIGINT NOT NULL,
    "lead_id" BIGINT NOT NULL,
    "step" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "scheduled_at" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "mailbox_id" BIGINT,
    "references" TEXT NOT NULL,
    "message_id" TEXT,
    "thread_subject" TEXT,
    "lease_token" TEXT,
    "lease_until" TIMESTAMP(3),
    "last_error" TEXT,
    "sent_at" TIMESTAMP(3),
    "res_campaign_day_key" TEXT,
    "res_mailbox_day_key" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_queue_items_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "mailcadence_send_log" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" BIGINT NOT NULL,
    "lead_id" BIGINT NOT NULL,
    "step" INTEGER NOT NULL,
    "mailbox_id" BIGINT NOT NULL,
    "message_id" TEXT NOT NULL,
    "to_email" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "sent_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_send_log_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "mailcadence_campaign_days" (
    "campaign_id" BIGINT NOT NULL,
    "day_key" TEXT NOT NULL,
    "sent" INTEGER NOT NULL,

    CONSTRAINT "mailcadence_campaign_days_pkey" PRIMARY KEY ("campaign_id","day_key")
);

CREATE TABLE "mailcadence_mailbox_days" (
    "mailbox_id" BIGINT NOT NULL,
    "day_key" TEXT NOT NULL,
    "sent" INTEGER NOT NULL,

    CONSTRAINT "mailcadence_mailbox_days_pkey" PRIMARY KEY ("mailbox_id","day_key")
);

CREATE TABLE "mailcadence_suppressions" (
    "email_key" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_suppressions_pkey" PRIMARY KEY ("email_key")
);

CREATE INDEX "mailcadence_campaigns_status_idx" ON "mailcadence_campaigns"("status");

CREATE INDEX "mailcadence_leads_email_key_idx" ON "mailcadence_leads"("email_key");

CREATE UNIQUE INDEX "mailcadence_leads_campaign_id_email_key_key" ON "mailcadence_leads"("campaign_id", "email_key");

CREATE INDEX "mailcadence_queue_items_campaign_id_status_scheduled_at_idx" ON "mailcadence_queue_items"("campaign_id", "status", "scheduled_at");

CREATE INDEX "mailcadence_queue_items_status_lease_until_idx" ON "mailcadence_queue_items"("status", "lease_until");

CREATE INDEX "mailcadence_queue_items_lead_id_status_idx" ON "mailcadence_queue_items"("lead_id", "status");

CREATE UNIQUE INDEX "mailcadence_queue_items_campaign_id_lead_id_step_key" ON "mailcadence_queue_items"("campaign_id", "lead_id", "step");

CREATE INDEX "mailcadence_send_log_campaign_id_sent_at_idx" ON "mailcadence_send_log"("campaign_id", "sent_at");

CREATE UNIQUE INDEX "mailcadence_send_log_campaign_id_lead_id_step_key" ON "mailcadence_send_log"("campaign_id", "lead_id", "step");

ALTER TABLE "mailcadence_leads" ADD CONSTRAINT "mailcadence_leads_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "mailcadence_campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "mailcadence_queue_items" ADD CONSTRAINT "mailcadence_queue_items_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "mailcadence_campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "mailcadence_queue_items" ADD CONSTRAINT "mailcadence_queue_items_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "mailcadence_leads"("id") ON DELETE CASCADE ON UPDATE CASCADE;
