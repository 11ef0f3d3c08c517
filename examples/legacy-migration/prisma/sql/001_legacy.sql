-- The app's legacy tables (what `prisma migrate` would create from legacy.prisma).
CREATE TABLE "Mailbox" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "dailyEmailLimit" INTEGER NOT NULL,
    "currentDailySent" INTEGER NOT NULL DEFAULT 0,
    "counterDay" TEXT,
    "v2MailboxId" TEXT
);

CREATE TABLE "Campaign" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'DRAFT',
    "timezone" TEXT NOT NULL DEFAULT 'Europe/Warsaw',
    "startHour" INTEGER NOT NULL DEFAULT 9,
    "startMinute" INTEGER NOT NULL DEFAULT 0,
    "endHour" INTEGER NOT NULL DEFAULT 17,
    "endMinute" INTEGER NOT NULL DEFAULT 0,
    "allowedDays" TEXT NOT NULL DEFAULT 'MON,TUE,WED,THU,FRI',
    "delayBetweenEmails" INTEGER NOT NULL DEFAULT 90,
    "maxEmailsPerDay" INTEGER NOT NULL DEFAULT 500,
    "useV2" BOOLEAN NOT NULL DEFAULT false,
    "lastMailboxId" INTEGER,
    "v2CampaignId" TEXT
);

CREATE TABLE "SequenceStep" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "campaignId" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "delayDays" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "SequenceStep_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "CampaignLead" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "campaignId" INTEGER NOT NULL,
    "email" TEXT NOT NULL,
    "firstName" TEXT,
    "company" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "currentStep" INTEGER NOT NULL DEFAULT 0,
    "lastSentAt" DATETIME,
    "mailboxId" INTEGER,
    "messageId" TEXT,
    "threadIds" TEXT,
    "threadSubject" TEXT,
    CONSTRAINT "CampaignLead_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "SendLog" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "campaignId" INTEGER NOT NULL,
    "leadId" INTEGER NOT NULL,
    "mailboxId" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "toEmail" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'legacy',
    "v2Counted" TEXT,
    "createdAt" DATETIME NOT NULL
);

CREATE UNIQUE INDEX "Mailbox_email_key" ON "Mailbox"("email");

CREATE UNIQUE INDEX "SequenceStep_campaignId_position_key" ON "SequenceStep"("campaignId", "position");

CREATE UNIQUE INDEX "CampaignLead_campaignId_email_key" ON "CampaignLead"("campaignId", "email");

CREATE INDEX "SendLog_campaignId_createdAt_idx" ON "SendLog"("campaignId", "createdAt");

CREATE INDEX "SendLog_campaignId_leadId_step_idx" ON "SendLog"("campaignId", "leadId", "step");
