/**
 * What the engine does when a dependency misbehaves in a way no error reports: a transport call
 * that never settles, a close that never returns, settings so large that the dates made from them
 * cannot be stored, and a store that refuses to record a send that went out. The Postgres side of
 * the last two is in adapter-postgres/test/refused-completion.test.ts.
 */
import {
  type CampaignInput,
  type Completion,
  createScheduler,
  isMailcadenceError,
  type Logger,
  MailcadenceError,
  type SchedulerOptions,
  type Store,
  type Transport,
} from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it, vi } from 'vitest'
import { createMemoryStore } from '../src/index.js'

const MINUTE = 60_000
const LATEST = new Date('9999-12-31T00:00:00Z')

const allDay = (mailboxIds: string[], extra: Partial<CampaignInput> = {}): CampaignInput => ({
  name: 'Hung',
  startHour: 0,
  endHour: 24,
  allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
  delayBetweenEmails: 0,
  mailboxIds,
  steps: [{ subject: 'Hi', text: 'Hello' }],
  ...extra,
})

/** A transport whose calls to the addresses in `hang` never settle; the others are recorded. */
function hangingTransport(hang: (to: string) => boolean) {
  const recording = createRecordingTransport()
  const calls: string[] = []
  const transport: Transport = {
    send(message, context) {
      calls.push(message.to.address)
      if (hang(message.to.address)) return new Promise(() => {})
      return recording.send(message, context)
    },
  }
  return { transport, calls, sent: recording.sent }
}

const spyLogger = () => {
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger
  const messages = (level: 'warn' | 'error') => logger[level].mock.calls.map((c) => c[1] as string)
  return { logger, messages }
}

/** Resolves to 'blocked' if `promise` has not settled after `ms` of real time. */
const settledWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(() => 'settled'),
    new Promise((resolve) => setTimeout(() => resolve('blocked'), ms)),
  ])

async function setUp(options: Partial<SchedulerOptions> & { transport: Transport }) {
  const store = options.store ?? createMemoryStore()
  const clock = createFakeClock()
  const scheduler = createScheduler({ store, clock, lookahead: 0, ...options })
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 1000 })
  const campaign = async (emails: string[], extra: Partial<CampaignInput> = {}) => {
    const created = await scheduler.createCampaign(allDay([mailbox.id], extra))
    await scheduler.addLeads(
      created.id,
      emails.map((email) => ({ email })),
    )
    await scheduler.startCampaign(created.id)
    return created
  }
  return { store, clock, scheduler, mailbox, campaign }
}

describe('a transport call that never settles', () => {
  for (const [moved, advance] of [
    ['past the send timeout', MINUTE],
    ['past the lease', 6 * MINUTE],
  ] as const)
    it(`gives its slot back once the clock moved ${moved}: the blocked tick ends, later ticks send, nothing is resent`, async () => {
      const hung = (to: string) => to.startsWith('hang')
      const { transport, calls, sent } = hangingTransport(hung)
      const { store, clock, scheduler, campaign } = await setUp({
        transport,
        concurrency: 3,
        lease: 5 * MINUTE,
        sendTimeout: MINUTE,
        leaseRecovery: 'retry',
      })
      const hungCampaigns = [
        await campaign(['hang1@x.test', 'ok1@x.test']),
        await campaign(['hang2@x.test', 'ok2@x.test']),
        await campaign(['hang3@x.test', 'ok3@x.test']),
      ]
      const waiting = await campaign(['ok4@x.test'])

      // Three sends hang and hold the three slots; the fourth campaign waits for one.
      const first = scheduler.tick()
      await vi.waitFor(() => expect(calls).toHaveLength(3))
      expect(await settledWithin(first, 50)).toBe('blocked')

      // Past the send timeout by the scheduler's clock, the next tick gives the three up (before its
      // lease recovery could revive them): their slots come back, the blocked tick ends, and the
      // waiting campaign sends.
      clock.advance(advance)
      const second = await scheduler.tick()
      expect(second.recovered).toBe(0)
      const firstResult = await first
      expect(firstResult.failed).toBe(3)
      expect(firstResult.sent + second.sent).toBe(1 + 3)
      for (const c of hungCampaigns) {
        const items = await store.listQueueItems(c.id)
        expect(items.find((i) => i.status === 'failed')).toMatchObject({
          lastError: 'interrupted: send timed out',
        })
      }
      expect((await store.listQueueItems(waiting.id))[0]!.status).toBe('sent')

      // Past the lease, 'retry' recovery finds nothing: a timed-out send is never sent again.
      clock.advance(10 * MINUTE)
      const later = await scheduler.tick()
      expect(later.recovered).toBe(0)
      expect(calls.filter(hung).sort()).toEqual(['hang1@x.test', 'hang2@x.test', 'hang3@x.test'])
      expect(sent.map((s) => s.to).sort()).toEqual(['ok1@x.test', 'ok2@x.test', 'ok3@x.test', 'ok4@x.test'])
    })

  it('ends a tick on a real timer when no other tick comes, and a late answer changes nothing', async () => {
    const recording = createRecordingTransport()
    const { logger, messages } = spyLogger()
    const { store, clock, scheduler, campaign } = await setUp({
      transport: recording,
      sendTimeout: 30,
      leaseRecovery: 'retry',
      logger,
    })
    const created = await campaign(['late@x.test', 'later@x.test'])
    const release = recording.hold()
    const result = await scheduler.tick()
    expect(result).toMatchObject({ sent: 0, failed: 1 })
    const [item] = (await store.listQueueItems(created.id)).filter((i) => i.status !== 'pending')
    expect(item).toMatchObject({ status: 'failed', lastError: 'interrupted: send timed out', attempts: 1 })
    expect(messages('error')).toContain('send timed out: given up and recorded failed (it may have left)')

    // The held call goes through after all: logged, and the item stays failed with no send-log row.
    release()
    await vi.waitFor(() =>
      expect(messages('warn')).toContain('a send given up at its timeout went through late'),
    )
    expect(recording.sent).toHaveLength(1)
    expect(await store.listSendLog(created.id)).toHaveLength(0)

    // A call that fails late is observed too (no unhandled rejection), and changes nothing.
    const releaseAgain = recording.hold()
    recording.failNext(1, { responseCode: 451, response: '451 later' })
    clock.advance(MINUTE)
    expect(await scheduler.tick()).toMatchObject({ failed: 1 })
    releaseAgain()
    await vi.waitFor(() => expect(messages('warn')).toContain('a send given up at its timeout failed late'))
    clock.advance(10 * MINUTE)
    expect(await scheduler.tick()).toMatchObject({ recovered: 0, sent: 0 })
    expect(recording.attempts).toBe(2)
  })

  it('bounds a beforeSend hook that never answers the same way: the email is retried later, nothing left', async () => {
    const recording = createRecordingTransport()
    let answers = false
    const { store, clock, scheduler, campaign } = await setUp({
      transport: recording,
      sendTimeout: 30,
      beforeSend: () => (answers ? true : new Promise<boolean>(() => {})),
    })
    const created = await campaign(['hook@x.test'])
    expect(await settledWithin(scheduler.tick(), 5_000)).toBe('settled')
    const [item] = await store.listQueueItems(created.id)
    expect(item).toMatchObject({ status: 'pending', attempts: 0 })
    expect(item!.lastError).toMatch(/beforeSend did not answer within sendTimeout/)
    expect(recording.attempts).toBe(0)

    answers = true
    clock.advance(2 * 60 * MINUTE)
    expect(await scheduler.tick()).toMatchObject({ sent: 1 })
    expect(recording.sent.map((s) => s.to)).toEqual(['hook@x.test'])
  })

  it('is an option: must be an integer less than the lease; by default half the lease', async () => {
    const store = createMemoryStore()
    const transport = createRecordingTransport()
    expect(() => createScheduler({ store, transport, sendTimeout: 300_000 })).toThrow(/sendTimeout/)
    expect(() => createScheduler({ store, transport, lease: 1000, sendTimeout: 1000 })).toThrow(/sendTimeout/)
    expect(() => createScheduler({ store, transport, sendTimeout: 0 })).toThrow(/sendTimeout/)
    expect(() => createScheduler({ store, transport, sendTimeout: 1.5 })).toThrow(/sendTimeout/)
    expect(() => createScheduler({ store, transport, sendTimeout: 299_999 })).not.toThrow()
    expect(() => createScheduler({ store, transport, lease: 1000 })).not.toThrow()
  })
})

describe('close()', () => {
  it('ends in bounded time when a tick, transport.close() and store.close() all hang', async () => {
    const memory = createMemoryStore()
    const never = new Promise<never>(() => {})
    // The store hangs on recording a send (a query that never returns) and on closing.
    const store: Store = { ...memory, completeSends: () => never, close: () => never }
    const recording = createRecordingTransport()
    const transport: Transport = { send: (m, c) => recording.send(m, c), close: () => never }
    const { logger, messages } = spyLogger()
    const { scheduler, campaign } = await setUp({ store, transport, lease: 300, sendTimeout: 50, logger })
    await campaign(['a@x.test'])
    scheduler.start()
    await vi.waitFor(() => expect(recording.sent).toHaveLength(1))
    const started = performance.now()
    await scheduler.close()
    // lease (300 ms) for the tick, then sendTimeout (50 ms) for each close.
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(messages('warn')).toEqual([
      'the tick in progress did not finish within 300 ms: not waiting for it',
      'transport.close() did not finish within 50 ms: not waiting for it',
      'store.close() did not finish within 50 ms: not waiting for it',
    ])
    const error = await scheduler.tick().catch((e: unknown) => e)
    expect(isMailcadenceError(error, 'closed')).toBe(true)
  })
})

describe('dates computed from settings too large for any store', () => {
  it('clamps the pacing slot and the follow-up to 9999-12-31: pacing holds, the follow-up waits', async () => {
    const recording = createRecordingTransport()
    const { store, clock, scheduler, campaign } = await setUp({ transport: recording })
    const created = await campaign(['a@x.test', 'b@x.test', 'c@x.test'], {
      steps: [
        { subject: 'Hi', text: 'Hello' },
        { delayDays: 1, text: 'Again' },
      ],
    })
    // Past validation, as a store written before it (or another writer) may hold them.
    await store.updateCampaign(
      created.id,
      {
        delayBetweenEmails: 1e13,
        steps: [
          { subject: 'Hi', text: 'Hello' },
          { delayDays: 1e9, text: 'Again' },
        ],
      },
      clock.now(),
    )
    for (let i = 0; i < 5; i++) {
      await scheduler.tick()
      clock.advance(MINUTE)
    }
    expect(recording.sent.map((s) => s.step)).toEqual([0])
    const items = await store.listQueueItems(created.id)
    const followUp = items.find((i) => i.step === 1)
    expect(followUp).toMatchObject({ status: 'pending', scheduledAt: LATEST })
    expect((await scheduler.getCampaign(created.id)).nextSlotAt).toEqual(LATEST)
  })
})

/** A memory store whose `completeSends` refuses (store-conflict) any batch holding a completion `refuse` picks. */
function refusingStore(refuse: (c: Completion) => boolean) {
  const memory = createMemoryStore()
  const batches: Completion[][] = []
  const store: Store = {
    ...memory,
    completeSends(completions, now) {
      batches.push([...completions])
      if (completions.some(refuse))
        return Promise.reject(new MailcadenceError('store-conflict', 'refused by the test'))
      return memory.completeSends(completions, now)
    },
  }
  return { store, batches }
}

describe('a store refusing to record a send that went out', () => {
  const twoSteps = {
    steps: [
      { subject: 'Hi', text: 'Hello' },
      { delayDays: 2, text: 'Again' },
    ],
  }

  it('records it sent without its follow-up when only the follow-up is refused; a batch-mate keeps its own', async () => {
    const { store, batches } = refusingStore((c) => c.kind === 'sent' && c.to === 'bad@x.test' && !!c.next)
    const recording = createRecordingTransport()
    const { logger, messages } = spyLogger()
    const { clock, scheduler, campaign } = await setUp({
      store,
      transport: recording,
      leaseRecovery: 'retry',
      logger,
    })
    const bad = await campaign(['bad@x.test'], twoSteps)
    const good = await campaign(['good@x.test'], twoSteps)
    const result = await scheduler.tick()
    expect(result).toMatchObject({ sent: 2, failed: 0 })
    // The two completions went as one batch, refused because of the bad one.
    expect(batches[0]!.map((c) => (c as { to: string }).to).sort()).toEqual(['bad@x.test', 'good@x.test'])
    const badItems = await store.listQueueItems(bad.id)
    expect(badItems).toMatchObject([{ step: 0, status: 'sent' }])
    expect((await store.getLead(bad.id, 'bad@x.test'))!.status).toBe('completed')
    expect((await store.listQueueItems(good.id)).map((i) => [i.step, i.status])).toEqual([
      [0, 'sent'],
      [1, 'pending'],
    ])
    expect(messages('error')).toContain('the store refused a completion')
    clock.advance(3 * 24 * 60 * MINUTE)
    await scheduler.tick()
    expect(recording.sent.map((s) => `${s.to}#${s.step}`).sort()).toEqual([
      'bad@x.test#0',
      'good@x.test#0',
      'good@x.test#1',
    ])
  })

  it("records it failed when every sent record is refused, and 'retry' recovery never sends it again", async () => {
    const { store } = refusingStore((c) => c.kind === 'sent')
    const recording = createRecordingTransport()
    const events: string[] = []
    const { clock, scheduler, campaign } = await setUp({
      store,
      transport: recording,
      leaseRecovery: 'retry',
      onEvent: (e) => events.push(e.type),
    })
    const created = await campaign(['a@x.test'], twoSteps)
    expect(await scheduler.tick()).toMatchObject({ sent: 0, failed: 1 })
    expect(events).toContain('failed')
    const [item] = await store.listQueueItems(created.id)
    expect(item!.status).toBe('failed')
    expect(item!.lastError).toContain('sent, but the store refused to record it as sent: refused by the test')
    clock.advance(10 * MINUTE)
    expect(await scheduler.tick()).toMatchObject({ recovered: 0, sent: 0 })
    expect(recording.attempts).toBe(1)
  })

  it('leaves the item sending (for lease recovery) only when the store refuses every record of it', async () => {
    const { store } = refusingStore(() => true)
    const { scheduler, campaign } = await setUp({ store, transport: createRecordingTransport() })
    const created = await campaign(['a@x.test'])
    const error = await scheduler.tick().catch((e: unknown) => e)
    expect(isMailcadenceError(error, 'store-conflict')).toBe(true)
    expect((await store.listQueueItems(created.id))[0]!.status).toBe('sending')
  })
})
