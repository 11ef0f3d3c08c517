import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  // Migrations are plain .sql files, bundled as strings: no file to find at run time.
  loader: { '.sql': 'text' },
  // `import.meta.url` (to require better-sqlite3 from here) in the CommonJS build too.
  shims: true,
})
