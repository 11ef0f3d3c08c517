/**
 * A stand-in for the scheduler's cursor methods and for ingest, recording what the poller does.
 * Ingest is idempotent per Message-ID, as the real one is.
 */
import { type InboxCursor, type Mailbox, MailcadenceError } from '@mailcadence/core'
import type { PollerScheduler } from '../../src/imap/index.js'

export function mailbox(id: string, email: string): Mailbox {
  const at = new Date('2026-01-01T00:00:00Z')
  return {
    id,
    email,
    name: null,
    dailyEmailLimit: 100,
    hourlyLimit: null,
    rampUp: null,
    rampLevel: 0,
    rampDayKey: null,
    provider: null,
    timezone: 'UTC',
    pausedUntil: null,
    pauseReason: null,
    skipDates: [],
    createdAt: at,
    updatedAt: at,
  }
}

export interface Double {
  scheduler: PollerScheduler
  cursors: Map<string, InboxCursor>
  /** Every call of ingest, in order. */
  calls: Array<{ mailboxId: string; messageId: string }>
  /** Message-IDs ingested the first time (what a real ingest would act on). */
  ingested: string[]
  ingest(raw: Buffer, options: { mailboxId: string }): Promise<{ messageId: string; duplicate: boolean }>
  /** Makes ingest throw for this Message-ID, once. */
  failOnce(messageId: string): void
  /** Makes ingest refuse this Message-ID (`invalid-input`), every time. */
  poison(messageId: string): void
}

export function createDouble(mailboxes: Mailbox[]): Double {
  const cursors = new Map<string, InboxCursor>()
  const calls: Double['calls'] = []
  const ingested: string[] = []
  const failing = new Set<string>()
  const poisoned = new Set<string>()
  return {
    cursors,
    calls,
    ingested,
    failOnce: (id) => failing.add(id),
    poison: (id) => poisoned.add(id),
    scheduler: {
      listMailboxes: async () => mailboxes,
      getInboxCursor: async (mailboxId, folder) => cursors.get(`${mailboxId}/${folder}`) ?? null,
      saveInboxCursor: async (mailboxId, folder, cursor) => {
        cursors.set(`${mailboxId}/${folder}`, { ...cursor })
      },
    },
    async ingest(raw, { mailboxId }) {
      const messageId = /^Message-ID:\s*(\S+)/im.exec(raw.toString('utf8'))?.[1] ?? ''
      if (failing.delete(messageId)) throw new Error('store unavailable')
      if (poisoned.has(messageId))
        throw new MailcadenceError('invalid-input', 'message: refused', { field: 'message' })
      calls.push({ mailboxId, messageId })
      const duplicate = ingested.includes(messageId)
      if (!duplicate) ingested.push(messageId)
      return { messageId, duplicate }
    },
  }
}

/** A small reply, unique by `id`. */
export function reply(id: string, to = 'sender@example.com'): string {
  return [
    'From: Lead <lead@example.org>',
    `To: ${to}`,
    'Subject: Re: hello',
    `Message-ID: <${id}@example.org>`,
    'In-Reply-To: <sent-1@example.com>',
    'Date: Mon, 05 Jan 2026 09:00:00 +0000',
    '',
    `Thanks, reply ${id}.`,
    '',
  ].join('\r\n')
}
