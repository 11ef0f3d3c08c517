/**
 * A send that went out is never sent again because PostgreSQL refused to record it, even with
 * `leaseRecovery: 'retry'`: core falls back to simpler records (sent without the follow-up, then
 * failed) rather than leave the item `sending`. And dates made from huge settings are storable.
 * The refusals are real: triggers in the test's schema that raise on the rows a completion writes.
 */
import { type CampaignInput, createScheduler, type SchedulerEvent } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'

const ready = await databaseAvailable('refused completions')
const suite = ready ? describe : describe.skip

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

const twoSteps = (mailboxIds: string[]): CampaignInput => ({
  name: 'Refused',
  startHour: 0,
  endHour: 24,
  allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
  delayBetweenEmails: 0,
  mailboxIds,
  steps: [
    { subject: 'Hi', text: 'Hello' },
    { delayDays: 2, text: 'Again' },
  ],
})

suite('a completion PostgreSQL refuses', () => {
  let pool: pg.Pool
  const schemas: string[] = []

  beforeAll(() => {
    pool = createTestPool(4)
  })
  afterAll(async () => {
    if (!pool) return
    await dropSchemas(pool, schemas)
    await pool.end()
  })

  async function setUp(refusal: (schema: string) => string | null) {
    const schema = await freshSchema(pool, 'refused', schemas)
    const sql = refusal(schema)
    if (sql) await pool.query(sql)
    const store = createPostgresStore({ pool, schema })
    const clock = createFakeClock()
    const transport = createRecordingTransport()
    const events: SchedulerEvent[] = []
    const scheduler = createScheduler({
      store,
      transport,
      clock,
      lookahead: 0,
      leaseRecovery: 'retry',
      lease: 5 * MINUTE,
      onEvent: (e) => events.push(e),
    })
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 100 })
    const campaign = await scheduler.createCampaign(twoSteps([mailbox.id]))
    await scheduler.addLeads(campaign.id, [{ email: 'refused@x.test' }, { email: 'fine@x.test' }])
    await scheduler.startCampaign(campaign.id)
    return { schema, store, clock, transport, events, scheduler, campaign }
  }

  /** A trigger on `table` raising for the rows `when` matches (PL/pgSQL over NEW, given the schema). */
  const refuseRows = (table: string, when: (schema: string) => string) => (schema: string) =>
    `
    CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF ${when(schema)} THEN RAISE EXCEPTION 'refused by the test'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse BEFORE INSERT ON "${schema}".${table}
      FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse();`

  it("records it failed when its send-log row is refused: step 0 reaches the transport once, even with 'retry'", async () => {
    const { store, clock, transport, events, scheduler, campaign } = await setUp(
      refuseRows('send_log', () => `NEW.recipient = 'refused@x.test'`),
    )
    const first = await scheduler.tick()
    const second = await scheduler.tick()
    expect(first.sent + second.sent).toBe(1)
    expect(first.failed + second.failed).toBe(1)
    const refused = (await store.listQueueItems(campaign.id)).find((i) => i.status === 'failed')!
    expect(refused.lastError).toMatch(/^sent, but the store refused to record it as sent: PostgreSQL refused/)
    expect(events.some((e) => e.type === 'failed' && e.itemId === refused.id)).toBe(true)

    // Past the lease and days later: recovery finds nothing, the refused lead gets nothing more,
    // the other lead its follow-up.
    for (const advance of [10 * MINUTE, 3 * DAY]) {
      clock.advance(advance)
      expect((await scheduler.tick()).recovered).toBe(0)
    }
    expect(transport.attempts).toBe(3)
    expect(transport.sent.map((s) => `${s.to}#${s.step}`).sort()).toEqual([
      'fine@x.test#0',
      'fine@x.test#1',
      'refused@x.test#0',
    ])
    expect((await scheduler.queueStats(campaign.id)).sending).toBe(0)
  })

  it("records it sent without its follow-up when the follow-up's row is refused", async () => {
    const { store, clock, transport, scheduler, campaign } = await setUp(
      refuseRows(
        'queue_items',
        (schema) =>
          `NEW.step = 1 AND NEW.lead_id IN (SELECT id FROM "${schema}".leads WHERE email_key = 'refused@x.test')`,
      ),
    )
    await scheduler.tick()
    await scheduler.tick()
    const items = await store.listQueueItems(campaign.id)
    const leadOf = async (email: string) => (await store.getLead(campaign.id, email))!
    const refusedLead = await leadOf('refused@x.test')
    expect(items.filter((i) => i.leadId === refusedLead.id).map((i) => [i.step, i.status])).toEqual([
      [0, 'sent'],
    ])
    expect(refusedLead.status).toBe('completed')
    expect(await store.listSendLog(campaign.id)).toHaveLength(2)
    clock.advance(10 * MINUTE)
    expect((await scheduler.tick()).recovered).toBe(0)
    clock.advance(3 * DAY)
    await scheduler.tick()
    expect(transport.sent.map((s) => `${s.to}#${s.step}`).sort()).toEqual([
      'fine@x.test#0',
      'fine@x.test#1',
      'refused@x.test#0',
    ])
  })

  it('stores a follow-up due past year 9999 (delayDays 1e9, past validation) at 9999-12-31', async () => {
    const { store, clock, transport, scheduler, campaign } = await setUp(() => null)
    await store.updateCampaign(
      campaign.id,
      {
        steps: [
          { subject: 'Hi', text: 'Hello' },
          { delayDays: 1e9, text: 'Again' },
        ],
      },
      clock.now(),
    )
    await scheduler.tick()
    await scheduler.tick()
    clock.advance(10 * MINUTE)
    expect((await scheduler.tick()).recovered).toBe(0)
    expect(transport.sent.map((s) => s.step)).toEqual([0, 0])
    const followUps = (await store.listQueueItems(campaign.id)).filter((i) => i.step === 1)
    expect(followUps.map((i) => [i.status, i.scheduledAt.toISOString()])).toEqual([
      ['pending', '9999-12-31T00:00:00.000Z'],
      ['pending', '9999-12-31T00:00:00.000Z'],
    ])
  })
})
