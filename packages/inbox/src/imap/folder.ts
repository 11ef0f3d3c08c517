import { type InboxCursor, isMailcadenceError } from '@mailcadence/core'
import type { ImapFlow } from 'imapflow'
import type { ImapPollerEvent, IngestFunction, PolledMessage, PollerScheduler } from './types.js'

/** What reading one folder needs, resolved from the poller's options. */
export interface FolderContext {
  scheduler: PollerScheduler
  ingest: IngestFunction
  batchSize: number
  resync: 'all' | 'new'
  markSeen: boolean
  move: string | undefined
  emit: (event: ImapPollerEvent) => void
}

/** A store call failed: not the mailbox's fault, so the poll itself fails (see `pollOnce`). */
export class StoreFailure {
  constructor(readonly error: unknown) {}
}

async function fromStore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new StoreFailure(error)
  }
}

/**
 * Reads one folder of a connected client from its cursor on, adding each message ingested to
 * `messages` as it goes (so a connection lost half-way still reports those). The cursor is saved
 * after each message, once ingest returned: a crash in between re-reads that one message at the
 * next poll (ingest is idempotent per Message-ID). A message ingest throws for is retried at the
 * next poll (the folder stops there), unless the error is `invalid-input`: that message would fail
 * every time, so it is reported (`ingest-error`, `skipped: true`) and the cursor moves past it.
 */
export async function pollFolder(
  ctx: FolderContext,
  client: ImapFlow,
  mailboxId: string,
  folder: string,
  messages: PolledMessage[],
): Promise<void> {
  const writes = ctx.markSeen || ctx.move !== undefined
  // EXAMINE (read-only) unless asked to flag or move: the server then changes no flag, not even \Recent.
  const lock = await client.getMailboxLock(folder, { readOnly: !writes })
  try {
    const box = client.mailbox
    if (!box) throw new Error(`folder ${folder} is not open`)
    let cursor = await startingCursor(ctx, mailboxId, folder, String(box.uidValidity), box.uidNext)
    if (box.exists === 0) return
    // `N:*` always matches the folder's last message, even below N (RFC 3501 §6.4.8): filter.
    const found = (await client.search({ uid: `${cursor.lastUid + 1}:*` }, { uid: true })) || []
    const pending = found.filter((uid) => uid > cursor.lastUid).sort((a, b) => a - b)
    for (let i = 0; i < pending.length; i += ctx.batchSize) {
      const batch = pending.slice(i, i + ctx.batchSize)
      const fetched = await client.fetchAll(batch, { uid: true, source: true }, { uid: true })
      fetched.sort((a, b) => a.uid - b.uid)
      const done: number[] = []
      for (const message of fetched) {
        let result: unknown
        let skipped = false
        try {
          result = await ctx.ingest(message.source ?? Buffer.alloc(0), { mailboxId })
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error)
          // A message ingest refuses as such fails the same way every time: step past it, or it
          // would block the folder for good. Anything else (the store down) is retried next poll.
          skipped = isMailcadenceError(error, 'invalid-input')
          ctx.emit({ type: 'ingest-error', mailboxId, folder, uid: message.uid, message: text, skipped })
          if (!skipped) {
            await afterIngest(ctx, client, done)
            return
          }
        }
        cursor = { uidValidity: cursor.uidValidity, lastUid: message.uid }
        const saved = cursor
        await fromStore(() => ctx.scheduler.saveInboxCursor(mailboxId, folder, saved))
        if (skipped) continue // neither reported as read nor flagged or moved: left for a person
        messages.push({ mailboxId, folder, uid: message.uid, result })
        done.push(message.uid)
      }
      await afterIngest(ctx, client, done)
    }
  } finally {
    lock.release()
  }
}

/** The stored cursor, or a fresh one (saved at once) when there is none or UIDVALIDITY changed. */
async function startingCursor(
  ctx: FolderContext,
  mailboxId: string,
  folder: string,
  uidValidity: string,
  uidNext: number | undefined,
): Promise<InboxCursor> {
  const previous = await fromStore(() => ctx.scheduler.getInboxCursor(mailboxId, folder))
  if (previous && previous.uidValidity === uidValidity) return previous
  // Old UIDs mean nothing under a new UIDVALIDITY: start over, from the first message or the next.
  const lastUid = ctx.resync === 'new' && uidNext !== undefined ? Math.max(0, uidNext - 1) : 0
  const cursor = { uidValidity, lastUid }
  ctx.emit({ type: 'cursor-reset', mailboxId, folder, previous, uidValidity })
  await fromStore(() => ctx.scheduler.saveInboxCursor(mailboxId, folder, cursor))
  return cursor
}

/** Flags and moves what was ingested, only when the host asked for it. */
async function afterIngest(ctx: FolderContext, client: ImapFlow, uids: number[]): Promise<void> {
  if (uids.length === 0) return
  if (ctx.markSeen) await client.messageFlagsAdd(uids, ['\\Seen'], { uid: true })
  if (ctx.move !== undefined) await client.messageMove(uids, ctx.move, { uid: true })
}
