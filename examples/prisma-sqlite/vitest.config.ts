import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    // Generates the Prisma Client and builds better-sqlite3 if needed (see the script).
    globalSetup: ['./test/setup.ts'],
  },
})
