/**
 * Errors that name the cause a user can act on (issue #19), provoked on the real PostgreSQL
 * server through Prisma: a role it does not know (P1010), a database it lacks (P1003), tables
 * never migrated (P2021), a port nobody listens on (P1001). A password refused (P1000) cannot be
 * provoked on a server that trusts every login; its shape is Prisma's documented one.
 */
import { isMailcadenceError, type MailcadenceError } from '@mailcadence/core'
import { PrismaPg } from '@prisma/adapter-pg'
import { describe, expect, it } from 'vitest'
import { createPrismaStore, toStoreError } from '../src/index.js'
import { clientClass, uniqueName } from './support/clients.js'
import { PG_URL, withDatabase } from './support/databases.js'

/** PG_URL with its user, database or host changed. */
function urlWith(change: { user?: string; password?: string; database?: string; host?: string }): string {
  const url = new URL(PG_URL)
  if (change.user !== undefined) url.username = change.user
  if (change.password !== undefined) url.password = change.password
  if (change.database !== undefined) url.pathname = `/${change.database}`
  if (change.host !== undefined) url.host = change.host
  return url.toString()
}

/** The error `getCampaign` fails with through a client on `url` and `schema`. */
async function failure(url: string, schema = 'public'): Promise<MailcadenceError> {
  const PrismaClient = await clientClass('postgresql')
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 1 }, { schema }) })
  try {
    const error = await createPrismaStore(prisma)
      .getCampaign('1')
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isMailcadenceError(error), String(error)).toBe(true)
    return error as MailcadenceError
  } finally {
    await prisma.$disconnect()
  }
}

await withDatabase('postgresql', 'misconfigured PostgreSQL through Prisma', () => {
  describe('misconfigured PostgreSQL through Prisma', () => {
    it('an unknown role: store-misconfigured, saying to check the user, without the password', async () => {
      const error = await failure(urlWith({ user: 'packaging_no_such_role', password: 's3cret-pw' }))
      expect(error.code).toBe('store-misconfigured')
      expect(error.message).toMatch(
        /\(P1010 DatabaseAccessDenied 28000\).*check the user of the connection settings/,
      )
      expect(`${error.message}`).not.toContain('s3cret-pw')
    })

    it('an unknown database: store-misconfigured, naming it', async () => {
      const error = await failure(urlWith({ database: 'packaging_no_such_db' }))
      expect(error.code).toBe('store-misconfigured')
      expect(error.message).toContain('packaging_no_such_db')
      expect(error.message).toMatch(/\(P1003 DatabaseDoesNotExist 3D000\).*create it, or fix the database/)
    })

    it('tables never migrated: store-misconfigured, naming the table and saying to migrate', async () => {
      const schema = uniqueName('packaging_unmigrated')
      const error = await failure(PG_URL, schema)
      expect(error.code).toBe('store-misconfigured')
      expect(error.message).toContain(`${schema}.mailcadence_campaigns`)
      expect(error.message).toMatch(/\(P2021 TableDoesNotExist 42P01\).*prisma migrate deploy/)
    })

    it('a port nobody listens on: store-unavailable (it may come back), naming host and port', async () => {
      const error = await failure(urlWith({ host: '127.0.0.1:1' }))
      expect(error.code).toBe('store-unavailable')
      expect(error.message).toMatch(/P1001 DatabaseNotReachable.*127\.0\.0\.1:1/)
    })
  })
})

describe('a password refused (P1000)', () => {
  it('is store-misconfigured, saying to check the credentials', () => {
    // Prisma 7's known request error for a failed login, as the pg driver adapter reports it.
    const refused = Object.assign(
      new Error(
        '\nInvalid `prisma.mcCampaign.findFirst()` invocation:\n\nAuthentication failed against the database server, the provided database credentials for `bob` are not valid.',
      ),
      {
        name: 'PrismaClientKnownRequestError',
        code: 'P1000',
        meta: {
          driverAdapterError: Object.assign(new Error('AuthenticationFailed'), {
            cause: { originalCode: '28P01', kind: 'AuthenticationFailed', user: 'bob' },
          }),
        },
      },
    )
    const error = toStoreError(refused, 'getCampaign')
    expect(error.code).toBe('store-misconfigured')
    expect(error.message).toBe(
      'prisma store: getCampaign failed (P1000 AuthenticationFailed 28P01): Authentication failed against ' +
        'the database server, the provided database credentials for `bob` are not valid.; the database ' +
        'rejected the credentials: check the user and password of the connection settings',
    )
  })
})
