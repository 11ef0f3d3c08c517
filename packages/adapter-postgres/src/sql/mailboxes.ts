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
  hourlyLimit: 'hourly_limit',
  rampUp: 'ramp_up',
  rampLevel: 'ramp_level',
  rampDayKey: 'ramp_day_key',
  provider: 'provider',
} as const satisfies Partial<Record<keyof MailboxPatch, string>>

/** A ramp as a jsonb parameter: text, so pg sends it as JSON; null stays SQL NULL (not JSON `null`). */
function rampParam(rampUp: Mailbox['rampUp'] | undefined): string | null {
  return rampUp ? JSON.stringify(rampUp) : null
}

export async function createMailbox(s: Session, t: Tables, input: NewMailbox, now: Date): Promise<Mailbox> {
  const [row] = await s.query<Row>(
    `INSERT INTO ${t.mailboxes} AS m (email, name, daily_email_limit, timezone, skip_dates, created_at, updated_at,
       hourly_limit, ramp_up, provider)
     VALUES ($1, $2, $3, $4, $6::text[], $5, $5, $7::integer, $8::jsonb, $9::text)
     RETURNING ${mailboxColumns('m')}`,
    [
      input.email,
      input.name,
      input.dailyEmailLimit,
      input.timezone,
      now,
      input.skipDates ?? [],
      // Absent (a caller written before these existed) means none, as the contract says.
      input.hourlyLimit ?? null,
      rampParam(input.rampUp),
      input.provider ?? null,
    ],
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
    values.push(field === 'rampUp' ? rampParam(value as Mailbox['rampUp']) : value)
    sets.push(`${column} = $${values.length}${field === 'rampUp' ? '::jsonb' : ''}`)
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
