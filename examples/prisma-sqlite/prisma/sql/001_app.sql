-- The app's own table (what `prisma migrate` would create from app.prisma).
CREATE TABLE "Contact" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "firstName" TEXT,
    "company" TEXT,
    "selected" BOOLEAN NOT NULL DEFAULT false
);

CREATE UNIQUE INDEX "Contact_email_key" ON "Contact"("email");
