import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'

const pkg = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url))

/**
 * In-process imports run against the sources (no build needed); the end-to-end tests spawn the
 * CLI from its sources with tsx, which resolves packages as Node does (their builds).
 */
export default defineProject({
  plugins: [
    {
      name: 'sql-as-text',
      enforce: 'pre',
      transform(code, id) {
        return id.endsWith('.sql') ? { code: `export default ${JSON.stringify(code)}`, map: null } : undefined
      },
    },
  ],
  resolve: {
    alias: [
      { find: /^@mailcadence\/core$/, replacement: pkg('core/src/index.ts') },
      { find: /^@mailcadence\/core\/testing$/, replacement: pkg('core/src/testing/index.ts') },
      { find: /^@mailcadence\/core\/conformance$/, replacement: pkg('core/src/conformance.ts') },
      { find: /^@mailcadence\/adapter-postgres$/, replacement: pkg('adapter-postgres/src/index.ts') },
    ],
  },
  test: {
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
