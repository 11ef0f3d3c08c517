/**
 * The databases the tests run on, and what happens when one is not there: skipped with a message
 * that names the suite and says how to run it, or, when `CI` is set, a failing test.
 */
import * as mariadb from 'mariadb'
import pg from 'pg'
import { describe, it } from 'vitest'

export type TestProvider = 'sqlite' | 'postgresql' | 'mysql'

/** PostgreSQL for the tests; `MAILCADENCE_PG_URL` overrides it. */
export const PG_URL = process.env.MAILCADENCE_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'

/** MariaDB (or MySQL) for the tests; `MAILCADENCE_MARIADB_*` override it. */
export const MARIADB = {
  host: process.env.MAILCADENCE_MARIADB_HOST ?? '127.0.0.1',
  port: Number(process.env.MAILCADENCE_MARIADB_PORT ?? 3306),
  user: process.env.MAILCADENCE_MARIADB_USER ?? 'root',
  password: process.env.MAILCADENCE_MARIADB_PASSWORD ?? '',
}

const WHERE: Record<TestProvider, string> = {
  sqlite: 'a temporary file',
  postgresql: PG_URL.replace(/\/\/[^@/]*@/, '//'),
  mysql: `mariadb://${MARIADB.user}@${MARIADB.host}:${MARIADB.port}`,
}

/** Whether the provider's server answers; the reason when it does not. */
export async function reachable(
  provider: TestProvider,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    if (provider === 'postgresql') {
      const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
      await client.connect()
      await client.end()
    } else if (provider === 'mysql') {
      const conn = await mariadb.createConnection({ ...MARIADB, connectTimeout: 3000 })
      await conn.end()
    }
    return { ok: true }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * Registers `suite` when the provider's database answers. Otherwise: under CI, a test that fails
 * saying why; elsewhere a skipped suite, and a warning on the console naming it.
 */
export async function withDatabase(
  provider: TestProvider,
  suite: string,
  register: () => void | Promise<void>,
) {
  const status = await reachable(provider)
  if (status.ok) {
    await register()
    return
  }
  const why = `${provider} is not reachable at ${WHERE[provider]}: ${status.reason}`
  if (process.env.CI) {
    describe(suite, () => {
      it('needs its database (CI is set, so a missing database is a failure)', () => {
        throw new Error(`${suite}: ${why}. Start it (see packages/adapter-prisma/README.md).`)
      })
    })
    return
  }
  const how = 'start the server (see packages/adapter-prisma/README.md), or set CI=1 to make this a failure'
  console.warn(`[adapter-prisma] SKIPPED "${suite}": ${why}; to run it, ${how}.`)
  describe.skip(`${suite} [skipped: ${why}]`, () => {
    it('needs its database', () => {})
  })
}
