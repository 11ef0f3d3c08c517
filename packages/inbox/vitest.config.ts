import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'

const core = (path: string): string => fileURLToPath(new URL(`../core/src/${path}`, import.meta.url))

/**
 * Tests run against core's sources, so they need no build of core first. Exact-match patterns,
 * so `@mailcadence/core/testing` maps to its own entry rather than under `index.ts`.
 */
export default defineProject({
  resolve: {
    alias: [
      { find: /^@mailcadence\/core$/, replacement: core('index.ts') },
      { find: /^@mailcadence\/core\/testing$/, replacement: core('testing/index.ts') },
      { find: /^@mailcadence\/core\/store-kit$/, replacement: core('store-kit/index.ts') },
      { find: /^@mailcadence\/core\/memory$/, replacement: core('memory/index.ts') },
      {
        find: /^@mailcadence\/adapter-memory$/,
        replacement: fileURLToPath(new URL('../adapter-memory/src/index.ts', import.meta.url)),
      },
    ],
  },
})
