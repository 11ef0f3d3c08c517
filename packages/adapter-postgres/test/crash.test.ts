/**
 * Workers that die or freeze mid-send. SIGKILL: a worker dies with sends in flight (its transport
 * stalls); once the lease ends, another worker's recovery fails those items as `interrupted`,
 * sends everything else once, and leaves nothing `sending`. SIGSTOP: a worker frozen past its lease
 * holds no transaction (recovery does not wait for it), and when it resumes its late completions
 * are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createScheduler, type Scheduler } from '@mailcadence/core'
import { createRecordingTransport } from '@mailcadence/core/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/index.js'
import { createTestPool, DATABASE_URL, databaseAvailable, dropSchemas, freshSchema } from './support/db.js'
import { readRecords, startWorker, waitFor } from './support/workers.js'

const ready = await databaseAvailable('crash recovery')
const suite = ready ? describe : describe.skip

suite('workers that die or freeze mid-send', () => {
  let pool: pg.Pool
  let dir: string
  const schemas: string[] = []
  const schedulers: Scheduler[] = []

  beforeAll(() => {
    pool = createTestPool(5)
    dir = mkdtempSync(join(tmpdir(), 'mailcadence-crash-'))
  })

  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.close()))
    if (dir) rmSync(dir, { recursive: true, force: true })
    if (pool) {
      await dropSchemas(pool, schemas)
      await pool.end()
    }
  })

  /**
   * A fresh schema with `count` running campaigns over two mailboxes, `leads` leads each. A campaign
   * sends one email at a time, so sends in flight at once come from different campaigns.
   */
  async function campaignsWith(count: number, leads: number, label: string) {
    const schema = await freshSchema(pool, label, schemas)
    const scheduler = createScheduler({
      store: createPostgresStore({ pool, schema }),
      transport: createRecordingTransport(),
    })
    schedulers.push(scheduler)
    const boxes = [
      await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 1000 }),
      await scheduler.createMailbox({ email: 'b@sender.test', dailyEmailLimit: 1000 }),
    ]
    const ids: string[] = []
    for (let c = 0; c < count; c++) {
      const campaign = await scheduler.createCampaign({
        name: `${label} ${c}`,
        startHour: 0,
        endHour: 24,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        jitter: 0,
        maxEmailsPerDay: 1000,
        mailboxIds: boxes.map((b) => b.id),
        steps: [{ subject: 'Hi', text: 'Hello' }],
      })
      await scheduler.addLeads(
        campaign.id,
        Array.from({ length: leads }, (_, i) => ({ email: `${label}${c}-${i}@example.com` })),
      )
      await scheduler.startCampaign(campaign.id)
      ids.push(campaign.id)
    }
    const statuses = async () => {
      const { rows } = await pool.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM "${schema}".queue_items GROUP BY 1`,
      )
      return Object.fromEntries(rows.map((r) => [r.status, r.n]))
    }
    return { schema, ids, scheduler, statuses }
  }

  it('recovers after SIGKILL with sends in flight: nothing left sending, nothing sent twice', {
    timeout: 90_000,
  }, async () => {
    const { schema, ids, scheduler, statuses } = await campaignsWith(10, 3, 'kill')
    const lease = 2_000
    const killedRecord = join(dir, 'killed.jsonl')
    const killed = startWorker({
      name: 'killed',
      url: DATABASE_URL,
      schema,
      record: killedRecord,
      transport: 'stall',
      lease,
      maxSendsPerCampaignPerTick: 10,
      concurrency: 10,
    })
    await waitFor('10 stalled sends', () => readRecords(killedRecord).length >= 10)
    expect((await statuses()).sending).toBe(10)
    killed.child.kill('SIGKILL')
    await new Promise((resolve) => killed.child.once('exit', resolve))
    const reservedAt = Date.now()

    // Before the lease ends nothing is recovered; after it, a survivor fails the ten as interrupted.
    const survivorRecord = join(dir, 'survivor.jsonl')
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, reservedAt + lease + 200 - Date.now())))
    const survivor = startWorker({
      name: 'survivor',
      url: DATABASE_URL,
      schema,
      record: survivorRecord,
      transport: 'record',
      lease,
      leaseRecovery: 'fail',
      maxSendsPerCampaignPerTick: 10,
    })
    const summary = await survivor.done
    expect(summary.recovered).toBe(10)

    const stalled = readRecords(killedRecord)
    const resent = readRecords(survivorRecord)
    const keys = [...stalled, ...resent].map((r) => `${r.leadId}|${r.step}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(resent).toHaveLength(20)
    expect(await statuses()).toEqual({ sent: 20, failed: 10 })
    const items = await pool.query<{ id: string; last_error: string }>(
      `SELECT id::text, last_error FROM "${schema}".queue_items WHERE status = 'failed'`,
    )
    expect(new Set(items.rows.map((r) => r.id))).toEqual(new Set(stalled.map((r) => r.itemId)))
    expect(items.rows.every((r) => r.last_error === 'interrupted')).toBe(true)
    const log = await pool.query(`SELECT lead_id::text FROM "${schema}".send_log`)
    expect(log.rows).toHaveLength(20)
    for (const id of ids) expect((await scheduler.getCampaign(id)).status).toBe('COMPLETED')
  })

  it('refuses the late completions of a worker frozen (SIGSTOP) past its lease', {
    timeout: 90_000,
  }, async () => {
    const { schema, statuses } = await campaignsWith(5, 1, 'stop')
    const lease = 2_500
    const record = join(dir, 'frozen.jsonl')
    const frozen = startWorker({
      name: 'frozen',
      url: DATABASE_URL,
      schema,
      record,
      transport: 'slow',
      slowMs: 1_000,
      lease,
      maxSendsPerCampaignPerTick: 5,
      concurrency: 5,
      idleTicks: 3,
    })
    await waitFor('5 sends in flight', () => readRecords(record).length >= 5)
    frozen.child.kill('SIGSTOP')
    const frozenAt = Date.now()
    try {
      expect((await statuses()).sending).toBe(5)
      await new Promise((resolve) => setTimeout(resolve, lease + 500))
      // Recovery runs while the worker is frozen: it holds no transaction and no row lock, so this
      // does not wait for it.
      const store = createPostgresStore({ pool, schema })
      const recovered = await store.recoverExpiredLeases(new Date(), 'fail')
      expect(recovered).toHaveLength(5)
      expect(Date.now() - frozenAt).toBeLessThan(lease + 5_000)
    } finally {
      frozen.child.kill('SIGCONT')
    }
    const summary = await frozen.done
    // Its transport calls "succeeded" after the lease: every completion was refused.
    expect(summary.leaseLost).toBe(5)
    expect(summary.sent).toBe(0)
    expect(await statuses()).toEqual({ failed: 5 })
    const failed = await pool.query(`SELECT last_error FROM "${schema}".queue_items`)
    expect(failed.rows.every((r: { last_error: string }) => r.last_error === 'interrupted')).toBe(true)
    expect((await pool.query(`SELECT 1 FROM "${schema}".send_log`)).rows).toHaveLength(0)
  })
})
