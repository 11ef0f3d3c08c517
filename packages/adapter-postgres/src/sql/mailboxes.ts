/** Mailboxes: plain rows, no concurrency concerns beyond single-row updates. */
import type { Mailbox, MailboxPatch, NewMailbox } from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId, validIds } from '../ids.js'
import { mailboxColumns, type Row, toMailbox } from './rows.js'
import type { Tables } from './schema.js'

/** Patchable fields and their columns: the only names ever spliced into an UPDATE. */
const PATCHABLE = {
  email: 'email',
  name: 'name',
  dailyEmailLimit: 'daily_email_limit',
  timezone: 'timezone',
  pausedUntil: 'paused_until',
  pauseReason: 'pause_reason',
  skipDates: 'skip_dates',
} as const satisfies Partial<Record<keyof MailboxPatch, string>>

export async function createMailbox(s: Session, t: Tables, input: NewMailbox, now: Date): Promise<Mailbox> {
  const [row] = await s.query<Row>(
    `INSERT INTO ${t.mailboxes} AS m (email, name, daily_email_limit, timezone, skip_dates, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $6::text[], $5, $5)
     RETURNING ${mailboxColumns('m')}`,
    [input.email, input.name, input.dailyEmailLimit, input.timezone, now, input.skipDates ?? []],
  )
  return toMailbox(row!)
}

export async function updateMailbox(
  s: Session,
  t: Tables,
  id: string,
  patch: MailboxPatch,
  now: Date,
): Promise<Mailbox | null> {
  if (!isId(id)) return null
  const values: unknown[] = [id, now]
  const sets = ['updated_at = $2']
  for (const [field, column] of Object.entries(PATCHABLE)) {
    const value = patch[field as keyof typeof PATCHABLE]
    if (value === undefined) continue
    values.push(value)
    sets.push(`${column} = $${values.length}`)
  }
  const [row] = await s.query<Row>(
    `UPDATE ${t.mailboxes} AS m SET ${sets.join(', ')} WHERE m.id = $1
     RETURNING ${mailboxColumns('m')}`,
    values,
  )
  return row ? toMailbox(row) : null
}

export async function getMailboxes(s: Session, t: Tables, ids: readonly string[]): Promise<Mailbox[]> {
  const wanted = validIds(ids)
  if (wanted.length === 0) return []
  const rows = await s.query<Row>(
    `SELECT ${mailboxColumns('m')} FROM ${t.mailboxes} m WHERE m.id = ANY($1::bigint[])`,
    [wanted],
  )
  return rows.map(toMailbox)
}
