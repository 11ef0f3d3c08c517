import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'

const source = (path: string): string => fileURLToPath(new URL(`../packages/${path}`, import.meta.url))

/** Tests run against the packages' sources, so one copy of core is shared and no build is needed. */
export default defineProject({
  resolve: {
    alias: [
      { find: /^@mailcadence\/core$/, replacement: source('core/src/index.ts') },
      { find: /^@mailcadence\/core\/testing$/, replacement: source('core/src/testing/index.ts') },
      { find: /^@mailcadence\/core\/memory$/, replacement: source('core/src/memory/index.ts') },
      { find: /^@mailcadence\/adapter-memory$/, replacement: source('adapter-memory/src/index.ts') },
    ],
  },
})
