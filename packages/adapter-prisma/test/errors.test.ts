/**
 * How errors from Prisma are read: shapes taken from Prisma 7 and its driver adapters, and real
 * deadlocks provoked on PostgreSQL and MariaDB (which the store must retry, not report).
 */
import { describe, expect, it } from 'vitest'
import { asModels } from '../src/client.js'
import { isRetryable, toStoreError } from '../src/index.js'
import { createTestDatabase } from './support/clients.js'
import { type TestProvider, withDatabase } from './support/databases.js'

/** A Prisma 7 known request error carrying a driver adapter error, as the client throws them. */
function prismaError(code: string | undefined, cause: Record<string, unknown>) {
  const error = new Error(
    `\nInvalid \`prisma.mcQueueItem.updateMany()\` invocation:\n\n\n${cause.originalMessage ?? 'boom'}`,
  )
  return Object.assign(error, {
    name: code ? 'PrismaClientKnownRequestError' : 'PrismaClientUnknownRequestError',
    code,
    meta: { driverAdapterError: Object.assign(new Error(String(cause.kind)), { cause }) },
  })
}

describe('reading errors', () => {
  it('retries write conflicts, deadlocks, lock and busy timeouts, and transactions that could not start', () => {
    const retryable = [
      prismaError('P2034', { kind: 'TransactionWriteConflict', originalCode: '40P01' }),
      prismaError('P2034', { kind: 'TransactionWriteConflict', originalCode: '1213' }),
      prismaError(undefined, {
        kind: 'mysql',
        originalCode: '1205',
        originalMessage: 'Lock wait timeout exceeded',
      }),
      prismaError(undefined, { kind: 'postgres', originalCode: '55P03' }),
      prismaError('P1008', { kind: 'SocketTimeout', originalCode: 'SQLITE_BUSY' }),
      Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), {
        code: 'P2028',
      }),
    ]
    for (const error of retryable) expect(isRetryable(error), error.message).toBe(true)
    const final = [
      prismaError('P2002', { kind: 'UniqueConstraintViolation', originalCode: '23505' }),
      prismaError('P1001', { kind: 'DatabaseNotReachable' }),
      new Error('something else'),
      'a string',
      Object.assign(
        new Error('Transaction API error: A query cannot be executed on an expired transaction.'),
        {
          code: 'P2028',
        },
      ),
    ]
    for (const error of final) expect(isRetryable(error)).toBe(false)
  })

  it('maps broken constraints to store-conflict and everything else to store-unavailable', () => {
    const unique = toStoreError(
      prismaError('P2002', { kind: 'UniqueConstraintViolation', originalCode: '1062' }),
      'completeSends',
    )
    expect(unique).toMatchObject({ code: 'store-conflict' })
    expect(unique.message).toBe(
      'prisma store: completeSends failed (P2002 UniqueConstraintViolation 1062): boom',
    )
    const closed = toStoreError(prismaError('P1017', { kind: 'ConnectionClosed' }), 'reserveSends')
    expect(closed).toMatchObject({ code: 'store-unavailable' })
    expect(toStoreError(new TypeError('x'), 'getCampaign')).toMatchObject({ code: 'store-unavailable' })
  })
})

/** Two transactions that lock two rows in opposite orders: the database kills one of them. */
async function provokeDeadlock(provider: TestProvider): Promise<unknown> {
  const db = await createTestDatabase(provider)
  try {
    for (const dayKey of ['a', 'b']) {
      await db.prisma.mcCampaignDay.createMany({ data: [{ campaignId: 1n, dayKey, sent: 0 }] })
    }
    let arrived = 0
    let release: () => void = () => {}
    const bothHoldOne = new Promise<void>((resolve) => {
      release = resolve
    })
    const lockInOrder = (first: string, second: string) =>
      db.prisma.$transaction(
        async (tx) => {
          const bump = (dayKey: string) =>
            asModels(tx).mcCampaignDay.updateMany({
              where: { campaignId: 1n, dayKey },
              data: { sent: { increment: 1 } },
            })
          await bump(first)
          if (++arrived === 2) release()
          await bothHoldOne
          await bump(second)
        },
        {
          timeout: 20_000,
          maxWait: 5_000,
          ...(provider === 'mysql' ? { isolationLevel: 'ReadCommitted' } : {}),
        },
      )
    const results = await Promise.allSettled([lockInOrder('a', 'b'), lockInOrder('b', 'a')])
    const failed = results.find((r) => r.status === 'rejected')
    return failed?.status === 'rejected' ? failed.reason : undefined
  } finally {
    await db.drop()
  }
}

for (const [provider, name] of [
  ['postgresql', 'PostgreSQL'],
  ['mysql', 'MariaDB'],
] as const) {
  await withDatabase(provider, `deadlocks on ${name}`, () => {
    describe(`deadlocks on ${name}`, () => {
      it('are recognised as retryable', async () => {
        const error = await provokeDeadlock(provider)
        expect(error).toBeDefined()
        expect(isRetryable(error)).toBe(true)
        expect(toStoreError(error, 'reserveSends').code).toBe('store-unavailable')
      })
    })
  })
}
