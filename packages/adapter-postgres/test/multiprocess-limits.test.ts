/**
 * Issue #14 under real concurrency: eight OS processes tick one schema with every limit that
 * protects mailboxes switched on — warm-up ramps, hourly caps, recipient-domain limits (per
 * campaign and across all), provider matching (prefer and strict), guards (on by default) — and
 * nothing is sent twice, and no limit is passed in any hour or day. Checked in SQL and against
 * what reached each worker's transport.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createScheduler, dayKey, hourKey, type Mailbox, type Scheduler } from '@mailcadence/core'
import { createRecordingTransport } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'
import { readRecords, startWorker, type TransportRecord } from './support/workers.js'

const WORKERS = 8
const CAMPAIGNS = 8
const LEADS_PER_CAMPAIGN = 60
/** Half the mailboxes are held by their hourly cap, half by their warm-up's first day. */
const HOURLY = 9
const RAMP = { start: 6, step: 5 }
const PER_DOMAIN = 2
/** Company domains with Google, Microsoft or other mail (MX), and consumer ones. */
const MX: Record<string, string[]> = {
  'g-sender.test': ['aspmx.l.google.com'],
  'm-sender.test': ['m-sender-test.mail.protection.outlook.com'],
  'o-sender.test': ['mx.o-sender.test'],
  'acme-google.test': ['alt1.aspmx.l.google.com'],
  'contoso.test': ['contoso-test.mail.protection.outlook.com'],
}
const RECIPIENT_DOMAINS = [
  'acme-google.test',
  'contoso.test',
  'plain.test',
  'gmail.com',
  'outlook.com',
  'other.test',
]

const ready = await databaseAvailable('multi-process limits')
const suite = ready ? describe : describe.skip

suite('8 processes with every limit that protects mailboxes on', () => {
  let pool: pg.Pool
  let schema: string
  let dir: string
  let scheduler: Scheduler
  let mailboxes: Mailbox[]
  const schemas: string[] = []

  beforeAll(async () => {
    pool = createTestPool(5)
    schema = await freshSchema(pool, 'limits', schemas)
    dir = mkdtempSync(join(tmpdir(), 'mailcadence-limits-'))
    scheduler = createScheduler({
      store: createPostgresStore({ pool, schema }),
      transport: createRecordingTransport(),
      resolveMx: async (domain) => MX[domain] ?? [],
    })
    mailboxes = []
    const senders = [
      'g-sender.test',
      'g-sender.test',
      'm-sender.test',
      'm-sender.test',
      'o-sender.test',
      'o-sender.test',
    ]
    for (const [i, domain] of senders.entries()) {
      mailboxes.push(
        await scheduler.createMailbox({
          email: `rep${i}@${domain}`,
          dailyEmailLimit: 100,
          ...(i < 3 ? { hourlyLimit: HOURLY } : { hourlyLimit: 50, rampUp: RAMP }),
          timezone: i % 2 === 0 ? 'UTC' : 'Asia/Kolkata',
        }),
      )
    }
    for (let c = 0; c < CAMPAIGNS; c++) {
      const created = await scheduler.createCampaign({
        name: `Campaign ${c}`,
        startHour: 0,
        endHour: 24,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        jitter: 0,
        mailboxIds: mailboxes.map((m) => m.id),
        recipientDomainLimit: { perDay: PER_DOMAIN, scope: c % 2 === 0 ? 'campaign' : 'all' },
        providerMatching: c % 4 === 3 ? 'strict' : 'prefer',
        steps: [
          { subject: 'Hello {{firstName}}', text: 'First' },
          { delayDays: 0, text: 'Follow-up' },
        ],
      })
      // Each company domain has many leads; most leads are at a domain of their own.
      const leads = Array.from({ length: LEADS_PER_CAMPAIGN }, (_, i) => ({
        email:
          i % 3 === 0
            ? `c${c}-lead${i}@${RECIPIENT_DOMAINS[i % RECIPIENT_DOMAINS.length]}`
            : `c${c}-lead${i}@solo${c}-${i}.test`,
        firstName: `N${i}`,
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

  it('sends every email at most once and never passes a limit in any hour or day', {
    timeout: 180_000,
  }, async () => {
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      startWorker({
        name: `worker-${w}`,
        url: DATABASE_URL,
        schema,
        record: join(dir, `worker-${w}.jsonl`),
        transport: 'record',
        maxSendsPerCampaignPerTick: 5,
        idleTicks: 8,
        maxRunMs: 120_000,
        mx: MX,
      }),
    )
    const summaries = await Promise.all(workers.map((w) => w.done))
    const records: TransportRecord[] = []
    for (let w = 0; w < WORKERS; w++) records.push(...readRecords(join(dir, `worker-${w}.jsonl`)))
    console.info(
      `[adapter-postgres] every limit on: ${records.length} sends by ${WORKERS} processes`,
      summaries.map((s) => `${s.name}: ${s.sent}`).join(', '),
    )
    expect(summaries.every((s) => s.errors === 0)).toBe(true)
    expect(summaries.filter((s) => Number(s.sent) > 0).length).toBeGreaterThanOrEqual(2)
    expect(records.length).toBeGreaterThan(0)
    const q = async <T>(sql: string, values: unknown[] = []) => (await pool.query(sql, values)).rows as T[]
    const s = `"${schema}"`

    // 1. No duplicate, in the send log and among the transport calls.
    expect(
      await q(`SELECT campaign_id, lead_id, step FROM ${s}.send_log GROUP BY 1, 2, 3 HAVING count(*) > 1`),
    ).toEqual([])
    expect(new Set(records.map((r) => `${r.campaignId}|${r.leadId}|${r.step}`)).size).toBe(records.length)
    expect(await q(`SELECT id FROM ${s}.queue_items WHERE status = 'sending'`)).toEqual([])

    // 2. Hourly caps, per mailbox and local clock hour; ramped daily limits, per local day.
    const byId = new Map(mailboxes.map((m) => [m.id, m]))
    const perHour = new Map<string, number>()
    const perDay = new Map<string, number>()
    for (const r of records) {
      const zone = byId.get(r.mailboxId)!.timezone
      const at = new Date(r.at)
      const hour = `${r.mailboxId}|${hourKey(at, zone)}`
      const day = `${r.mailboxId}|${dayKey(at, zone)}`
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1)
      perDay.set(day, (perDay.get(day) ?? 0) + 1)
    }
    const capOf = (id: string) => byId.get(id)!.hourlyLimit!
    for (const [key, n] of perHour) expect(n, key).toBeLessThanOrEqual(capOf(key.split('|')[0]!))
    // A ramp's first day is `start` (a run that crosses a local midnight may see its second day).
    const ramping = (id: string) => byId.get(id)!.rampUp !== null
    for (const [key, n] of perDay)
      if (ramping(key.split('|')[0]!)) expect(n, key).toBeLessThanOrEqual(RAMP.start + RAMP.step)
    // Both kinds of cap were reached, not just never approached.
    expect([...perHour].some(([key, n]) => !ramping(key.split('|')[0]!) && n === HOURLY)).toBe(true)
    expect([...perDay].some(([key, n]) => ramping(key.split('|')[0]!) && n >= RAMP.start)).toBe(true)

    // 3. Recipient domains: first emails per domain and UTC day, per campaign and across the
    // campaigns that count across all; free-mail domains exempt.
    const firsts = await q<{ campaign_id: string; domain: string; day: string; n: number }>(
      `SELECT g.campaign_id::text, split_part(g.recipient, '@', 2) AS domain,
              to_char(g.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS n
       FROM ${s}.send_log g WHERE g.step = 0 GROUP BY 1, 2, 3`,
    )
    const freeMail = new Set(['gmail.com', 'outlook.com'])
    const campaignsAll = new Set(
      (await q<{ id: string }>(`SELECT id::text FROM ${s}.campaigns WHERE name ~ '[13579]$'`)).map(
        (r) => r.id,
      ),
    )
    const acrossAll = new Map<string, number>()
    for (const row of firsts) {
      if (freeMail.has(row.domain)) continue
      expect(row.n, `${row.domain} in campaign ${row.campaign_id}`).toBeLessThanOrEqual(PER_DOMAIN)
      if (campaignsAll.has(row.campaign_id)) {
        const key = `${row.domain}|${row.day}`
        acrossAll.set(key, (acrossAll.get(key) ?? 0) + row.n)
      }
    }
    for (const [key, n] of acrossAll) expect(n, key).toBeLessThanOrEqual(PER_DOMAIN)

    // 4. Strict campaigns never sent a Google or Microsoft recipient's first email from a
    // mailbox of another provider.
    const providerOf = (domain: string) =>
      domain === 'gmail.com' || domain === 'acme-google.test' || domain === 'g-sender.test'
        ? 'google'
        : domain === 'outlook.com' || domain === 'contoso.test' || domain === 'm-sender.test'
          ? 'microsoft'
          : 'other'
    const strict = await q<{ to: string; sender: string }>(
      `SELECT g.recipient AS "to", m.email AS sender FROM ${s}.send_log g
       JOIN ${s}.campaigns c ON c.id = g.campaign_id JOIN ${s}.mailboxes m ON m.id = g.mailbox_id
       WHERE g.step = 0 AND c.provider_matching = 'strict'`,
    )
    for (const row of strict) {
      const wanted = providerOf(row.to.split('@')[1]!)
      if (wanted !== 'other') expect(providerOf(row.sender.split('@')[1]!), row.to).toBe(wanted)
    }
  })
})
