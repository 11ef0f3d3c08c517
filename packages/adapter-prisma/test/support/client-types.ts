/**
 * Type-level check, run by `tsc` (the package's `typecheck` script generates the clients first):
 * the Prisma Client generated for each provider from mailcadence.prisma fits `createPrismaStore`
 * as it is, with no cast.
 */
import type { PrismaClient as MySqlClient } from '../../generated/mysql/client/client.js'
import type { PrismaClient as PostgresClient } from '../../generated/postgresql/client/client.js'
import type { PrismaClient as SqliteClient } from '../../generated/sqlite/client/client.js'
import { createPrismaStore } from '../../src/index.js'

export const fitsEveryProvider = [
  (prisma: PostgresClient) => createPrismaStore(prisma),
  (prisma: MySqlClient) => createPrismaStore(prisma),
  (prisma: SqliteClient) => createPrismaStore(prisma, { provider: 'sqlite' }),
]
