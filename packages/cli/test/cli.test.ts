/**
 * `mailcadence` end to end: the bin (from its sources, through tsx) against the real PostgreSQL,
 * on a fresh schema, after the scheduler of a host sent some mail there. Also the exit codes and
 * that no password ever reaches the output.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createPostgresStore } from '@mailcadence/adapter-postgres'
import { createScheduler, type Scheduler } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../src/index.js'

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SRC = fileURLToPath(new URL('../src/', import.meta.url))
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
/** The built bin when it is newer than every source file (`pnpm build` ran), else the sources through tsx. */
const command = (() => {
  const built = existsSync(BIN) ? statSync(BIN).mtimeMs : 0
  const fresh = readdirSync(SRC).every((f) => statSync(SRC + f).mtimeMs <= built)
  return fresh ? [BIN] : ['--import', 'tsx', `${SRC}cli.ts`]
})()
const schema = `mc_test_cli_${randomBytes(5).toString('hex')}`

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function mailcadence(
  args: string[],
  env: Record<string, string | undefined> = { DATABASE_URL },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** `run()` in this process: no spawn, for the cases where the process boundary adds nothing. */
async function inProcess(
  args: string[],
  env: Record<string, string | undefined> = { DATABASE_URL },
): Promise<Result> {
  let stdout = ''
  let stderr = ''
  const code = await run(args, {
    stdout: (t) => {
      stdout += `${t}\n`
    },
    stderr: (t) => {
      stderr += `${t}\n`
    },
    env,
  })
  return { code, stdout, stderr }
}

async function databaseReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    return true
  } catch {
    if (process.env.CI) throw new Error('PostgreSQL is not reachable and CI requires the CLI tests to run')
    console.warn(
      '[cli] SKIPPED: PostgreSQL is not reachable at TEST_DATABASE_URL (default 127.0.0.1:5432/test)',
    )
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

const reachable = await databaseReachable()

describe.runIf(reachable)('mailcadence against PostgreSQL', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
  let scheduler: Scheduler
  let campaignId: string
  let draftId: string
  const sent: Date[] = []
  let version = 0

  beforeAll(async () => {
    // `migrate` creates the schema the host's scheduler then uses.
    const migrated = await mailcadence(['migrate', '--schema', schema, '--json'])
    expect(migrated.stderr).toBe('')
    expect(migrated.code).toBe(0)
    const result = JSON.parse(migrated.stdout) as { schema: string; applied: number[]; version: number }
    expect(result.schema).toBe(schema)
    expect(result.applied[0]).toBe(1)
    expect(result.applied).toEqual(result.applied.map((_, i) => i + 1))
    version = result.version
    expect(version).toBe(result.applied.length)

    // The host sends three emails now (the CLI reads "today" from the real clock).
    // A minute in the past: the CLI's own real clock must already be past every send it reports
    // (sends stamped after its "now" would fall outside today's range).
    const clock = createFakeClock(new Date(Date.now() - 60_000))
    scheduler = createScheduler({
      store: createPostgresStore({ pool, schema }),
      transport: createRecordingTransport(),
      clock,
      lookahead: 0,
    })
    const box = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 40 })
    const campaign = await scheduler.createCampaign({
      name: 'Q1 outreach',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      maxEmailsPerDay: 25,
      mailboxIds: [box.id],
      steps: [{ subject: 'Hi {{firstName|there}}', text: 'Hello' }],
    })
    campaignId = campaign.id
    draftId = (await scheduler.createCampaign({ name: 'Later', mailboxIds: [box.id], steps: campaign.steps }))
      .id
    await scheduler.addLeads(campaignId, [
      { email: 'a@example.com', firstName: 'Ann' },
      { email: 'b@example.com', firstName: 'Bob' },
      { email: 'c@example.com', firstName: 'Cy' },
      { email: 'd@example.com' },
    ])
    await scheduler.startCampaign(campaignId)
    for (let i = 0; i < 3; i++) {
      clock.advance(1000)
      sent.push(clock.now())
      expect((await scheduler.tick()).sent).toBe(1)
    }
  })

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await pool.end()
  })

  it('migrate again: up to date, exit 0', async () => {
    const r = await mailcadence(['migrate', '--schema', schema])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain(`Schema ${schema} is up to date (version ${version}).`)
  })

  it('status: a table of campaigns, or JSON, filtered and paged', async () => {
    const human = await mailcadence(['status', '--schema', schema])
    expect(human.code).toBe(0)
    const lines = human.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+TODAY\s+PENDING\s+WHY NOT SENDING$/)
    expect(lines[1]).toMatch(new RegExp(`^${campaignId}\\s+Q1 outreach\\s+IN_PROGRESS\\s+3/25\\s+1\\s+`))
    expect(lines[2]).toMatch(/Later\s+DRAFT\s+0\/\d+\s+0\s+not-running, queue-empty/)

    const json = JSON.parse(
      (await mailcadence(['status', '--schema', schema, '--json', '--status', 'DRAFT'])).stdout,
    )
    expect(json).toMatchObject({ campaigns: [{ id: draftId, status: 'DRAFT' }], next: null })
    const paged = await mailcadence(['status', '--schema', schema, '--limit', '1'])
    expect(paged.stdout).toContain(`More: mailcadence status --after ${campaignId}`)
  })

  it('explain: the reasons and the mailboxes', async () => {
    const r = await mailcadence(['explain', draftId, '--schema', schema])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Campaign ${draftId} "Later" is DRAFT: not sending`)
    expect(r.stdout).toContain('not-running: campaign is DRAFT (call startCampaign)')
    expect(r.stdout).toMatch(/anna@acme\.test\s+3\/40/)
    const json = JSON.parse((await mailcadence(['explain', campaignId, '--schema', schema, '--json'])).stdout)
    expect(json).toMatchObject({
      status: 'IN_PROGRESS',
      campaignDailySent: 3,
      mailboxes: [{ currentDailySent: 3 }],
    })
  })

  it('stats: queue counts and sends per day', async () => {
    const json = JSON.parse((await mailcadence(['stats', campaignId, '--schema', schema, '--json'])).stdout)
    expect(json.queue).toMatchObject({ pending: 1, sent: 3, failed: 0 })
    expect(json.sentToday).toBe(3)
    expect(json.perDay).toHaveLength(7)
    expect(json.perDay.reduce((n: number, d: { sent: number }) => n + d.sent, 0)).toBe(3)
    const human = await mailcadence(['stats', campaignId, '--schema', schema])
    expect(human.stdout).toMatch(
      /PENDING\s+SENDING\s+SENT\s+FAILED\s+CANCELLED\s+NEXT SCHEDULED\n1\s+0\s+3\s+0\s+0\s+/,
    )
  })

  it('log: the send log, --since a date or a span', async () => {
    const all = JSON.parse((await mailcadence(['log', campaignId, '--schema', schema, '--json'])).stdout)
    expect(all.map((e: { to: string }) => e.to)).toEqual(['a@example.com', 'b@example.com', 'c@example.com'])
    const since = JSON.parse(
      (
        await mailcadence([
          'log',
          campaignId,
          '--schema',
          schema,
          '--json',
          '--since',
          sent[1]!.toISOString(),
        ])
      ).stdout,
    )
    expect(since.map((e: { to: string }) => e.to)).toEqual(['b@example.com', 'c@example.com'])
    const human = await mailcadence(['log', campaignId, '--schema', schema, '--since', '1d'])
    expect(human.stdout.trim().split('\n')).toHaveLength(4)
    expect(human.stdout).toMatch(/c@example\.com\s+1\s+Hi Cy\s+\d+$/m)
  })

  it('pause, resume, stop: the campaign changes state in the database', async () => {
    expect((await mailcadence(['pause', campaignId, '--schema', schema])).stdout).toContain('is PAUSED.')
    expect((await scheduler.getCampaign(campaignId)).status).toBe('PAUSED')
    expect(
      JSON.parse((await mailcadence(['resume', campaignId, '--schema', schema, '--json'])).stdout),
    ).toEqual({
      id: campaignId,
      status: 'IN_PROGRESS',
    })
    expect((await inProcess(['stop', draftId, '--schema', schema])).code).toBe(0)
    expect((await scheduler.getCampaign(draftId)).status).toBe('CANCELLED')
    // A cancelled campaign cannot resume: exit 1 with the reason.
    const refused = await mailcadence(['resume', draftId, '--schema', schema])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`campaign ${draftId} is CANCELLED; cannot move it to IN_PROGRESS`)
    const missing = await inProcess(['pause', '987654', '--schema', schema])
    expect(missing).toMatchObject({ code: 1 })
    expect(missing.stderr).toContain('no campaign with id "987654"')
  })

  it('exit code 2 on usage errors, with a hint', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['explain'],
      ['status', 'extra'],
      ['status', '--nope'],
      ['log', campaignId, '--since', 'yesterday-ish'],
      ['status', '--limit', '0'],
      ['status', '--status', 'RUNNING'],
    ]) {
      const r = await inProcess([...args, '--schema', schema])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/^mailcadence: /)
    }
    const noDb = await mailcadence(['status'], {})
    expect(noDb).toMatchObject({ code: 2 })
    expect(noDb.stderr).toContain('pass --database-url or set DATABASE_URL')
    expect((await mailcadence(['frobnicate'])).code).toBe(2)
    expect((await inProcess(['--help'], {})).stdout).toContain('Exit codes: 0 done, 1 failed')
  })

  it('never prints the connection string or its password', async () => {
    const password = 'Sup3r-Secret-pw'
    const base = new URL(DATABASE_URL)
    const urls = [
      // A database that does not exist: the server answers with an error.
      `postgres://${base.username || 'postgres'}:${password}@${base.host}/mc_no_such_db_${randomBytes(3).toString('hex')}`,
      // Nobody listens there: the connection is refused.
      `postgres://postgres:${password}@127.0.0.1:1/test`,
      // Not even a URL.
      `postgres://postgres:${password}@[bad`,
    ]
    for (const url of urls) {
      for (const r of [
        await mailcadence(['status', '--database-url', url]),
        await inProcess(['migrate'], { DATABASE_URL: url }),
        await inProcess(['explain', '1', '--database-url', url]),
      ]) {
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toMatch(/^mailcadence: /)
        expect(r.stdout + r.stderr).not.toContain(password)
        expect(r.stdout + r.stderr).not.toContain(url)
      }
    }
    // A URL put where an argument goes is quoted in the usage error, without its password.
    const misplaced = await mailcadence(['status', urls[1]!])
    expect(misplaced.code).toBe(2)
    expect(misplaced.stderr).toContain('unexpected argument "postgres://postgres:***@127.0.0.1:1/test"')
    expect(misplaced.stderr).not.toContain(password)
  })
})
