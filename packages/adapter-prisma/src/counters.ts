/**
 * Day counters (`McCampaignDay`, `McMailboxDay`): one row per owner and day key, so counts reset at
 * the local midnight of their owner with no reset job, and the history stays readable.
 */
import type { ModelCalls, Models } from './client.js'
import type { Provider } from './provider.js'

export type CounterKind = 'campaign' | 'mailbox'

function delegate(tx: Models, kind: CounterKind): ModelCalls {
  return kind === 'campaign' ? tx.mcCampaignDay : tx.mcMailboxDay
}

function owner(kind: CounterKind, id: bigint): Record<string, bigint> {
  return kind === 'campaign' ? { campaignId: id } : { mailboxId: id }
}

/**
 * Counts one send on the day if the count is below `limit`: a compare-and-set
 * (`UPDATE … SET sent = sent + 1 WHERE sent < limit`), so concurrent claims can never pass the
 * limit. The day's row is created on its first claim; a concurrent creation is no error.
 * Returns false when the day is full.
 */
export async function claimDay(
  tx: Models,
  provider: Provider,
  kind: CounterKind,
  id: bigint,
  dayKey: string,
  limit: number,
): Promise<boolean> {
  const counter = delegate(tx, kind)
  const cas = { where: { ...owner(kind, id), dayKey, sent: { lt: limit } }, data: { sent: { increment: 1 } } }
  if ((await counter.updateMany(cas)).count === 1) return true
  if (limit <= 0) return false
  // Full, or no row yet for this day: make sure the row exists, then compare-and-set once more.
  await createDayRow(counter, provider, kind, id, dayKey)
  return (await counter.updateMany(cas)).count === 1
}

/**
 * Counts `sends` on the day whatever the count (sends that have already happened, elsewhere): an
 * increment in place, so concurrent counts add up; the day's row is created on its first count.
 */
export async function addToDay(
  tx: Models,
  provider: Provider,
  kind: CounterKind,
  id: bigint,
  dayKey: string,
  sends = 1,
) {
  const counter = delegate(tx, kind)
  const add = { where: { ...owner(kind, id), dayKey }, data: { sent: { increment: sends } } }
  if ((await counter.updateMany(add)).count === 1) return
  await createDayRow(counter, provider, kind, id, dayKey)
  await counter.updateMany(add)
}

/** Gives back one send counted on the day (never below zero). */
export async function releaseDay(tx: Models, kind: CounterKind, id: bigint, dayKey: string) {
  await delegate(tx, kind).updateMany({
    where: { ...owner(kind, id), dayKey, sent: { gt: 0 } },
    data: { sent: { decrement: 1 } },
  })
}

async function createDayRow(
  counter: ModelCalls,
  provider: Provider,
  kind: CounterKind,
  id: bigint,
  dayKey: string,
) {
  const row = { ...owner(kind, id), dayKey, sent: 0 }
  if (provider !== 'sqlite') {
    // INSERT … ON CONFLICT DO NOTHING (PostgreSQL) or INSERT IGNORE (MySQL): a row created by a
    // concurrent transaction meanwhile is simply kept.
    await counter.createMany({ data: [row], skipDuplicates: true })
    return
  }
  // Prisma has no skipDuplicates on SQLite; but a SQLite transaction that has written holds the
  // database's only write lock, so nobody can create the row between this read and the insert.
  const key =
    kind === 'campaign'
      ? { campaignId_dayKey: { campaignId: id, dayKey } }
      : { mailboxId_dayKey: { mailboxId: id, dayKey } }
  if ((await counter.findUnique({ where: key })) === null) await counter.create({ data: row })
}

/** Counts for several (owner, day) pairs: `${id}|${dayKey}` → sends (absent when none). */
export async function readDays(
  db: Models,
  kind: CounterKind,
  pairs: ReadonlyArray<{ id: bigint; dayKey: string }>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  if (pairs.length === 0) return counts
  const idField = kind === 'campaign' ? 'campaignId' : 'mailboxId'
  const rows = (await delegate(db, kind).findMany({
    where: {
      [idField]: { in: [...new Set(pairs.map((p) => p.id))] },
      dayKey: { in: [...new Set(pairs.map((p) => p.dayKey))] },
    },
  })) as Array<Record<string, unknown> & { dayKey: string; sent: number }>
  for (const row of rows) counts.set(`${String(row[idField])}|${row.dayKey}`, row.sent)
  return counts
}
