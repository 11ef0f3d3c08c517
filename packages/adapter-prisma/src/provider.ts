/**
 * Which database is behind the client. The few places where providers differ (inserting a row
 * only if it is missing, transaction isolation) ask this.
 */
import type { ModelCalls, PrismaClientLike } from './client.js'
import { invalidInput } from './errors.js'

/** The databases this store supports and is tested on. */
export type Provider = 'postgresql' | 'mysql' | 'sqlite'

const SUPPORTED: readonly string[] = ['postgresql', 'mysql', 'sqlite']

/** Checks a provider named by the host; `field` names the option in the error. */
export function checkProvider(value: unknown, field: string): Provider {
  if (typeof value === 'string' && SUPPORTED.includes(value)) return value as Provider
  throw invalidInput(field, `must be one of ${SUPPORTED.join(', ')}; got ${String(value)}`)
}

/**
 * The provider the client was generated for, read from the client itself (Prisma keeps it as
 * `_activeProvider`), or undefined when this client does not say.
 */
export function clientProvider(prisma: PrismaClientLike): Provider | undefined {
  const active = (prisma as unknown as { _activeProvider?: unknown })._activeProvider
  if (active === undefined) return undefined
  if (active === 'mariadb') return 'mysql'
  return checkProvider(active, 'prisma (its provider)')
}

/** Asks the database itself, for clients that hide their provider (wrapped or extended ones). */
export async function probeProvider(prisma: PrismaClientLike): Promise<Provider> {
  const query = prisma.$queryRawUnsafe?.bind(prisma)
  if (query === undefined) {
    throw invalidInput(
      'provider',
      'the client does not tell its database: pass createPrismaStore(prisma, { provider })',
    )
  }
  try {
    await query('SELECT sqlite_version() AS v')
    return 'sqlite'
  } catch {
    // Not SQLite: PostgreSQL and MySQL both answer version().
  }
  const rows = (await query('SELECT version() AS v')) as Array<{ v?: unknown }>
  const version = String(rows[0]?.v ?? '')
  if (/cockroach/i.test(version)) throw invalidInput('provider', `${version} is not supported`)
  return /postgres/i.test(version) ? 'postgresql' : 'mysql'
}

/**
 * Inserts `row` unless a row with the same key (`unique`, a unique selector of the model) exists,
 * and tells whether it did. A row inserted meanwhile by a concurrent transaction is no error: on
 * PostgreSQL and MySQL the insert is `INSERT … ON CONFLICT DO NOTHING` / `INSERT IGNORE`, which
 * waits for that transaction and then skips the row. Prisma has no `skipDuplicates` on SQLite; there
 * a row committed after this transaction's first read makes its insert fail with `SQLITE_BUSY`
 * (the transaction is then run again and sees it), so the read is enough.
 */
export async function insertIfMissing(
  model: ModelCalls,
  provider: Provider,
  row: object,
  unique: object,
): Promise<boolean> {
  if (provider !== 'sqlite') {
    return (await model.createMany({ data: [row], skipDuplicates: true })).count === 1
  }
  if ((await model.findUnique({ where: unique })) !== null) return false
  await model.create({ data: row })
  return true
}
