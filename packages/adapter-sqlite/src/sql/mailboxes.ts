/** Mailboxes: created, patched and read by id. */
import type { Mailbox, MailboxPatch, NewMailbox, RampUp } from '@mailcadence/core'
import { type Db, idList, ms, type Row, rowId } from '../db.js'
import { jsonColumn, T, toMailbox } from './rows.js'

export function createMailbox(db: Db, input: NewMailbox, now: Date): Mailbox {
  const { lastId } = db.run(
    `INSERT INTO ${T.mailboxes} (email, name, daily_email_limit, hourly_limit, ramp_up, provider, timezone,
       skip_dates, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    input.email,
    input.name,
    input.dailyEmailLimit,
    input.hourlyLimit ?? null,
    jsonColumn(input.rampUp),
    input.provider ?? null,
    input.timezone,
    JSON.stringify(input.skipDates),
    now.getTime(),
    now.getTime(),
  )
  return toMailbox(db.get<Row>(`SELECT * FROM ${T.mailboxes} WHERE id = ?`, lastId)!)
}

/** Columns a patch may set, with how its value is stored. */
const MAILBOX_PATCH: ReadonlyArray<[keyof MailboxPatch, string, (v: never) => string | number | null]> = [
  ['email', 'email', (v: string) => v],
  ['name', 'name', (v: string | null) => v],
  ['dailyEmailLimit', 'daily_email_limit', (v: number) => v],
  ['hourlyLimit', 'hourly_limit', (v: number | null) => v],
  ['rampUp', 'ramp_up', (v: RampUp | null) => jsonColumn(v)],
  ['rampLevel', 'ramp_level', (v: number) => v],
  ['rampDayKey', 'ramp_day_key', (v: string | null) => v],
  ['provider', 'provider', (v: string | null) => v],
  ['timezone', 'timezone', (v: string) => v],
  ['skipDates', 'skip_dates', (v: string[]) => JSON.stringify(v)],
  ['pausedUntil', 'paused_until', (v: Date | null) => ms(v)],
  ['pauseReason', 'pause_reason', (v: string | null) => v],
]

export function updateMailbox(db: Db, id: string, patch: MailboxPatch, now: Date): Mailbox | null {
  const rid = rowId(id)
  if (rid === undefined) return null
  const sets = ['updated_at = ?']
  const values: Array<string | number | null> = [now.getTime()]
  for (const [key, column, encode] of MAILBOX_PATCH) {
    if (patch[key] === undefined) continue
    sets.push(`${column} = ?`)
    values.push(encode(patch[key] as never))
  }
  const { changes } = db.run(`UPDATE ${T.mailboxes} SET ${sets.join(', ')} WHERE id = ?`, ...values, rid)
  if (changes === 0) return null
  return toMailbox(db.get<Row>(`SELECT * FROM ${T.mailboxes} WHERE id = ?`, rid)!)
}

export function getMailboxes(db: Db, ids: readonly string[]): Mailbox[] {
  return db
    .all<Row>(`SELECT * FROM ${T.mailboxes} WHERE id IN (SELECT value FROM json_each(?))`, idList(ids))
    .map(toMailbox)
}

export function listMailboxes(db: Db): Mailbox[] {
  return db.all<Row>(`SELECT * FROM ${T.mailboxes} ORDER BY id`).map(toMailbox)
}
