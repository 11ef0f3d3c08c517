import { createFakeClock, createSeededRandom } from '@mailcadence/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createImapPoller, type ImapPollerEvent, type ImapPollerOptions } from '../../src/imap/index.js'
import { createDouble, type Double, mailbox, reply } from './double.js'
import { type Dovecot, dovecotAvailable, startDovecot } from './dovecot.js'

const PASSWORDS: Record<string, string> = {
  once: 'pw-once-7c1e',
  restart: 'pw-restart-91ad',
  validity: 'pw-validity-3f02',
  auth: 'pw-auth-right-55b9',
  flags: 'pw-flags-0d4e',
  batches: 'pw-batches-a8c3',
  failing: 'pw-failing-6e17',
  seen: 'pw-seen-2b90',
  other: 'pw-other-c4d1',
  store: 'pw-store-8a2f',
  poison: 'pw-poison-4b71',
}

const available = dovecotAvailable()
let dovecot: Dovecot

beforeAll(async () => {
  if (available) dovecot = await startDovecot(PASSWORDS)
}, 30_000)
afterAll(async () => {
  await dovecot?.stop()
})

async function append(user: string, messages: string[], folder = 'INBOX'): Promise<void> {
  await dovecot.withClient(user, async (client) => {
    for (const message of messages) await client.append(folder, message)
  })
}

function poller(double: Double, extra: Partial<ImapPollerOptions> = {}) {
  const events: ImapPollerEvent[] = []
  const instance = createImapPoller({
    scheduler: double.scheduler,
    ingest: (raw, options) => double.ingest(raw, options),
    connect: (box) => dovecot.options(box.id),
    onEvent: (event) => events.push(event),
    ...extra,
  })
  return { poller: instance, events }
}

// A real server on a shared machine: generous timeouts.
describe.skipIf(!available)('createImapPoller against Dovecot', { timeout: 30_000 }, () => {
  it('picks up each appended message once', async () => {
    const double = createDouble([mailbox('once', 'once@example.com')])
    await append('once', [reply('once-1'), reply('once-2')])
    const { poller: p } = poller(double)
    const first = await p.pollOnce()
    expect(first.mailboxes).toEqual([{ mailboxId: 'once', status: 'polled' }])
    expect(first.messages.map((m) => m.uid)).toEqual([1, 2])
    await append('once', [reply('once-3')])
    const second = await p.pollOnce()
    expect(second.messages.map((m) => m.uid)).toEqual([3])
    expect((await p.pollOnce()).messages).toEqual([])
    expect(double.calls.map((c) => c.messageId)).toEqual([
      '<once-1@example.org>',
      '<once-2@example.org>',
      '<once-3@example.org>',
    ])
    expect(double.calls.every((c) => c.mailboxId === 'once')).toBe(true)
  })

  it('a new poller continues from the saved cursor: no repeat, no miss', async () => {
    const double = createDouble([mailbox('restart', 'restart@example.com')])
    await append('restart', [reply('restart-1'), reply('restart-2')])
    await poller(double).poller.pollOnce()
    // Stopped: mail keeps arriving.
    await append('restart', [reply('restart-3'), reply('restart-4')])
    const report = await poller(double).poller.pollOnce()
    expect(report.messages.map((m) => m.uid)).toEqual([3, 4])
    expect(double.calls.map((c) => c.messageId)).toEqual(
      [1, 2, 3, 4].map((n) => `<restart-${n}@example.org>`),
    )
    expect(double.cursors.get('restart/INBOX')?.lastUid).toBe(4)
  })

  it('resets the cursor when UIDVALIDITY changes (folder deleted and created again)', async () => {
    const double = createDouble([mailbox('validity', 'validity@example.com')])
    await dovecot.withClient('validity', (c) => c.mailboxCreate('Replies'))
    await append('validity', [reply('validity-1'), reply('validity-2')], 'Replies')
    const { poller: p, events } = poller(double, { folders: ['INBOX', 'Replies'] })
    await p.pollOnce()
    const before = double.cursors.get('validity/Replies')
    expect(before?.lastUid).toBe(2)

    await dovecot.withClient('validity', async (client) => {
      await client.mailboxDelete('Replies')
      await client.mailboxCreate('Replies')
      const uidValidity = async () => {
        const status = await client.status('Replies', { uidValidity: true })
        return status ? String(status.uidValidity) : ''
      }
      // Dovecot never gives a name's UIDVALIDITY twice (it keeps the last one it gave out).
      expect(await uidValidity()).not.toBe(before?.uidValidity)
    })
    // The new folder's UIDs start at 1 again: a cursor kept at 2 would miss the first two.
    await append('validity', [reply('validity-3'), reply('validity-4'), reply('validity-5')], 'Replies')
    events.length = 0
    const report = await p.pollOnce()
    expect(report.messages.map((m) => [m.folder, m.uid])).toEqual([
      ['Replies', 1],
      ['Replies', 2],
      ['Replies', 3],
    ])
    expect(double.ingested).toEqual([1, 2, 3, 4, 5].map((n) => `<validity-${n}@example.org>`))
    const after = double.cursors.get('validity/Replies')
    expect(after?.uidValidity).not.toBe(before?.uidValidity)
    expect(after?.lastUid).toBe(3)
    expect(events).toEqual([
      {
        type: 'cursor-reset',
        mailboxId: 'validity',
        folder: 'Replies',
        previous: before,
        uidValidity: after?.uidValidity,
      },
    ])
  })

  it("resync 'new' starts a folder without cursor at the next message", async () => {
    const double = createDouble([mailbox('other', 'other@example.com')])
    await append('other', [reply('other-1'), reply('other-2')])
    const { poller: p } = poller(double, { resync: 'new' })
    expect((await p.pollOnce()).messages).toEqual([])
    await append('other', [reply('other-3')])
    expect((await p.pollOnce()).messages.map((m) => m.uid)).toEqual([3])
  })

  it('backs off on an authentication failure, with events that never carry the password', async () => {
    const wrong = 'wrong-Secret-Pw-93f1'
    const token = 'ya29.token-Secret-0a7e'
    const double = createDouble([mailbox('auth', 'auth@example.com'), mailbox('other', 'other@example.com')])
    const clock = createFakeClock(new Date('2026-01-05T08:00:00Z'))
    const logged: unknown[] = []
    const log = (obj: object, msg?: string) => logged.push([obj, msg])
    let tries = 0
    const { poller: p, events } = poller(double, {
      clock,
      random: createSeededRandom(7),
      backoffBase: 60_000,
      backoffMax: 10 * 60_000,
      logger: { debug: log, info: log, warn: log, error: log },
      connect: (box) => {
        if (box.id !== 'auth') return dovecot.options(box.id)
        tries++
        // The first try with a password, the next with an OAuth token: neither may leak.
        return tries === 1
          ? dovecot.options('auth', wrong)
          : { ...dovecot.options('auth'), auth: { user: 'auth', accessToken: token } }
      },
    })
    const first = await p.pollOnce()
    expect(first.mailboxes.map((m) => [m.mailboxId, m.status])).toEqual([
      ['auth', 'failed'],
      ['other', 'polled'],
    ])
    const error = events.find((e) => e.type === 'imap-error')
    expect(error).toMatchObject({ type: 'imap-error', mailboxId: 'auth', folder: null, failures: 1 })
    if (error?.type !== 'imap-error') throw new Error('no imap-error event')
    expect(error.message).toMatch(/auth/i)
    const firstDelay = error.retryAt.getTime() - clock.now().getTime()
    expect(firstDelay).toBeGreaterThanOrEqual(30_000)
    expect(firstDelay).toBeLessThanOrEqual(60_000)

    // Backing off: not even connected.
    clock.advance(firstDelay - 1)
    expect((await p.pollOnce()).mailboxes[0]).toEqual({
      mailboxId: 'auth',
      status: 'backing-off',
      retryAt: error.retryAt,
    })
    expect(tries).toBe(1)
    clock.advance(1)
    const third = await p.pollOnce()
    expect(third.mailboxes[0]?.status).toBe('failed')
    expect(tries).toBe(2)
    const second = events.filter((e) => e.type === 'imap-error')[1]
    if (second?.type !== 'imap-error') throw new Error('no second imap-error event')
    expect(second.failures).toBe(2)
    const secondDelay = second.retryAt.getTime() - clock.now().getTime()
    expect(secondDelay).toBeGreaterThanOrEqual(60_000)
    expect(secondDelay).toBeLessThanOrEqual(120_000)

    const everything = JSON.stringify([events, logged, first, third])
    for (const secret of [wrong, token, PASSWORDS.auth as string]) {
      expect(everything).not.toContain(secret)
      expect(everything).not.toContain(Buffer.from(secret).toString('base64'))
      expect(everything).not.toContain(Buffer.from(`\0auth\0${secret}`).toString('base64'))
    }
  })

  it('backs off when the server cannot be reached', async () => {
    const double = createDouble([mailbox('other', 'other@example.com')])
    const { poller: p, events } = poller(double, {
      random: () => 0,
      connect: () => ({ ...dovecot.options('other'), port: 1 }),
    })
    const report = await p.pollOnce()
    expect(report.mailboxes[0]).toMatchObject({ mailboxId: 'other', status: 'failed' })
    expect(events[0]).toMatchObject({ type: 'imap-error', folder: null, code: 'ECONNREFUSED', failures: 1 })
  })

  it('never flags or moves a message unless asked', async () => {
    const double = createDouble([mailbox('flags', 'flags@example.com')])
    await append('flags', [reply('flags-1'), reply('flags-2')])
    await poller(double).poller.pollOnce()
    await dovecot.withClient('flags', async (client) => {
      const lock = await client.getMailboxLock('INBOX', { readOnly: true })
      try {
        const messages = await client.fetchAll('1:*', { uid: true, flags: true })
        expect(messages.map((m) => m.uid)).toEqual([1, 2])
        for (const m of messages) expect([...(m.flags ?? [])]).not.toContain('\\Seen')
      } finally {
        lock.release()
      }
    })
    expect(double.ingested).toHaveLength(2)
  })

  it('flags \\Seen and moves when asked', async () => {
    const double = createDouble([mailbox('seen', 'seen@example.com')])
    await dovecot.withClient('seen', (c) => c.mailboxCreate('Processed'))
    await append('seen', [reply('seen-1'), reply('seen-2')])
    await poller(double, { markSeen: true, move: 'Processed' }).poller.pollOnce()
    await dovecot.withClient('seen', async (client) => {
      const inbox = await client.status('INBOX', { messages: true })
      expect(inbox ? inbox.messages : 'no status').toBe(0)
      const lock = await client.getMailboxLock('Processed', { readOnly: true })
      try {
        const messages = await client.fetchAll('1:*', { uid: true, flags: true })
        expect(messages).toHaveLength(2)
        for (const m of messages) expect([...(m.flags ?? [])]).toContain('\\Seen')
      } finally {
        lock.release()
      }
    })
    // Moved away, the cursor still holds: nothing comes back.
    expect((await poller(double).poller.pollOnce()).messages).toEqual([])
  })

  it('reads in bounded batches, in UID order', async () => {
    const double = createDouble([mailbox('batches', 'batches@example.com')])
    await append(
      'batches',
      [1, 2, 3, 4, 5].map((n) => reply(`batches-${n}`)),
    )
    const report = await poller(double, { batchSize: 2 }).poller.pollOnce()
    expect(report.messages.map((m) => m.uid)).toEqual([1, 2, 3, 4, 5])
  })

  it('stops a folder at a message ingest failed on, and retries it at the next poll', async () => {
    const double = createDouble([mailbox('failing', 'failing@example.com')])
    await append(
      'failing',
      [1, 2, 3].map((n) => reply(`failing-${n}`)),
    )
    double.failOnce('<failing-2@example.org>')
    const { poller: p, events } = poller(double)
    const first = await p.pollOnce()
    expect(first.messages.map((m) => m.uid)).toEqual([1])
    expect(events).toContainEqual({
      type: 'ingest-error',
      mailboxId: 'failing',
      folder: 'INBOX',
      uid: 2,
      message: 'store unavailable',
      skipped: false,
    })
    expect(double.cursors.get('failing/INBOX')?.lastUid).toBe(1)
    expect((await p.pollOnce()).messages.map((m) => m.uid)).toEqual([2, 3])
    expect(double.calls.map((c) => c.messageId)).toEqual([1, 2, 3].map((n) => `<failing-${n}@example.org>`))
  })

  it('steps past a message ingest refuses (invalid-input) instead of retrying it forever', async () => {
    const double = createDouble([mailbox('poison', 'poison@example.com')])
    await append(
      'poison',
      [1, 2, 3].map((n) => reply(`poison-${n}`)),
    )
    double.poison('<poison-2@example.org>')
    const { poller: p, events } = poller(double, { markSeen: true })
    const first = await p.pollOnce()
    expect(first.messages.map((m) => m.uid)).toEqual([1, 3])
    expect(events.filter((e) => e.type === 'ingest-error')).toEqual([
      {
        type: 'ingest-error',
        mailboxId: 'poison',
        folder: 'INBOX',
        uid: 2,
        message: 'message: refused',
        skipped: true,
      },
    ])
    expect(double.cursors.get('poison/INBOX')?.lastUid).toBe(3)
    expect((await p.pollOnce()).messages).toEqual([])
    expect(double.ingested).toEqual(['<poison-1@example.org>', '<poison-3@example.org>'])
    // The refused message is left as it was, for a person to look at.
    const unseen = await dovecot.withClient('poison', async (client) => {
      await client.mailboxOpen('INBOX')
      return client.search({ seen: false }, { uid: true })
    })
    expect(unseen).toEqual([2])
  })

  it('fails the poll when the store cannot save a cursor, and reads that message again next time', async () => {
    const double = createDouble([mailbox('store', 'store@example.com')])
    await append('store', [reply('store-1'), reply('store-2')])
    const save = double.scheduler.saveInboxCursor
    let saves = 0
    double.scheduler.saveInboxCursor = async (mailboxId, folder, cursor) => {
      // The reset's save and the first message's pass; the second message's fails.
      if (++saves === 3) throw new Error('database is down')
      return save(mailboxId, folder, cursor)
    }
    const { poller: p, events } = poller(double)
    await expect(p.pollOnce()).rejects.toThrow('database is down')
    expect(events.filter((e) => e.type === 'imap-error')).toEqual([])
    expect(double.cursors.get('store/INBOX')?.lastUid).toBe(1)
    const again = await p.pollOnce()
    expect(again.mailboxes).toEqual([{ mailboxId: 'store', status: 'polled' }])
    expect(again.messages.map((m) => m.uid)).toEqual([2])
    // Handed over twice, applied once.
    expect(double.calls.map((c) => c.messageId)).toEqual([
      '<store-1@example.org>',
      '<store-2@example.org>',
      '<store-2@example.org>',
    ])
    expect(double.ingested).toEqual(['<store-1@example.org>', '<store-2@example.org>'])
  })

  it('reports a missing folder and still reads the others', async () => {
    const double = createDouble([mailbox('other', 'other@example.com')])
    const { poller: p, events } = poller(double, { folders: ['No-Such-Folder', 'INBOX'] })
    const report = await p.pollOnce()
    expect(report.mailboxes[0]?.status).toBe('polled')
    expect(events[0]).toMatchObject({ type: 'imap-error', mailboxId: 'other', folder: 'No-Such-Folder' })
    expect(double.cursors.has('other/INBOX')).toBe(true)
  })
})
