/**
 * What is particular to the SQLite store: opening (options, drivers, a host's own handle), state
 * that survives closing and reopening the file, the next-due bound an idle tick reads, and how
 * counters keep their expiry and are swept.
 */
import { createScheduler, isMailcadenceError, type NewCampaign } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createSqliteStore, type SqliteHandle } from '../src/index.js'
import { SWEEP_BATCH, SWEEP_EVERY } from '../src/sql/counters.js'
import { MIGRATIONS } from '../src/sql/migrations/index.js'
import { openRaw, tempFiles } from './support/files.js'

const files = tempFiles('store')
const t0 = new Date('2026-01-05T08:00:00Z')

function campaignInput(name: string, mailboxIds: string[]): NewCampaign {
  return {
    name,
    timezone: 'UTC',
    startHour: 0,
    startMinute: 0,
    endHour: 24,
    endMinute: 0,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    jitter: 0,
    maxEmailsPerDay: 100,
    mailboxIds,
    steps: [{ subject: 'Hi', text: 'Hello' }],
    variables: [],
    windowTimezone: 'campaign',
    skipDates: [],
  }
}

const lead = (email: string) => ({
  email,
  emailKey: email,
  firstName: null,
  lastName: null,
  company: null,
  variables: {},
  timezone: null,
  country: null,
  windowKey: '',
})

describe('opening a store', () => {
  it('refuses a missing filename and an unusable database with invalid-input naming the field', () => {
    for (const [options, field] of [
      [{}, 'filename'],
      [{ filename: '' }, 'filename'],
      [{ database: {} as SqliteHandle }, 'database'],
    ] as const) {
      let error: unknown
      try {
        createSqliteStore(options)
      } catch (e) {
        error = e
      }
      expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
      expect((error as { field?: string }).field).toBe(field)
    }
  })

  it('names a file it cannot open with store-misconfigured', () => {
    const filename = `${files.dir}/no-such-directory/store.db`
    let error: unknown
    try {
      createSqliteStore({ filename })
    } catch (e) {
      error = e
    }
    expect(isMailcadenceError(error, 'store-misconfigured')).toBe(true)
    expect((error as Error).message).toContain('no-such-directory/store.db')
  })

  it.runIf(!process.getBuiltinModule?.('node:sqlite'))(
    'says which Node has node:sqlite when it is asked for on one without it',
    () => {
      expect(() => createSqliteStore({ filename: files.next(), driver: 'node:sqlite' })).toThrow(
        /Node 22\.13/,
      )
    },
  )

  it('keeps everything across close and reopen, and migrates an opened file once', async () => {
    const filename = files.next()
    const first = createSqliteStore({ filename })
    const box = await first.createMailbox(
      { email: 'a@sender.test', name: null, dailyEmailLimit: 10, timezone: 'UTC', skipDates: [] },
      t0,
    )
    const campaign = await first.createCampaign(campaignInput('durable', [box.id]), t0)
    await first.addLeads(campaign.id, [lead('x@example.com')], t0)
    await first.close()

    const again = createSqliteStore({ filename })
    expect((await again.getCampaign(campaign.id))?.name).toBe('durable')
    expect((await again.queueStats(campaign.id)).pending).toBe(1)
    expect((await again.addLeads(campaign.id, [lead('x@example.com')], t0)).duplicates).toBe(1)
    await again.close()
    const db = openRaw(filename)
    expect(db.prepare('SELECT version FROM mailcadence_migrations ORDER BY version').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version })),
    )
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    db.close()
  })

  it('brings a file of the first release up to date, keeping its rows', async () => {
    const filename = files.next()
    const old = openRaw(filename)
    old.exec('CREATE TABLE mailcadence_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)')
    old.exec(MIGRATIONS[0]!.sql)
    old.prepare(`INSERT INTO mailcadence_migrations VALUES (1, '001_init')`).run()
    old
      .prepare(
        `INSERT INTO mailcadence_campaigns (name, status, mailbox_ids, steps, variables, timezone, start_hour,
           start_minute, end_hour, end_minute, allowed_days, window_timezone, delay_between_emails, jitter,
           max_emails_per_day, created_at, updated_at)
         VALUES ('old', 'DRAFT', '[]', '[{"subject":"s","text":"t"}]', '[]', 'UTC', 9, 0, 17, 0, 'MON', 'campaign',
           60, 0, 10, 0, 0)`,
      )
      .run()
    old.close()
    const store = createSqliteStore({ filename })
    expect(await store.getCampaign('1')).toMatchObject({
      name: 'old',
      stopOnReply: 'lead',
      settingsVersion: 1,
    })
    await store.close()
  })

  it('brings a file of migration 003 up to date: its mailboxes and campaigns read with no limits', async () => {
    const filename = files.next()
    const old = openRaw(filename)
    old.exec('CREATE TABLE mailcadence_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)')
    for (const m of MIGRATIONS.filter((m) => m.version <= 3)) {
      old.exec(m.sql)
      old.prepare('INSERT INTO mailcadence_migrations VALUES (?, ?)').run(m.version, m.name)
    }
    old
      .prepare(
        `INSERT INTO mailcadence_mailboxes (email, daily_email_limit, timezone, created_at, updated_at)
         VALUES ('old@sender.test', 20, 'UTC', 0, 0)`,
      )
      .run()
    old
      .prepare(
        `INSERT INTO mailcadence_campaigns (name, status, mailbox_ids, steps, variables, timezone, start_hour,
           start_minute, end_hour, end_minute, allowed_days, window_timezone, delay_between_emails, jitter,
           max_emails_per_day, created_at, updated_at)
         VALUES ('old', 'DRAFT', '["1"]', '[{"subject":"s","text":"t"}]', '[]', 'UTC', 9, 0, 17, 0, 'MON',
           'campaign', 60, 0, 10, 0, 0)`,
      )
      .run()
    old.close()
    const store = createSqliteStore({ filename })
    try {
      expect(await store.getMailboxes(['1'])).toMatchObject([
        {
          email: 'old@sender.test',
          hourlyLimit: null,
          rampUp: null,
          rampLevel: 0,
          rampDayKey: null,
          provider: null,
        },
      ])
      expect(await store.getCampaign('1')).toMatchObject({
        name: 'old',
        recipientDomainLimit: null,
        providerMatching: 'off',
      })
      expect(await store.readCounters(['any'])).toEqual({ any: 0 })
    } finally {
      await store.close()
    }
  })

  it('works on a handle the host opened, next to its own tables, and leaves it open', async () => {
    const db = openRaw(files.next())
    db.exec('CREATE TABLE app_users (id INTEGER PRIMARY KEY, email TEXT)')
    const store = createSqliteStore({ database: db })
    const box = await store.createMailbox(
      { email: 'a@sender.test', name: 'A', dailyEmailLimit: 10, timezone: 'UTC', skipDates: [] },
      t0,
    )
    await store.close()
    expect(db.prepare('SELECT email FROM mailcadence_mailboxes WHERE id = ?').get(box.id)).toEqual({
      email: 'a@sender.test',
    })
    expect(db.prepare('SELECT count(*) AS n FROM app_users').get()).toEqual({ n: 0 })
    db.close()
  })
})

describe('the next-due bound an idle tick reads', () => {
  it('lists only due campaigns, reports when the next one is due, and forgets a sent item', async () => {
    const filename = files.next()
    const store = createSqliteStore({ filename })
    const clock = createFakeClock(t0)
    const scheduler = createScheduler({ store, transport: createRecordingTransport(), clock })
    const box = await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 100 })
    const ids: string[] = []
    for (let c = 0; c < 5; c++) {
      const campaign = await scheduler.createCampaign({
        name: `c${c}`,
        startHour: 0,
        endHour: 24,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        jitter: 0,
        mailboxIds: [box.id],
        steps: [
          { subject: 'Hi', text: 'Hello' },
          { delayDays: c + 1, text: 'Again' },
        ],
      })
      await scheduler.addLeads(campaign.id, [{ email: `c${c}@example.com` }])
      await scheduler.startCampaign(campaign.id)
      ids.push(campaign.id)
    }
    // Every first email is due now.
    const due = await store.listDueCampaigns(t0, { dueBefore: t0 })
    expect(due.campaigns.map((r) => r.campaign.id)).toEqual(ids)
    expect((await scheduler.tick()).sent).toBe(5)

    // Only follow-ups are left, 1 to 5 days out: none is listed, the earliest is reported.
    const idle = await store.listDueCampaigns(clock.now(), { dueBefore: clock.now() })
    expect(idle.campaigns).toEqual([])
    const firstFollowUp = (await store.queueStats(ids[0]!)).nextScheduledAt
    expect(idle.laterAt).toEqual(firstFollowUp)
    const raw = openRaw(filename)
    try {
      // The bound equals each campaign's earliest pending item (exact after a reservation).
      const rows = raw
        .prepare(
          `SELECT c.id, c.next_due_at AS bound,
             (SELECT min(scheduled_at) FROM mailcadence_queue_items q WHERE q.campaign_id = c.id AND q.status = 'pending') AS earliest
           FROM mailcadence_campaigns c ORDER BY c.id`,
        )
        .all() as Array<{ bound: number; earliest: number }>
      for (const row of rows) expect(row.bound).toBe(row.earliest)
      // The idle query goes through the index on can_send_from, not a scan of the campaigns.
      const plan = raw
        .prepare(
          `EXPLAIN QUERY PLAN SELECT min(can_send_from) FROM mailcadence_campaigns
           WHERE status = 'IN_PROGRESS' AND can_send_from > ?`,
        )
        .all(0) as Array<{ detail: string }>
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/mailcadence_campaigns_can_send_from/)
    } finally {
      raw.close()
    }

    // A campaign stopped meanwhile drops out; the others come due one by one.
    await scheduler.stopCampaign(ids[0]!)
    clock.set(new Date(firstFollowUp!.getTime() + 24 * 3600_000))
    const later = await store.listDueCampaigns(clock.now(), { dueBefore: clock.now() })
    expect(later.campaigns.map((r) => r.campaign.id)).toEqual([ids[1]])
    await scheduler.close()
  })
})

describe('counters on the file', () => {
  const day = 86_400_000
  const at = (ms: number) => new Date(t0.getTime() + ms)

  it('keeps the latest expiry a counter was claimed with', async () => {
    const filename = files.next()
    const store = createSqliteStore({ filename })
    const raw = openRaw(filename)
    try {
      await store.claimCounters([{ key: 'k', limit: null, expiresAt: at(2 * day) }], t0)
      await store.claimCounters([{ key: 'k', limit: null, expiresAt: at(day) }], t0)
      expect(raw.prepare('SELECT count, expires_at FROM mailcadence_counters').all()).toEqual([
        { count: 2, expires_at: at(2 * day).getTime() },
      ])
    } finally {
      raw.close()
      await store.close()
    }
  })

  it('sweeps expired counters in bounded batches during claims, never a live one', async () => {
    const filename = files.next()
    const store = createSqliteStore({ filename })
    const raw = openRaw(filename)
    const left = () =>
      raw.prepare('SELECT count(*) AS n FROM mailcadence_counters WHERE key LIKE ?').get('old-%') as {
        n: number
      }
    try {
      const expired = SWEEP_BATCH + 20
      const old = Array.from({ length: expired }, (_, i) => ({
        key: `old-${i}`,
        limit: null,
        expiresAt: at(1000),
      }))
      expect(await store.claimCounters(old, t0)).toBe(true)
      await store.claimCounters([{ key: 'live', limit: null, expiresAt: at(day) }], t0)
      // Up to the next sweep (every SWEEP_EVERY claims, counting the two above), nothing goes.
      for (let i = 2; i < SWEEP_EVERY - 1; i++)
        await store.claimCounters([{ key: `new-${i}`, limit: null, expiresAt: at(day) }], at(60_000))
      expect(left().n).toBe(expired)
      // The sweep compares with the claim's `now`: at the expiry instant, the expired go, a batch at most.
      await store.claimCounters([{ key: 'tick', limit: null, expiresAt: at(day) }], at(1000))
      expect(left().n).toBe(expired - SWEEP_BATCH)
      for (let i = 0; i < SWEEP_EVERY; i++)
        await store.claimCounters([{ key: 'tick', limit: null, expiresAt: at(day) }], at(60_000))
      expect(left().n).toBe(0)
      expect(await store.readCounters(['old-0', 'live', 'tick'])).toEqual({
        'old-0': 0,
        live: 1,
        tick: SWEEP_EVERY + 1,
      })
    } finally {
      raw.close()
      await store.close()
    }
  })
})
