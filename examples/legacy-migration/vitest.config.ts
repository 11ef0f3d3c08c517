import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    // Copies mailcadence.prisma, generates the Prisma Client and builds better-sqlite3 if needed.
    globalSetup: ['./test/setup.ts'],
  },
})
