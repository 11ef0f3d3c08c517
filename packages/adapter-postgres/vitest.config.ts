import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'

const core = (path: string): string => fileURLToPath(new URL(`../core/src/${path}`, import.meta.url))

/**
 * Tests run against core's sources, so they need no build of core first. Exact-match patterns,
 * so `@mailcadence/core/testing` maps to its own entry rather than under `index.ts`.
 */
export default defineProject({
  plugins: [
    {
      // Migrations are imported as text, as tsup's `text` loader bundles them.
      name: 'sql-as-text',
      enforce: 'pre',
      transform(code, id) {
        return id.endsWith('.sql') ? { code: `export default ${JSON.stringify(code)}`, map: null } : undefined
      },
    },
  ],
  resolve: {
    alias: [
      { find: /^@mailcadence\/core$/, replacement: core('index.ts') },
      { find: /^@mailcadence\/core\/testing$/, replacement: core('testing/index.ts') },
      { find: /^@mailcadence\/core\/store-kit$/, replacement: core('store-kit/index.ts') },
      { find: /^@mailcadence\/core\/memory$/, replacement: core('memory/index.ts') },
    ],
  },
  test: {
    // The database suites share one server on a small machine: one file at a time keeps their
    // timings (leases, the multi-process run) meaningful.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
