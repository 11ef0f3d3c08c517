/**
 * What every database test file shares: the server's address, the skip-or-fail rule, and schemas
 * of their own (a random suffix per file or per test, dropped afterwards).
 *
 * Without a server the suites are skipped with a message naming them, unless `CI` is set: there
 * they must run, so an unreachable server fails them.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { migrate } from '../../src/index.js'

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The URL with any password replaced, for messages. */
export const SAFE_URL = DATABASE_URL.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@')

const inCI = (): boolean => {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? code : 'connection failed'
  } finally {
    await client.end().catch(() => {})
  }
}

let probed: Promise<string | null> | undefined

/**
 * Whether the suite can run. Without a server: throws under CI (the file fails), else prints which
 * suite is skipped and how to run it, and returns false.
 */
export async function databaseAvailable(suite: string): Promise<boolean> {
  probed ??= probe()
  const problem = await probed
  if (problem === null) return true
  const message = `PostgreSQL is not reachable at ${SAFE_URL} (${problem})`
  if (inCI()) throw new Error(`[adapter-postgres] ${suite}: ${message}, and CI requires these tests to run`)
  console.warn(
    `[adapter-postgres] SKIPPED ${suite}: ${message}. Start a server there or set TEST_DATABASE_URL ` +
      '(see packages/adapter-postgres/README.md, "Running the tests").',
  )
  return false
}

export function createTestPool(max = 10): pg.Pool {
  return new pg.Pool({ connectionString: DATABASE_URL, max })
}

/** A schema name nobody else uses: `mc_test_<label>_<random>`. */
export function uniqueSchema(label: string): string {
  return `mc_test_${label}_${randomBytes(5).toString('hex')}`
}

/** Creates and migrates a fresh schema, remembering it in `created` for {@link dropSchemas}. */
export async function freshSchema(pool: pg.Pool, label: string, created: string[]): Promise<string> {
  const schema = uniqueSchema(label)
  created.push(schema)
  await migrate(pool, { schema })
  return schema
}

export async function dropSchemas(pool: pg.Pool, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}
