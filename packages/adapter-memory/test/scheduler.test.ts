/**
 * The scheduler's public API on its embedded default store: what the conformance suite does not
 * cover because it is about core, not about a store (options, validation at the door, events,
 * the self-ticking loop, errors).
 */
import {
  type CampaignInput,
  createScheduler,
  isMailcadenceError,
  type SchedulerEvent,
  type Store,
} from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

const allDay = (mailboxIds: string[], extra: Partial<CampaignInput> = {}): CampaignInput => ({
  name: 'API',
  startHour: 0,
  endHour: 24,
  allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
  delayBetweenEmails: 0,
  mailboxIds,
  steps: [{ subject: 'Hi {{firstName|there}}', text: 'Hello' }],
  ...extra,
})

async function setUp(options: Partial<Parameters<typeof createScheduler>[0]> = {}) {
  const store = options.store ?? createMemoryStore()
  const clock = createFakeClock()
  const transport = createRecordingTransport()
  const scheduler = createScheduler({ store, transport, clock, lookahead: 0, ...options })
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
  return { store, clock, transport, scheduler, mailbox }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('validation at the door', () => {
  it('names the field of a bad campaign setting, and refuses unknown mailboxes', async () => {
    const { scheduler, mailbox } = await setUp()
    const cases: Array<[Partial<CampaignInput>, string]> = [
      [{ timezone: 'Mars/Olympus' }, 'timezone'],
      [{ allowedDays: 'MON,FOO' }, 'allowedDays'],
      [{ startHour: 25 }, 'startHour'],
      [{ endMinute: 60 }, 'endMinute'],
      [{ startHour: 9, endHour: 9 }, 'endHour'],
      [{ maxEmailsPerDay: -1 }, 'maxEmailsPerDay'],
      [{ delayBetweenEmails: 1.5 }, 'delayBetweenEmails'],
      [{ jitter: 1 }, 'jitter'],
      [{ mailboxIds: ['nope'] }, 'mailboxIds[0]'],
      [{ steps: [{ subject: 'Hi\r\nBcc: x@y.z', text: 'a' }] }, 'steps[0].subject'],
      [{ steps: [{ subject: 'Hi {{nickname}}', text: 'a' }] }, 'steps[0].subject'],
    ]
    for (const [override, field] of cases) {
      const error = await rejection(scheduler.createCampaign(allDay([mailbox.id], override)))
      expect(isMailcadenceError(error, 'invalid-input'), field).toBe(true)
      expect((error as { field: string }).field).toBe(field)
      expect((error as Error).message.startsWith(`${field}:`)).toBe(true)
    }
  })

  it('validates an update as a whole and keeps the campaign unchanged on error', async () => {
    const { scheduler, mailbox } = await setUp()
    const campaign = await scheduler.createCampaign(allDay([mailbox.id]))
    const error = await rejection(scheduler.updateCampaign(campaign.id, { startHour: 0, endHour: 0 }))
    expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
    const updated = await scheduler.updateCampaign(campaign.id, { maxEmailsPerDay: 7, name: 'Renamed' })
    expect(updated).toMatchObject({ maxEmailsPerDay: 7, name: 'Renamed', startHour: 0 })
    const mailboxError = await rejection(scheduler.updateMailbox(mailbox.id, { dailyEmailLimit: -3 }))
    expect((mailboxError as { field: string }).field).toBe('dailyEmailLimit')
  })

  it('reports invalid leads and leads missing a required variable, without enqueuing them', async () => {
    const { scheduler, mailbox } = await setUp()
    const campaign = await scheduler.createCampaign(
      allDay([mailbox.id], { steps: [{ subject: 'For {{company}}', text: 'Hi {{firstName|there}}' }] }),
    )
    const result = await scheduler.addLeads(campaign.id, [
      { email: 'ok@example.com', company: 'Acme' },
      { email: 'OK@example.com', company: 'Acme' },
      { email: 'no-company@example.com' },
      { email: 'bad@', company: 'X' },
      { email: 'inject@example.com', company: 'X', firstName: 'Eve\r\nBcc: victim@example.com' },
    ])
    expect(result.added).toBe(1)
    expect(result.duplicates).toBe(1)
    expect(result.invalid.map((i) => i.email)).toEqual([
      'no-company@example.com',
      'bad@',
      'inject@example.com',
    ])
    expect(result.invalid[0]!.reason).toContain('{{company}}')
    expect((await scheduler.queueStats(campaign.id)).pending).toBe(1)
  })

  it('throws not-found for unknown ids and invalid-state for impossible transitions', async () => {
    const { scheduler, mailbox } = await setUp()
    expect(isMailcadenceError(await rejection(scheduler.explain('missing')), 'not-found')).toBe(true)
    const campaign = await scheduler.createCampaign(allDay([mailbox.id]))
    expect(isMailcadenceError(await rejection(scheduler.resumeCampaign(campaign.id)), 'invalid-state')).toBe(
      true,
    )
    await scheduler.stopCampaign(campaign.id)
    expect(isMailcadenceError(await rejection(scheduler.startCampaign(campaign.id)), 'invalid-state')).toBe(
      true,
    )
    expect(isMailcadenceError(await rejection(scheduler.addLeads(campaign.id, [])), 'invalid-state')).toBe(
      true,
    )
  })
})

describe('ticking', () => {
  it('handles only the campaigns its campaignFilter selects (ids or predicate)', async () => {
    const { scheduler, mailbox, store, transport, clock } = await setUp()
    const a = await scheduler.createCampaign(allDay([mailbox.id], { name: 'legacy' }))
    const b = await scheduler.createCampaign(allDay([mailbox.id], { name: 'v2' }))
    for (const c of [a, b]) {
      await scheduler.addLeads(c.id, [{ email: `${c.name}@example.com` }])
      await scheduler.startCampaign(c.id)
    }
    const byId = createScheduler({ store, transport, clock, lookahead: 0, campaignFilter: [b.id] })
    expect((await byId.tick()).campaigns).toBe(1)
    expect(transport.sent.map((s) => s.to)).toEqual(['v2@example.com'])
    const byName = createScheduler({
      store,
      transport,
      clock,
      lookahead: 0,
      campaignFilter: (c) => c.name === 'legacy',
    })
    await byName.tick()
    expect(transport.sent.map((s) => s.to)).toEqual(['v2@example.com', 'legacy@example.com'])
  })

  it('emits typed events and survives a listener that throws', async () => {
    const events: SchedulerEvent[] = []
    const logs: string[] = []
    const log = (level: string) => (_obj: object, msg?: string) => logs.push(`${level} ${msg}`)
    const { scheduler, mailbox } = await setUp({
      onEvent: (event) => {
        events.push(event)
        throw new Error('listener bug')
      },
      logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    })
    const campaign = await scheduler.createCampaign(allDay([mailbox.id]))
    await scheduler.addLeads(campaign.id, [{ email: 'a@example.com' }])
    await scheduler.startCampaign(campaign.id)
    expect(await scheduler.tick()).toMatchObject({ sent: 1 })
    await scheduler.tick()
    expect(events.map((e) => e.type)).toEqual(['sent', 'campaign-completed'])
    expect(events[0]).toMatchObject({ type: 'sent', to: 'a@example.com', step: 0, mailboxId: mailbox.id })
    expect(logs).toContain('error onEvent listener threw')
    expect(logs).toContain('info sent')
  })

  it('fails a tick with a clear error when the store is down, and loses nothing', async () => {
    const inner = createMemoryStore()
    let down = false
    const flaky = new Proxy(inner, {
      get(target, key: keyof Store) {
        const value = target[key]
        if (key !== 'reserveSends' || typeof value !== 'function') return value
        return (...args: unknown[]) =>
          down
            ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'))
            : (value as (...a: unknown[]) => unknown).apply(target, args)
      },
    })
    const { scheduler, mailbox, transport } = await setUp({ store: flaky })
    const campaign = await scheduler.createCampaign(allDay([mailbox.id]))
    await scheduler.addLeads(campaign.id, [{ email: 'a@example.com' }])
    await scheduler.startCampaign(campaign.id)
    down = true
    const error = await rejection(scheduler.tick())
    expect(isMailcadenceError(error, 'store-unavailable')).toBe(true)
    expect((error as Error).message).toContain('ECONNREFUSED')
    expect(await scheduler.queueStats(campaign.id)).toMatchObject({ pending: 1, sending: 0 })
    down = false
    expect(await scheduler.tick()).toMatchObject({ sent: 1 })
    expect(transport.sent).toHaveLength(1)
  })

  it('delivers the reservations of a batch that succeeded when another request of it could not run', async () => {
    const inner = createMemoryStore()
    let failCampaign: string | null = null
    const partial = new Proxy(inner, {
      get(target, key: keyof Store) {
        const value = target[key]
        if (key !== 'reserveSends' || typeof value !== 'function') return value
        return async (requests: Parameters<Store['reserveSends']>[0], now: Date) => {
          const ok = requests.filter((r) => r.campaignId !== failCampaign)
          const outcomes = await target.reserveSends(ok, now)
          return requests.map((r) =>
            r.campaignId === failCampaign
              ? { ok: false, reason: 'store-unavailable', error: new Error('connection terminated') }
              : outcomes.shift()!,
          )
        }
      },
    })
    const { scheduler, mailbox, transport } = await setUp({ store: partial })
    const a = await scheduler.createCampaign(allDay([mailbox.id], { name: 'a' }))
    const b = await scheduler.createCampaign(allDay([mailbox.id], { name: 'b' }))
    for (const c of [a, b]) {
      await scheduler.addLeads(c.id, [{ email: `${c.name}@example.com` }])
      await scheduler.startCampaign(c.id)
    }
    failCampaign = b.id
    const error = await rejection(scheduler.tick())
    expect((error as Error).message).toContain('connection terminated')
    // Campaign a's reservation was not lost with b's failure: it was sent in the same tick.
    expect(transport.sent.map((s) => s.to)).toEqual(['a@example.com'])
    expect(await scheduler.queueStats(b.id)).toMatchObject({ pending: 1, sending: 0 })
    failCampaign = null
    expect(await scheduler.tick()).toMatchObject({ sent: 1 })
  })

  it('start() ticks by itself until stop(), and close() refuses further work', async () => {
    const transport = createRecordingTransport()
    const scheduler = createScheduler({ store: createMemoryStore(), transport, interval: 20, lookahead: 0 })
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
    const campaign = await scheduler.createCampaign(allDay([mailbox.id]))
    await scheduler.addLeads(
      campaign.id,
      [1, 2, 3, 4, 5].map((i) => ({ email: `l${i}@example.com` })),
    )
    await scheduler.startCampaign(campaign.id)
    scheduler.start()
    scheduler.start() // idempotent
    const deadline = Date.now() + 5000
    while (transport.sent.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    await scheduler.stop()
    expect(transport.sent).toHaveLength(5)
    expect((await scheduler.getCampaign(campaign.id)).status).toBe('COMPLETED')
    await scheduler.close()
    expect(isMailcadenceError(await rejection(scheduler.tick()), 'closed')).toBe(true)
  })

  it('reports nextDueAt for a campaign waiting for its window, and explain() agrees', async () => {
    const { scheduler, mailbox, clock } = await setUp()
    const campaign = await scheduler.createCampaign({
      name: 'Warsaw office hours',
      timezone: 'Europe/Warsaw',
      mailboxIds: [mailbox.id],
      steps: [{ subject: 'Hi', text: 'x' }],
    })
    await scheduler.addLeads(campaign.id, [{ email: 'a@example.com' }])
    await scheduler.startCampaign(campaign.id)
    // Monday 16:30 UTC is 17:30 in Warsaw, after the default 09:00–17:00 window.
    clock.set(new Date('2026-01-05T16:30:00Z'))
    const result = await scheduler.tick()
    expect(result).toMatchObject({ sent: 0, skipped: { 'outside-window': 1 } })
    expect(result.nextDueAt?.toISOString()).toBe('2026-01-06T08:00:00.000Z')
    const why = await scheduler.explain(campaign.id)
    expect(why.sending).toBe(false)
    expect(why.reasons).toHaveLength(1)
    expect(why.reasons[0]).toMatchObject({ code: 'outside-window', until: new Date('2026-01-06T08:00:00Z') })
    expect(why.reasons[0]!.message).toContain('Tue 2026-01-06 09:00:00')
    clock.set(result.nextDueAt!)
    expect(await scheduler.tick()).toMatchObject({ sent: 1 })
  })
})
