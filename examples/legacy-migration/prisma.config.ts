// Prisma 7 reads its settings here: the schema is a folder (the app's legacy models next to
// mailcadence.prisma), and the database URL for the CLI.
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema',
  datasource: { url: process.env.DATABASE_URL ?? 'file:./dev.db' },
})
