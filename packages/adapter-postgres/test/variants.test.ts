/**
 * Step variants across two schedulers on one PostgreSQL schema (two pools, as two processes would
 * have): every email of a lead's step sends the variant its weighted hash names, retries by the
 * other scheduler included, and a winner one scheduler decides is the one the other sends.
 */
import { createScheduler, type Scheduler, type StepVariant, weightedVariant } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport, type RecordingTransport } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('variants')
const suite = ready ? describe : describe.skip

const first: StepVariant[] = [
  { id: 'a', text: 'variant a' },
  { id: 'b', text: 'variant b', weight: 2 },
]
const second: StepVariant[] = [
  { id: 'x', text: 'variant x' },
  { id: 'y', text: 'variant y' },
]

suite('variants on PostgreSQL, two schedulers', () => {
  const pools: pg.Pool[] = []
  const schemas: string[] = []
  const clock = createFakeClock(new Date('2026-03-02T10:00:00Z'))
  let one: { scheduler: Scheduler; transport: RecordingTransport }
  let two: { scheduler: Scheduler; transport: RecordingTransport }

  beforeAll(async () => {
    const admin = createTestPool(2)
    pools.push(admin)
    const schema = await freshSchema(admin, 'content_variants', schemas)
    const make = () => {
      const pool = createTestPool(3)
      pools.push(pool)
      const transport = createRecordingTransport()
      const scheduler = createScheduler({
        store: createPostgresStore({ pool, schema }),
        transport,
        clock,
        lookahead: 0,
      })
      return { scheduler, transport }
    }
    one = make()
    two = make()
  })
  afterAll(async () => {
    await dropSchemas(pools[0]!, schemas)
    for (const pool of pools) await pool.end()
  })

  it('keeps each lead on its weighted variant through retries by the other scheduler, and agrees on the winner', async () => {
    const mailbox = await one.scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10_000 })
    const campaign = await one.scheduler.createCampaign({
      name: 'AB',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      mailboxIds: [mailbox.id],
      steps: [
        { subject: '{Hi|Hello} there', text: 'x', variants: first },
        { delayDays: 1, text: 'y', variants: second },
      ],
    })
    const leads = Array.from({ length: 40 }, (_, i) => ({ email: `lead${i}@example.com` }))
    await two.scheduler.addLeads(campaign.id, leads)
    await two.scheduler.startCampaign(campaign.id)

    // Scheduler one fails its first sends (retried later, by either scheduler).
    one.transport.failNext(8, { responseCode: 451, response: '451 4.3.0 Try later' })
    const total = () => one.transport.sent.length + two.transport.sent.length
    for (let round = 0; round < 400 && total() < 80; round++) {
      await Promise.all([one.scheduler.tick(), two.scheduler.tick()])
      clock.advance(10 * 60_000)
    }
    const sent = [...one.transport.sent, ...two.transport.sent]
    expect(sent).toHaveLength(80)
    expect(one.transport.attempts).toBeGreaterThan(one.transport.sent.length)
    const byId = new Map(
      (await one.scheduler.preview(campaign.id, { email: leads[0]!.email })).map((p) => [p.step, p]),
    )
    expect(byId.get(0)?.messageIdFinal).toBe(true)
    const emailOf = new Map<string, string>()
    for (const lead of leads) {
      const [p] = await two.scheduler.preview(campaign.id, { email: lead.email }, { step: 0 })
      emailOf.set(sent.find((s) => s.messageId === p?.message.messageId)!.leadId, lead.email)
    }
    for (const s of sent) {
      const email = emailOf.get(s.leadId)!
      const expected = weightedVariant(s.step === 0 ? first : second, campaign.id, email, s.step)
      expect(s.text).toBe(`variant ${expected}`)
    }
    const stats = await one.scheduler.variantStats(campaign.id)
    expect(stats.map((s) => s.variants.reduce((n, v) => n + v.sent, 0))).toEqual([40, 40])

    // One scheduler records a winner; the other sends it to new leads.
    const current = await one.scheduler.getCampaign(campaign.id)
    await one.scheduler.updateCampaign(campaign.id, {
      steps: current.steps.map((step, i) => (i === 0 ? { ...step, winner: 'a' } : step)),
    })
    await two.scheduler.addLeads(
      campaign.id,
      Array.from({ length: 10 }, (_, i) => ({ email: `new${i}@example.com` })),
    )
    await two.scheduler.startCampaign(campaign.id)
    const before = two.transport.sent.length
    for (let round = 0; round < 50 && two.transport.sent.length < before + 10; round++) {
      await two.scheduler.tick()
      clock.advance(60_000)
    }
    const fresh = two.transport.sent.slice(before)
    expect(fresh.map((s) => [s.step, s.text])).toEqual(Array(10).fill([0, 'variant a']))
  })
})
