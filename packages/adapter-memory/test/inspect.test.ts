/**
 * The scheduler's inspection reads (dashboards, the CLI): pages of campaigns, failures with the
 * server's answers, the recent log, sends per local day, on the memory store and on a store
 * without the optional reads (core's fallbacks).
 */
import { createScheduler, isMailcadenceError, type Store } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

/** The memory store less its optional inspection reads, as a minimal third-party store would be. */
function withoutInspection(store: Store): Store {
  const {
    listCampaigns: _c,
    listMailboxes: _m,
    listFailedSends: _f,
    listRecentSends: _r,
    listSendTimes: _t,
    ...rest
  } = store
  return rest
}

async function setUp(store: Store) {
  // Monday 2026-01-05 08:00 UTC (09:00 in Warsaw).
  const clock = createFakeClock(new Date('2026-01-05T08:00:00.000Z'))
  const transport = createRecordingTransport()
  const scheduler = createScheduler({ store, transport, clock, lookahead: 0 })
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
  const campaign = await scheduler.createCampaign({
    name: 'Week',
    timezone: 'Europe/Warsaw',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    mailboxIds: [mailbox.id],
    steps: [{ subject: 'Hi', text: 'Hello' }],
  })
  await scheduler.startCampaign(campaign.id)
  return { clock, transport, scheduler, campaign }
}

describe.each([
  ['memory store', () => createMemoryStore()],
  ['a store without the optional reads', () => withoutInspection(createMemoryStore())],
])('inspection on %s', (_name, makeStore) => {
  it('sendsPerDay counts the campaign’s local days, oldest first, empty days as 0', async () => {
    const { clock, scheduler, campaign } = await setUp(makeStore())
    // Day by day, n sends at 10:00 UTC; on Tuesday one more at 23:30 UTC, which is Wednesday in Warsaw.
    const perDay = [3, 0, 2, 5, 1]
    let lead = 0
    // A drained campaign completes by itself; starting it again sends to the leads added since.
    const restart = async () => {
      if ((await scheduler.getCampaign(campaign.id)).status === 'COMPLETED')
        await scheduler.startCampaign(campaign.id)
    }
    for (const [day, n] of perDay.entries()) {
      clock.set(new Date(Date.UTC(2026, 0, 5 + day, 10)))
      await scheduler.addLeads(
        campaign.id,
        Array.from({ length: n }, () => ({ email: `l${lead++}@x.test` })),
      )
      await restart()
      while ((await scheduler.tick()).sent > 0) {}
      if (day === 1) {
        clock.set(new Date(Date.UTC(2026, 0, 6, 23, 30)))
        await scheduler.addLeads(campaign.id, [{ email: `l${lead++}@x.test` }])
        await restart()
        expect((await scheduler.tick()).sent).toBe(1)
      }
    }
    clock.set(new Date(Date.UTC(2026, 0, 11, 12)))
    expect(await scheduler.sendsPerDay(campaign.id)).toEqual([
      { day: '2026-01-05', sent: 3 },
      { day: '2026-01-06', sent: 0 },
      { day: '2026-01-07', sent: 3 },
      { day: '2026-01-08', sent: 5 },
      { day: '2026-01-09', sent: 1 },
      { day: '2026-01-10', sent: 0 },
      { day: '2026-01-11', sent: 0 },
    ])
    expect((await scheduler.sendsPerDay(campaign.id, { days: 2 })).map((d) => d.day)).toEqual([
      '2026-01-10',
      '2026-01-11',
    ])
    const recent = await scheduler.recentSends(campaign.id, { limit: 2 })
    expect(recent.map((e) => e.to)).toEqual(['l11@x.test', 'l10@x.test'])
  })

  it('failures lists failed sends with the server’s answer, latest first', async () => {
    const { clock, transport, scheduler, campaign } = await setUp(makeStore())
    await scheduler.addLeads(campaign.id, [
      { email: 'a@x.test' },
      { email: 'b@x.test' },
      { email: 'c@x.test' },
    ])
    transport.failNext(1, { responseCode: 550, response: '550 5.1.1 <a@x.test>: User unknown' })
    await scheduler.tick()
    clock.advance(1000)
    await scheduler.tick()
    clock.advance(1000)
    transport.failNext(1, { responseCode: 554, response: '554 5.6.0 Content rejected' })
    await scheduler.tick()
    const failures = await scheduler.failures(campaign.id)
    expect(failures.map((f) => f.to)).toEqual(['c@x.test', 'a@x.test'])
    expect(failures[0]!.item.lastError).toContain('554 5.6.0 Content rejected')
    expect(failures[1]!.item.lastError).toContain('User unknown')
  })
})

describe('listCampaigns', () => {
  it('pages by status with a cursor, validates its query, and names a missing store read', async () => {
    const { scheduler, campaign } = await setUp(createMemoryStore())
    const more = []
    for (let i = 0; i < 4; i++)
      more.push(await scheduler.createCampaign({ ...campaign, name: `C${i}`, steps: campaign.steps }))
    const page1 = await scheduler.listCampaigns({ limit: 2 })
    expect(page1.campaigns.map((c) => c.name)).toEqual(['Week', 'C0'])
    const page2 = await scheduler.listCampaigns({ limit: 2, after: page1.next! })
    const page3 = await scheduler.listCampaigns({ limit: 2, after: page2.next! })
    expect(page3).toEqual({ campaigns: [expect.objectContaining({ name: 'C3' })], next: null })
    expect(await scheduler.listCampaigns({ status: 'IN_PROGRESS' })).toEqual({
      campaigns: [expect.objectContaining({ id: campaign.id })],
      next: null,
    })
    for (const [query, field] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 501 }, 'limit'],
      [{ status: 'RUNNING' }, 'status'],
      [{ after: '' }, 'after'],
    ] as const) {
      const error = await scheduler.listCampaigns(query as never).catch((e: unknown) => e)
      expect(isMailcadenceError(error, 'invalid-input') && error.field).toBe(field)
    }
    const bare = (await setUp(withoutInspection(createMemoryStore()))).scheduler
    await expect(bare.listCampaigns()).rejects.toThrow(/no listCampaigns method/)
    await expect(bare.listMailboxes()).rejects.toThrow(/no listMailboxes method/)
  })
})
