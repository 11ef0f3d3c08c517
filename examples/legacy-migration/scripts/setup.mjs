// Prepares the example: copies mailcadence.prisma from @mailcadence/adapter-prisma into the app's
// schema folder (so it is always the installed adapter's version), generates the Prisma Client
// (the legacy models plus mailcadence's) into generated/, and makes sure better-sqlite3's native
// addon is built.
//
// `prisma generate` needs no schema engine, but the CLI looks for one; here only the npm registry
// is reachable, so PRISMA_SCHEMA_ENGINE_BINARY points it at any existing file. In a normal app,
// plain `npx prisma generate` does.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBetterSqlite3 } from './ensure-better-sqlite3.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(join(root, 'package.json'))

// An app does this once, and again when it upgrades the adapter (then migrates).
const schemaDir = join(root, 'prisma', 'schema')
const adapter = dirname(require.resolve('@mailcadence/adapter-prisma/package.json'))
const shipped = readFileSync(join(adapter, 'mailcadence.prisma'), 'utf8')
const copy = join(schemaDir, 'mailcadence.prisma')
if (!existsSync(copy) || readFileSync(copy, 'utf8') !== shipped) writeFileSync(copy, shipped)

const inputs = readdirSync(schemaDir)
  .sort()
  .map((f) => readFileSync(join(schemaDir, f), 'utf8'))
const version = JSON.parse(readFileSync(require.resolve('prisma/package.json'), 'utf8')).version
const stamp = createHash('sha256')
  .update([version, ...inputs].join('\n'))
  .digest('hex')
const stampFile = join(root, 'generated', 'stamp')
if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  })
  writeFileSync(stampFile, stamp)
}

if (!process.argv.includes('--generate-only')) {
  // pnpm 10 runs no dependency's build script unless told to, so better-sqlite3 may lack its
  // native addon; this builds it from source, once (after `npm install` it loads at once).
  ensureBetterSqlite3(root)
}
