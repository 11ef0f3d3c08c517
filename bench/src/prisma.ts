/**
 * The Prisma store on PostgreSQL for the throughput figures: `@mailcadence/adapter-prisma` on a
 * Prisma Client with `@prisma/adapter-pg`, as a host would set it up. The client is the one the
 * adapter's own tests generate (packages/adapter-prisma/generated/postgresql, from its
 * mailcadence.prisma), generated here first if it is missing; its tables come from the adapter's
 * SQL migrations for PostgreSQL, in a schema of their own.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Store } from '@mailcadence/core'
import pg from 'pg'
import { DATABASE_URL } from './postgres.js'

const root = fileURLToPath(new URL('../../packages/adapter-prisma/', import.meta.url))
const fromAdapter = createRequire(join(root, 'package.json'))

type PrismaClient = { $disconnect(): Promise<void> }

/** Creates the adapter's tables in `schema` (which must not exist yet). */
export async function migratePrismaSchema(schema: string): Promise<void> {
  const dir = join(root, 'migrations', 'postgresql')
  const sql = readdirSync(dir)
    .filter((f) => /^\d+_\w+\.sql$/.test(f))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n')
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";`)
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** A Prisma store on `schema`, with a pool of `connections`. */
export async function openPrismaStore(
  schema: string,
  connections: number,
): Promise<{ store: Store; close(): Promise<void> }> {
  const clientFile = join(root, 'generated', 'postgresql', 'client', 'client.ts')
  if (!existsSync(clientFile))
    execFileSync(process.execPath, [join(root, 'scripts', 'generate-test-clients.mjs')])
  const { PrismaClient } = (await import(pathToFileURL(clientFile).href)) as {
    PrismaClient: new (options: { adapter: unknown }) => PrismaClient
  }
  const { PrismaPg } = (await import(pathToFileURL(fromAdapter.resolve('@prisma/adapter-pg')).href)) as {
    PrismaPg: new (pool: { connectionString: string; max: number }, options: { schema: string }) => unknown
  }
  const { createPrismaStore } = (await import(pathToFileURL(join(root, 'src', 'index.ts')).href)) as {
    createPrismaStore: (prisma: unknown) => Store
  }
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: DATABASE_URL, max: connections }, { schema }),
  })
  return { store: createPrismaStore(prisma), close: () => prisma.$disconnect() }
}
