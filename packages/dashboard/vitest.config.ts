import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'

const pkg = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url))

/** Tests run against the sources of core and the memory store, so they need no build first. */
export default defineProject({
  resolve: {
    alias: [
      { find: /^@mailcadence\/core$/, replacement: pkg('core/src/index.ts') },
      { find: /^@mailcadence\/core\/testing$/, replacement: pkg('core/src/testing/index.ts') },
      { find: /^@mailcadence\/core\/memory$/, replacement: pkg('core/src/memory/index.ts') },
      { find: /^@mailcadence\/adapter-memory$/, replacement: pkg('adapter-memory/src/index.ts') },
    ],
  },
  test: {
    // The browser suite starts Chromium once per file; give it room on a small, shared machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
