import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'memory/index': 'src/memory/index.ts',
    'store-kit/index': 'src/store-kit/index.ts',
    'testing/index': 'src/testing/index.ts',
    'conformance/index': 'src/conformance.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  // vitest is only needed by the conformance entry's suites, which run inside the user's vitest;
  // fast-check only by its fuzz properties, which load it when they start. test/entry-points.test.ts
  // checks that no other entry point reaches either.
  external: ['vitest', 'fast-check'],
})
