/**
 * Eight OS processes tick one schema with lead time zones on (issue #13): 10 campaigns send in
 * their leads' hours (08:00–20:00 every day, read in each lead's zone), leads spread over nine
 * zones around the globe, one country on a holiday today. On the real clock some zones are open
 * and some closed at any instant. Then: no duplicate, no cap passed, every item kept its lead's
 * window key, and zones closed for the whole run (and the holiday's country) sent nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createScheduler, dayKey, isInWindow, type Mailbox, type Scheduler } from '@mailcadence/core'
import { createRecordingTransport } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'
import { readRecords, startWorker, type TransportRecord } from './support/workers.js'

const WORKERS = 8
const CAMPAIGNS = 10
const MAILBOXES = 6
const LEADS_PER_CAMPAIGN = 135
const MAILBOX_LIMIT = 150
/** Odd campaigns are capped low (their cap binds), even ones high. */
const campaignCap = (i: number) => (i % 2 === 1 ? 30 : 500)
/** Lead zones about three hours apart: with a 12-hour window some are open and some closed at any instant. */
const LEAD_ZONES = [
  { timezone: 'Pacific/Honolulu', country: 'US' },
  { timezone: 'America/Los_Angeles', country: 'US' },
  { timezone: 'America/New_York', country: 'US' },
  { timezone: 'America/Sao_Paulo', country: 'BR' },
  { timezone: 'Europe/London', country: 'GB' },
  { timezone: 'Europe/Warsaw', country: 'PL' },
  { timezone: 'Asia/Kolkata', country: 'IN' },
  { timezone: 'Asia/Tokyo', country: 'JP' },
  { timezone: 'Pacific/Auckland', country: 'NZ' },
]
/** Brazil is on holiday today and tomorrow (its local dates), whatever the time of the run. */
const HOLIDAY_COUNTRY = 'BR'
const MAILBOX_ZONES = ['UTC', 'America/New_York', 'Asia/Tokyo']
const WINDOW = {
  startHour: 8,
  startMinute: 0,
  endHour: 20,
  endMinute: 0,
  allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
}

const ready = await databaseAvailable('multi-process with lead zones')
const suite = ready ? describe : describe.skip

suite('8 processes ticking one database, lead time zones on', () => {
  let pool: pg.Pool
  let schema: string
  let dir: string
  let scheduler: Scheduler
  let mailboxes: Mailbox[]
  const schemas: string[] = []

  beforeAll(async () => {
    pool = createTestPool(5)
    schema = await freshSchema(pool, 'multizones', schemas)
    dir = mkdtempSync(join(tmpdir(), 'mailcadence-multizones-'))
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
          timezone: MAILBOX_ZONES[m % MAILBOX_ZONES.length]!,
        }),
      )
    }
    for (let c = 0; c < CAMPAIGNS; c++) {
      const created = await scheduler.createCampaign({
        name: `Zoned ${c}`,
        timezone: 'UTC',
        windowTimezone: 'lead',
        ...WINDOW,
        delayBetweenEmails: 0,
        jitter: 0,
        maxEmailsPerDay: campaignCap(c),
        mailboxIds: [c, c + 2].map((m) => mailboxes[m % MAILBOXES]!.id),
        steps: [
          { subject: 'Hello {{firstName}}', text: 'First' },
          { delayDays: 0, text: 'Follow-up' },
        ],
      })
      const leads = Array.from({ length: LEADS_PER_CAMPAIGN }, (_, i) => ({
        email: `c${c}-lead${i}@example.com`,
        firstName: `N${i}`,
        ...LEAD_ZONES[i % LEAD_ZONES.length]!,
      }))
      expect((await scheduler.addLeads(created.id, leads)).added).toBe(LEADS_PER_CAMPAIGN)
      await scheduler.startCampaign(created.id)
    }
  })

  afterAll(async () => {
    await scheduler?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  it('sends every email at most once, holds every cap, and only in open zones', {
    timeout: 150_000,
  }, async () => {
    const brazil = 'America/Sao_Paulo'
    const today = dayKey(new Date(), brazil)
    const tomorrow = dayKey(new Date(Date.now() + 86_400_000), brazil)
    const startedAt = new Date()
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
        holidays: { [HOLIDAY_COUNTRY]: [today, tomorrow] },
      }),
    )
    const summaries = await Promise.all(workers.map((w) => w.done))
    const endedAt = new Date()
    const records: TransportRecord[] = []
    for (let w = 0; w < WORKERS; w++) records.push(...readRecords(join(dir, `worker-${w}.jsonl`)))
    const countBy = <T>(items: readonly T[], key: (item: T) => string) => {
      const counts = new Map<string, number>()
      for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
      return counts
    }
    console.info(
      `[adapter-postgres] multi-process, lead zones: ${records.length} sends by ${WORKERS} processes in ${endedAt.getTime() - startedAt.getTime()} ms`,
      summaries.map((s) => `${s.name}: ${s.sent}`).join(', '),
    )
    expect(summaries.every((s) => s.errors === 0)).toBe(true)
    expect(summaries.filter((s) => Number(s.sent) > 0).length).toBeGreaterThanOrEqual(3)

    // No duplicate: in the send log, and among the calls that reached any transport.
    const q = async <T>(sql: string, values: unknown[] = []) => (await pool.query(sql, values)).rows as T[]
    const s = `"${schema}"`
    expect(
      await q(`SELECT campaign_id, lead_id, step FROM ${s}.send_log GROUP BY 1, 2, 3 HAVING count(*) > 1`),
    ).toEqual([])
    const keys = new Set(records.map((r) => `${r.campaignId}|${r.leadId}|${r.step}`))
    expect(keys.size).toBe(records.length)
    expect(records.length).toBeGreaterThan(0)
    const [logged] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.send_log`)
    expect(logged!.n).toBe(records.length)

    // No cap passed: mailboxes per their local day, campaigns per their (UTC) day.
    expect(await q(`SELECT * FROM ${s}.mailbox_day_counts WHERE sent > $1`, [MAILBOX_LIMIT])).toEqual([])
    const perMailboxDay = new Map<string, number>()
    for (const r of records) {
      const key = `${r.mailboxId}|${dayKey(new Date(r.at), r.mailboxTimezone)}`
      perMailboxDay.set(key, (perMailboxDay.get(key) ?? 0) + 1)
    }
    expect(Math.max(...perMailboxDay.values())).toBeLessThanOrEqual(MAILBOX_LIMIT)
    const perCampaignDay = await q<{ max: number; n: number }>(
      `SELECT c.max_emails_per_day AS max, count(*)::int AS n
       FROM ${s}.send_log g JOIN ${s}.campaigns c ON c.id = g.campaign_id
       GROUP BY g.campaign_id, c.max_emails_per_day, (g.sent_at AT TIME ZONE 'UTC')::date`,
    )
    for (const row of perCampaignDay) expect(row.n).toBeLessThanOrEqual(row.max)

    // Every item kept its lead's window key; nothing is left sending.
    expect(
      await q(
        `SELECT q.id FROM ${s}.queue_items q JOIN ${s}.leads l ON l.id = q.lead_id WHERE q.window_key <> l.window_key`,
      ),
    ).toEqual([])
    expect(await q(`SELECT id FROM ${s}.queue_items WHERE status = 'sending'`)).toEqual([])

    // Zones closed for the whole run sent nothing; zones open for the whole run sent. A lead's zone
    // is read from its address (lead i is in zone i mod 9): core stores the zone's canonical
    // spelling, which may differ from the one given (Asia/Kolkata is Asia/Calcutta to ICU).
    const sentTo = await q<{ email: string }>(
      `SELECT l.email FROM ${s}.send_log g JOIN ${s}.leads l ON l.id = g.lead_id`,
    )
    const zoneIndex = (email: string) => Number(/-lead(\d+)@/.exec(email)![1]) % LEAD_ZONES.length
    const perZone = countBy(sentTo, (r) => LEAD_ZONES[zoneIndex(r.email)]!.timezone)
    const sentIn = (timezone: string) => perZone.get(timezone) ?? 0
    console.info('[adapter-postgres] multi-process, lead zones: sends per zone', Object.fromEntries(perZone))
    const openAt = (timezone: string, at: Date) => isInWindow({ ...WINDOW, timezone }, at)
    let open = 0
    for (const zone of LEAD_ZONES) {
      const atStart = openAt(zone.timezone, startedAt)
      const atEnd = openAt(zone.timezone, endedAt)
      if (zone.country === HOLIDAY_COUNTRY || (!atStart && !atEnd))
        expect(sentIn(zone.timezone), `${zone.timezone} is closed`).toBe(0)
      else if (atStart && atEnd) {
        expect(sentIn(zone.timezone), `${zone.timezone} is open`).toBeGreaterThan(0)
        open++
      }
    }
    expect(open).toBeGreaterThan(0)
  })
})
