import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'memory/index': 'src/memory/index.ts',
    'store-kit/index': 'src/store-kit/index.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // vitest is only needed by the conformance suite, which runs inside the user's vitest; fast-check
  // only by its fuzz properties, which load it when they start.
  external: ['vitest', 'fast-check'],
})
