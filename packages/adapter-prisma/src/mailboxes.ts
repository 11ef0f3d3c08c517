/** Mailboxes: plain rows; their day counts live in `McMailboxDay`. */
import type { Mailbox, MailboxPatch, NewMailbox } from '@mailcadence/core'
import type { MailboxRow, Models } from './client.js'
import { mailboxSettings, parseId, parseIds, toMailbox } from './rows.js'

export async function createMailbox(tx: Models, input: NewMailbox, now: Date): Promise<Mailbox> {
  const row = (await tx.mcMailbox.create({
    data: {
      // Absent hourlyLimit, rampUp and provider mean null (NewMailbox); the ramp starts at level 0.
      ...mailboxSettings({ hourlyLimit: null, rampUp: null, provider: null, ...input }),
      pausedUntil: null,
      pauseReason: null,
      rampLevel: 0,
      rampDayKey: null,
      createdAt: now,
      updatedAt: now,
    },
  })) as MailboxRow
  return toMailbox(row)
}

export async function updateMailbox(
  tx: Models,
  idText: string,
  patch: MailboxPatch,
  now: Date,
): Promise<Mailbox | null> {
  const id = parseId(idText)
  if (id === undefined) return null
  const data = { ...mailboxSettings(patch), updatedAt: now }
  const changed = await tx.mcMailbox.updateMany({ where: { id }, data })
  if (changed.count === 0) return null
  return toMailbox((await tx.mcMailbox.findUnique({ where: { id } })) as MailboxRow)
}

export async function getMailboxes(db: Models, ids: readonly string[]): Promise<Mailbox[]> {
  const wanted = parseIds(ids)
  if (wanted.length === 0) return []
  const rows = (await db.mcMailbox.findMany({ where: { id: { in: wanted } } })) as MailboxRow[]
  return rows.map(toMailbox)
}
