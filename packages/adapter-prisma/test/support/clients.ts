/**
 * Test databases with the adapter's own tables, created from its SQL migration files through the
 * driver (never `prisma migrate`), and a Prisma Client from `generated/` (see
 * scripts/generate-test-clients.mjs) on each of them.
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { PrismaPg } from '@prisma/adapter-pg'
import Database from 'better-sqlite3'
import * as mariadb from 'mariadb'
import pg from 'pg'
import type { Models } from '../../src/client.js'
import type { PrismaClientLike } from '../../src/index.js'
import { MARIADB, PG_URL, type TestProvider } from './databases.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** A generated client, as the tests use it: as the store takes it, and with delegates they can call. */
export type TestClient = PrismaClientLike & Models & { $disconnect(): Promise<void> }

/** The `PrismaClient` class generated for a provider. */
export type ClientClass = new (options: { adapter: unknown }) => TestClient

/** The tables, children first (for deleting). */
export const TABLES = [
  'mailcadence_external_sends',
  'mailcadence_send_log',
  'mailcadence_queue_items',
  'mailcadence_leads',
  'mailcadence_campaign_days',
  'mailcadence_mailbox_days',
  'mailcadence_suppressions',
  'mailcadence_campaigns',
  'mailcadence_mailboxes',
  'mailcadence_counters',
]

/** The provider's numbered migration files (`001_init.sql`, `002_import.sql`, …), in order. */
export function migrationFiles(provider: TestProvider): string[] {
  return readdirSync(join(root, 'migrations', provider))
    .filter((file) => /^\d+_\w+\.sql$/.test(file))
    .sort()
}

/**
 * Every migration of the provider, in order, as one SQL text (how a new database is created); with
 * `upTo`, the first `upTo` files only (a database of an older version, to upgrade).
 */
export function migration(provider: TestProvider, upTo?: number): string {
  return migrationFiles(provider)
    .slice(0, upTo)
    .map((file) => readFileSync(join(root, 'migrations', provider, file), 'utf8'))
    .join('\n')
}

/** The generated `PrismaClient` class of a provider (see scripts/generate-test-clients.mjs). */
export async function clientClass(provider: TestProvider): Promise<ClientClass> {
  const path = join(root, 'generated', provider, 'client', 'client.ts')
  const mod = (await import(path)) as { PrismaClient: ClientClass }
  return mod.PrismaClient
}

/** A random name for a schema, database or file of one test file. */
export function uniqueName(prefix = 'mc_prisma'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

/** Where a test database lives: enough for another process to open a client on it. */
export type Location =
  | { provider: 'sqlite'; file: string }
  | { provider: 'postgresql'; schema: string }
  | { provider: 'mysql'; database: string }

export interface TestDatabase {
  location: Location
  prisma: TestClient
  /** Empties every table (and restarts ids), for the next test. */
  reset(): Promise<void>
  /** Runs SQL through the driver, outside Prisma (checks, fault injection). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>
  /** Runs a script of several statements through the driver (a migration file). */
  exec(sql: string): Promise<void>
  /** Disconnects and removes the schema, database or file. */
  drop(): Promise<void>
}

/** Opens a Prisma Client on an existing test database (in this process or a worker). */
export async function openClient(location: Location, connections = 4): Promise<TestClient> {
  const PrismaClient = await clientClass(location.provider)
  switch (location.provider) {
    case 'sqlite':
      return new PrismaClient({
        adapter: new PrismaBetterSqlite3({ url: `file:${location.file}`, timeout: 10_000 }),
      })
    case 'postgresql':
      return new PrismaClient({
        adapter: new PrismaPg({ connectionString: PG_URL, max: connections }, { schema: location.schema }),
      })
    case 'mysql':
      return new PrismaClient({
        adapter: new PrismaMariaDb({ ...MARIADB, database: location.database, connectionLimit: connections }),
      })
  }
}

/** Creates a fresh database of the provider with the adapter's tables, and a client on it. */
export async function createTestDatabase(
  provider: TestProvider,
  options: { sqliteWal?: boolean; connections?: number; migrations?: number } = {},
): Promise<TestDatabase> {
  if (provider === 'sqlite') return createSqlite(options.sqliteWal ?? false, options.migrations)
  if (provider === 'postgresql') return createPostgres(options.connections, options.migrations)
  return createMariaDb(options.connections, options.migrations)
}

async function createSqlite(wal: boolean, migrations?: number): Promise<TestDatabase> {
  const file = join(tmpdir(), `${uniqueName()}.db`)
  const admin = new Database(file)
  if (wal) admin.pragma('journal_mode = WAL')
  admin.exec(migration('sqlite', migrations))
  const location: Location = { provider: 'sqlite', file }
  const prisma = await openClient(location)
  return {
    location,
    prisma,
    async reset() {
      admin.exec(TABLES.map((t) => `DELETE FROM "${t}";`).join('\n'))
      admin.exec('DELETE FROM sqlite_sequence;')
    },
    async query<T>(sql: string) {
      return admin.prepare(sql).all() as T[]
    },
    async exec(sql: string) {
      admin.exec(sql)
    },
    async drop() {
      await prisma.$disconnect()
      admin.close()
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true })
    },
  }
}

async function createPostgres(connections?: number, migrations?: number): Promise<TestDatabase> {
  const schema = uniqueName()
  const admin = new pg.Client({ connectionString: PG_URL })
  // A connection the server drops shows up as the failure of the next query, not as a crash.
  admin.on('error', () => {})
  await admin.connect()
  await admin.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";`)
  await admin.query(migration('postgresql', migrations))
  const location: Location = { provider: 'postgresql', schema }
  const prisma = await openClient(location, connections)
  return {
    location,
    prisma,
    async reset() {
      await admin.query(`TRUNCATE ${TABLES.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`)
    },
    async query<T>(sql: string) {
      return (await admin.query(sql)).rows as T[]
    },
    async exec(sql: string) {
      await admin.query(sql)
    },
    async drop() {
      await prisma.$disconnect()
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
      await admin.end()
    },
  }
}

async function createMariaDb(connections?: number, migrations?: number): Promise<TestDatabase> {
  const database = uniqueName()
  const admin = await mariadb.createConnection({ ...MARIADB, multipleStatements: true })
  admin.on('error', () => {})
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await admin.query(`USE \`${database}\``)
  await admin.query(migration('mysql', migrations))
  const location: Location = { provider: 'mysql', database }
  const prisma = await openClient(location, connections)
  return {
    location,
    prisma,
    async reset() {
      const truncate = TABLES.map((t) => `TRUNCATE TABLE \`${t}\`;`).join(' ')
      await admin.query(`SET FOREIGN_KEY_CHECKS = 0; ${truncate} SET FOREIGN_KEY_CHECKS = 1;`)
    },
    async query<T>(sql: string) {
      return (await admin.query(sql)) as T[]
    },
    async exec(sql: string) {
      await admin.query(sql)
    },
    async drop() {
      await prisma.$disconnect()
      await admin.query(`DROP DATABASE \`${database}\``)
      await admin.end()
    },
  }
}
