/**
 * `scheduler.forecast()` with PostgreSQL as the live store: the campaign's state is copied from
 * Postgres into the forecast's in-memory simulation, which must give, day by day, what a fake-clock
 * run of the scheduler on Postgres then sends, and leave Postgres as it was.
 */
import { createScheduler, dayKey } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport, createSeededRandom } from '@mailcadence/core/testing'
import { afterAll, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

if (await databaseAvailable('forecast')) {
  const pool = createTestPool(5)
  const schemas: string[] = []
  afterAll(async () => {
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  it('forecasts from Postgres what a fake-clock run on Postgres then sends, day by day', {
    timeout: 180_000,
  }, async () => {
    const store = createPostgresStore({ pool, schema: await freshSchema(pool, 'forecast', schemas) })
    const clock = createFakeClock(new Date('2026-01-04T20:00:00Z'))
    const transport = createRecordingTransport()
    const scheduler = createScheduler({
      store,
      transport,
      clock,
      random: createSeededRandom(3),
      lookahead: 0,
    })
    const mailboxIds: string[] = []
    for (let i = 0; i < 3; i++) {
      const box = await scheduler.createMailbox({
        email: `rep${i}@acme.test`,
        dailyEmailLimit: 20,
        timezone: 'Europe/Warsaw',
      })
      mailboxIds.push(box.id)
    }
    const campaign = await scheduler.createCampaign({
      name: 'Seed',
      timezone: 'Europe/Warsaw',
      startHour: 9,
      endHour: 17,
      allowedDays: 'MON,TUE,WED,THU,FRI',
      delayBetweenEmails: 90,
      maxEmailsPerDay: 500,
      mailboxIds,
      steps: [
        { subject: 'Hello {{firstName}}', text: 'Hi' },
        { delayDays: 2, text: 'Following up' },
      ],
    })
    await scheduler.addLeads(
      campaign.id,
      Array.from({ length: 100 }, (_, i) => ({ email: `lead${i}@example.com`, firstName: `N${i}` })),
    )
    await scheduler.startCampaign(campaign.id)
    const runUntil = async (until: Date) => {
      while (clock.now() < until) {
        const result = await scheduler.tick()
        const now = clock.now().getTime()
        const next = result.nextDueAt ? Math.max(result.nextDueAt.getTime(), now + 1) : now + 3_600_000
        clock.set(new Date(Math.min(next, until.getTime())))
      }
    }
    // Monday 10:00 in Warsaw: some of today's sends made, the rest to come.
    await runUntil(new Date('2026-01-05T09:00:00Z'))
    const sentBefore = transport.sent.length
    expect(sentBefore).toBeGreaterThan(0)
    const before = [await store.listQueueItems(campaign.id), await store.listSendLog(campaign.id)]
    const forecast = await scheduler.forecast(campaign.id)
    expect([await store.listQueueItems(campaign.id), await store.listSendLog(campaign.id)]).toEqual(before)
    expect(transport.attempts).toBe(sentBefore)

    await runUntil(new Date('2026-01-12T20:00:00Z'))
    const real: Record<string, number> = {}
    for (const s of transport.sent.slice(sentBefore)) {
      const day = dayKey(s.at, 'Europe/Warsaw')
      real[day] = (real[day] ?? 0) + 1
    }
    const forecastDays = Object.fromEntries(
      forecast.days.filter((d) => d.sent > 0).map((d) => [d.date, d.sent]),
    )
    expect(forecastDays).toEqual(real)
    expect(forecast.days.find((d) => d.date === '2026-01-05')!.bottleneck).toBe('mailbox-limit')
    expect(forecast.sent).toBe(200 - sentBefore)
  })
} else {
  it.skip('forecast from a PostgreSQL store (no PostgreSQL server)', () => {})
}
