/**
 * Eight OS processes tick against one schema at once: 20 campaigns with no delay share 10
 * mailboxes with small daily limits, 5,000 leads, two steps each. Then every invariant is checked
 * in SQL and against what reached each worker's transport.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createScheduler, dayKey, type Mailbox, type Scheduler } from '@mailcadence/core'
import { createRecordingTransport } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'
import { readRecords, startWorker, type TransportRecord } from './support/workers.js'

const WORKERS = 8
const CAMPAIGNS = 20
const MAILBOXES = 10
const LEADS_PER_CAMPAIGN = 250
const MAILBOX_LIMIT = 120
/** Odd campaigns are capped low (their cap binds), even ones high (the mailboxes' limits bind). */
const campaignCap = (i: number) => (i % 2 === 1 ? 40 : 150)
/** Mailboxes count their day in different zones. */
const ZONES = ['UTC', 'America/New_York', 'Asia/Tokyo', 'Europe/Warsaw', 'Asia/Kathmandu']

const ready = await databaseAvailable('multi-process')
const suite = ready ? describe : describe.skip

suite('8 processes ticking one database', () => {
  let pool: pg.Pool
  let schema: string
  let dir: string
  let scheduler: Scheduler
  let mailboxes: Mailbox[]
  const schemas: string[] = []
  const dayKeysAtStart = new Map<string, string>()

  beforeAll(async () => {
    pool = createTestPool(5)
    schema = await freshSchema(pool, 'multi', schemas)
    dir = mkdtempSync(join(tmpdir(), 'mailcadence-multi-'))
    scheduler = createScheduler({
      store: createPostgresStore({ pool, schema }),
      transport: createRecordingTransport(),
    })
    mailboxes = []
    for (let m = 0; m < MAILBOXES; m++) {
      mailboxes.push(
        await scheduler.createMailbox({
          email: `box${m}@sender${m}.test`,
          dailyEmailLimit: MAILBOX_LIMIT,
          timezone: ZONES[m % ZONES.length]!,
        }),
      )
    }
    for (let c = 0; c < CAMPAIGNS; c++) {
      const ids = [c, c + 3, c + 7].map((m) => mailboxes[m % MAILBOXES]!.id)
      const created = await scheduler.createCampaign({
        name: `Campaign ${c}`,
        timezone: 'UTC',
        startHour: 0,
        endHour: 24,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        jitter: 0,
        maxEmailsPerDay: campaignCap(c),
        mailboxIds: ids,
        steps: [
          { subject: 'Hello {{firstName}}', text: 'First' },
          { delayDays: 0, text: 'Follow-up' },
        ],
      })
      const leads = Array.from({ length: LEADS_PER_CAMPAIGN }, (_, i) => ({
        email: `c${c}-lead${i}@example.com`,
        firstName: `N${i}`,
      }))
      expect((await scheduler.addLeads(created.id, leads)).added).toBe(LEADS_PER_CAMPAIGN)
      await scheduler.startCampaign(created.id)
    }
    const now = new Date()
    for (const zone of ZONES) dayKeysAtStart.set(zone, dayKey(now, zone))
  })

  afterAll(async () => {
    await scheduler?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  it('sends every email at most once and holds every limit', { timeout: 150_000 }, async () => {
    const started = performance.now()
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      startWorker({
        name: `worker-${w}`,
        url: DATABASE_URL,
        schema,
        record: join(dir, `worker-${w}.jsonl`),
        transport: 'record',
        maxSendsPerCampaignPerTick: 5,
        idleTicks: 6,
        maxRunMs: 100_000,
      }),
    )
    const summaries = await Promise.all(workers.map((w) => w.done))
    const elapsed = performance.now() - started
    const records: TransportRecord[] = []
    for (let w = 0; w < WORKERS; w++) records.push(...readRecords(join(dir, `worker-${w}.jsonl`)))
    console.info(
      `[adapter-postgres] multi-process: ${records.length} sends by ${WORKERS} processes in ${Math.round(elapsed)} ms`,
      summaries.map((s) => `${s.name}: ${s.sent}`).join(', '),
    )
    expect(summaries.every((s) => s.errors === 0)).toBe(true)
    // Several processes actually took part.
    expect(summaries.filter((s) => Number(s.sent) > 0).length).toBeGreaterThanOrEqual(4)

    // 1. No duplicate: in the send log, and among the calls that reached any transport.
    const q = async <T>(sql: string, values: unknown[] = []) => (await pool.query(sql, values)).rows as T[]
    const s = `"${schema}"`
    expect(
      await q(`SELECT campaign_id, lead_id, step FROM ${s}.send_log GROUP BY 1, 2, 3 HAVING count(*) > 1`),
    ).toEqual([])
    const keys = new Set(records.map((r) => `${r.campaignId}|${r.leadId}|${r.step}`))
    expect(keys.size).toBe(records.length)
    const logged = await q<{ k: string; message_id: string }>(
      `SELECT campaign_id || '|' || lead_id || '|' || step AS k, message_id FROM ${s}.send_log`,
    )
    expect(logged).toHaveLength(records.length)
    const messageIds = new Map(logged.map((l) => [l.k, l.message_id]))
    for (const r of records) expect(messageIds.get(`${r.campaignId}|${r.leadId}|${r.step}`)).toBe(r.messageId)
    expect(records.length).toBeGreaterThan(0)

    // 2. Mailbox limits on every local day: the counters, and the transport calls per local day.
    expect(await q(`SELECT * FROM ${s}.mailbox_day_counts WHERE sent > $1`, [MAILBOX_LIMIT])).toEqual([])
    const perMailboxDay = new Map<string, number>()
    for (const r of records) {
      const key = `${r.mailboxId}|${dayKey(new Date(r.at), r.mailboxTimezone)}`
      perMailboxDay.set(key, (perMailboxDay.get(key) ?? 0) + 1)
    }
    expect(Math.max(...perMailboxDay.values())).toBeLessThanOrEqual(MAILBOX_LIMIT)

    // 3. Campaign limits per (UTC, all-day window) day.
    const perCampaignDay = await q<{ campaign_id: string; name: string; max: number; n: number }>(
      `SELECT g.campaign_id, c.name, c.max_emails_per_day AS max, count(*)::int AS n
       FROM ${s}.send_log g JOIN ${s}.campaigns c ON c.id = g.campaign_id
       GROUP BY 1, 2, 3, (g.sent_at AT TIME ZONE 'UTC')::date`,
    )
    for (const row of perCampaignDay) expect(row.n).toBeLessThanOrEqual(row.max)

    // 4. Nothing lost, nothing stuck.
    const statuses = await q<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM ${s}.queue_items GROUP BY 1 ORDER BY 1`,
    )
    expect(
      statuses.map((r) => r.status).every((st) => ['pending', 'sent', 'failed', 'cancelled'].includes(st)),
    ).toBe(true)
    expect(await q(`SELECT id FROM ${s}.queue_items WHERE status = 'sending'`)).toEqual([])
    expect(
      await q(`SELECT id FROM ${s}.queue_items WHERE status = 'pending' AND scheduled_at IS NULL`),
    ).toEqual([])
    const sent = statuses.find((r) => r.status === 'sent')?.n ?? 0
    expect(sent).toBe(records.length)
    // Every first email still pending or sent, every follow-up enqueued once per sent first email.
    const [shape] = await q<{ leads: number; firsts: number; follow_ups: number; first_sent: number }>(
      `SELECT (SELECT count(*)::int FROM ${s}.leads) AS leads,
              count(*) FILTER (WHERE step = 0)::int AS firsts,
              count(*) FILTER (WHERE step = 1)::int AS follow_ups,
              count(*) FILTER (WHERE step = 0 AND status = 'sent')::int AS first_sent
       FROM ${s}.queue_items`,
    )
    expect(shape).toEqual({
      leads: CAMPAIGNS * LEADS_PER_CAMPAIGN,
      firsts: CAMPAIGNS * LEADS_PER_CAMPAIGN,
      follow_ups: shape!.first_sent,
      first_sent: shape!.first_sent,
    })

    // 5. Liveness: the workers stopped because nothing could leave, not early. Every due pending
    // item is held by its campaign's cap or by full mailboxes (unless a local day turned over
    // during the run and gave new room).
    const now = new Date()
    const sameDay = [...dayKeysAtStart].every(([zone, key]) => dayKey(now, zone) === key)
    if (sameDay) {
      const full = new Set(
        (
          await q<{ id: string }>(
            `SELECT mailbox_id::text AS id FROM ${s}.mailbox_day_counts WHERE sent >= $1 AND day_key = ANY($2)`,
            [MAILBOX_LIMIT, [...dayKeysAtStart.values()]],
          )
        ).map((r) => r.id),
      )
      const stuck = await q<{
        id: string
        mailbox_id: string | null
        campaign_full: boolean
        boxes: string[]
      }>(
        `SELECT q.id::text, q.mailbox_id::text,
                (c.day_key = $1 AND c.day_sent >= c.max_emails_per_day) AS campaign_full, c.mailbox_ids AS boxes
         FROM ${s}.queue_items q JOIN ${s}.campaigns c ON c.id = q.campaign_id
         WHERE q.status = 'pending' AND q.scheduled_at <= $2`,
        [dayKey(now, 'UTC'), now],
      )
      for (const item of stuck) {
        const held =
          item.campaign_full ||
          (item.mailbox_id !== null ? full.has(item.mailbox_id) : item.boxes.every((b) => full.has(b)))
        expect(held, `item ${item.id} could still leave`).toBe(true)
      }
      // Both kinds of limit were reached: some campaigns at their cap, some mailboxes full.
      expect(full.size).toBeGreaterThan(0)
      expect(stuck.some((i) => i.campaign_full)).toBe(true)
    }
  })
})
