import { defineConfig } from 'tsup'

export default defineConfig([
  {
    // The library entry (`run()`), for hosts that embed the commands and for the tests.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    target: 'node20',
  },
  {
    // The `mailcadence` bin: ESM only, with its shebang.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
])
