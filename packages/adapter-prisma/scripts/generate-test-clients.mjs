// Generates the Prisma Clients the tests use, one per provider, into generated/ (git-ignored):
// the provider's schema (a datasource and a generator) next to the package's own mailcadence.prisma,
// as a host would have it. Skips a provider whose client is up to date. `prisma generate` needs no
// schema engine, but the CLI looks for one: PRISMA_SCHEMA_ENGINE_BINARY points it at any file.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(join(root, 'package.json'))

/** The providers the tests run on, and the copy of the schema each one uses. */
export const PROVIDERS = {
  sqlite: 'mailcadence.prisma',
  postgresql: 'mailcadence.prisma',
  mysql: 'schema/mysql/mailcadence.prisma',
}

function base(provider) {
  return `datasource db {
  provider = "${provider}"
}

generator client {
  provider            = "prisma-client"
  output              = "../client"
  moduleFormat        = "esm"
  importFileExtension = "js"
}
`
}

/** Generates every provider's client that is missing or stale; returns the providers generated. */
export function generateTestClients() {
  const prismaVersion = JSON.parse(readFileSync(require.resolve('prisma/package.json'), 'utf8')).version
  const cli = require.resolve('prisma/build/index.js')
  const done = []
  for (const [provider, file] of Object.entries(PROVIDERS)) {
    const dir = join(root, 'generated', provider)
    const models = readFileSync(join(root, file), 'utf8')
    const stamp = createHash('sha256')
      .update(`${prismaVersion}\n${base(provider)}\n${models}`)
      .digest('hex')
    const stampFile = join(dir, 'stamp')
    if (
      existsSync(stampFile) &&
      readFileSync(stampFile, 'utf8') === stamp &&
      existsSync(join(dir, 'client'))
    ) {
      continue
    }
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(join(dir, 'schema'), { recursive: true })
    writeFileSync(join(dir, 'schema', 'base.prisma'), base(provider))
    writeFileSync(join(dir, 'schema', 'mailcadence.prisma'), models)
    execFileSync(process.execPath, [cli, 'generate', '--schema', join(dir, 'schema')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
    })
    writeFileSync(stampFile, stamp)
    done.push(provider)
  }
  return done
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const done = generateTestClients()
  console.log(done.length ? `generated Prisma Clients: ${done.join(', ')}` : 'Prisma Clients up to date')
}
