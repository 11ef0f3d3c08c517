-- mailcadence (@mailcadence/adapter-prisma) for PostgreSQL, after 004_window_keys.sql: what comes
-- back from the inbox (replies, bounces, out-of-office answers). The send log gets an index on the
-- Message-ID (a reply is matched to its send by it); a table records each inbound message applied,
-- once, by its own Message-ID; another keeps where an inbox reader stands in each folder of each
-- mailbox; campaigns get `stop_on_reply` (default `lead`: a reply stops the replier only, as before).
-- For hosts that do not run `prisma migrate`: run once, in the schema your Prisma Client uses. On a
-- big send log, first create the index without blocking writes (outside a transaction; if it fails,
-- DROP INDEX it and run it again), and the statement below then finds it:
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS "mailcadence_send_log_message_id_idx" ON "mailcadence_send_log"("message_id");

ALTER TABLE "mailcadence_campaigns" ADD COLUMN "stop_on_reply" TEXT NOT NULL DEFAULT 'lead';

CREATE INDEX IF NOT EXISTS "mailcadence_send_log_message_id_idx" ON "mailcadence_send_log"("message_id");

CREATE TABLE "mailcadence_inbound_messages" (
    "message_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "campaign_id" BIGINT,
    "lead_id" BIGINT,
    "processed_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_inbound_messages_pkey" PRIMARY KEY ("message_id")
);

CREATE TABLE "mailcadence_inbox_cursors" (
    "mailbox_id" TEXT NOT NULL,
    "folder" TEXT NOT NULL,
    "uid_validity" TEXT NOT NULL,
    "last_uid" BIGINT NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailcadence_inbox_cursors_pkey" PRIMARY KEY ("mailbox_id","folder")
);
