/**
 * Errors that name the cause a user can act on (issue #19), against the real server: a role it
 * does not know (SQLSTATE 28000, which even `trust` authentication refuses), a database it lacks
 * (3D000), a schema never migrated (3F000/42P01), a port nobody listens on (ECONNREFUSED). Each is
 * `store-misconfigured` (retrying cannot help) or, for the port, `store-unavailable`, and no
 * message carries a password.
 */
import { isMailcadenceError, type MailcadenceError } from '@mailcadence/core'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createPostgresStore, migrate } from '../src/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, uniqueSchema } from './support/db.js'

const ready = await databaseAvailable('misconfigured')
const suite = ready ? describe : describe.skip

/** DATABASE_URL with its user, password or database replaced. */
function urlWith(change: { user?: string; password?: string; database?: string }): string {
  const url = new URL(DATABASE_URL)
  if (change.user !== undefined) url.username = change.user
  if (change.password !== undefined) url.password = change.password
  if (change.database !== undefined) url.pathname = `/${change.database}`
  return url.toString()
}

/** The error a store call fails with, through a pool of its own on `connectionString`. */
async function failure(connectionString: string, schema = 'mailcadence'): Promise<MailcadenceError> {
  const pool = new pg.Pool({ connectionString, max: 1, connectionTimeoutMillis: 5000 })
  try {
    const store = createPostgresStore({ pool, schema })
    const error = await store.getCampaign('1').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isMailcadenceError(error), String(error)).toBe(true)
    return error as MailcadenceError
  } finally {
    await pool.end()
  }
}

suite('errors that name their cause', () => {
  const pool = ready ? createTestPool(2) : (undefined as unknown as pg.Pool)
  const schemas: string[] = []
  afterAll(async () => {
    if (!ready) return
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  it('an unknown role: the credentials were rejected, for that user, without the password', async () => {
    const error = await failure(urlWith({ user: 'packaging_no_such_role', password: 's3cret-pw' }))
    expect(error.code).toBe('store-misconfigured')
    expect(error.message).toBe(
      'PostgreSQL rejected the credentials for user "packaging_no_such_role": check the user and ' +
        'password of the connection settings (and pg_hba.conf) (SQLSTATE 28000)',
    )
    expect(`${error.message} ${String(error.cause)}`).not.toContain('s3cret-pw')
  })

  it('an unknown database: names it', async () => {
    const error = await failure(urlWith({ database: 'packaging_no_such_db' }))
    expect(error.code).toBe('store-misconfigured')
    expect(error.message).toMatch(/^PostgreSQL has no database "packaging_no_such_db": create it/)
    expect(error.message).toContain('(SQLSTATE 3D000)')
  })

  it('migrate() into an unknown database says the same', async () => {
    const other = new pg.Pool({ connectionString: urlWith({ database: 'packaging_no_such_db' }), max: 1 })
    try {
      const error = await migrate(other, { schema: uniqueSchema('packaging') }).catch((e: unknown) => e)
      expect(isMailcadenceError(error, 'store-misconfigured')).toBe(true)
      expect((error as Error).message).toContain('"packaging_no_such_db"')
    } finally {
      await other.end()
    }
  })

  it('a schema never migrated: names what is missing and says to run migrate()', async () => {
    const schema = uniqueSchema('packaging_missing')
    const error = await failure(DATABASE_URL, schema)
    expect(error.code).toBe('store-misconfigured')
    expect(error.message).toContain(`"${schema}.`)
    expect(error.message).toMatch(/Run migrate\(pool, \{ schema \}\) first \(SQLSTATE (42P01|3F000)\)$/)
  })

  it('a schema migrated, then a table dropped: names the table', async () => {
    const schema = uniqueSchema('packaging_dropped')
    schemas.push(schema)
    await migrate(pool, { schema })
    await pool.query(`DROP TABLE "${schema}".campaigns CASCADE`)
    const error = await failure(DATABASE_URL, schema)
    expect(error.code).toBe('store-misconfigured')
    expect(error.message).toMatch(
      new RegExp(`^PostgreSQL has no table "${schema}\\.campaigns": is the schema migrated`),
    )
  })

  it('a port nobody listens on: store-unavailable, naming host and port', async () => {
    const url = new URL(urlWith({ user: 'someone', password: 's3cret-pw' }))
    url.host = '127.0.0.1:1'
    const error = await failure(url.toString())
    expect(error.code).toBe('store-unavailable')
    expect(error.message).toBe('PostgreSQL unreachable at 127.0.0.1:1 (ECONNREFUSED)')
  })
})
