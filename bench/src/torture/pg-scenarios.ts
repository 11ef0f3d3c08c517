/**
 * Torture on PostgreSQL: several OS processes tick one schema while the database restarts, while a
 * worker is frozen past its lease, or while the processes ask for more connections than the server
 * allows. Each ends with the invariant checks, read from the database.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPostgresStore, migrate } from '@mailcadence/adapter-postgres'
import { createScheduler } from '@mailcadence/core'
import pg from 'pg'
import { DATABASE_URL, dropSchema, schemaName } from '../postgres.js'
import { checkInvariants, type Delivery } from './invariants.js'

interface WorkerSpec {
  poolSize: number
  leaseMs: number
  sendDelayMs: number
}

const worker = fileURLToPath(new URL('./pg-worker.ts', import.meta.url))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function setUp(pool: pg.Pool, leads: number) {
  const schema = schemaName('torture')
  await migrate(pool, { schema })
  const store = createPostgresStore({ pool, schema })
  const scheduler = createScheduler({ store, transport: { send: async () => undefined } })
  const mailboxes = []
  for (let i = 0; i < 5; i++)
    mailboxes.push(await scheduler.createMailbox({ email: `rep${i}@acme.test`, dailyEmailLimit: 400 }))
  const campaigns = []
  for (let c = 0; c < 10; c++) {
    const campaign = await scheduler.createCampaign({
      name: `Torture ${c}`,
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      maxEmailsPerDay: 150,
      mailboxIds: mailboxes.map((m) => m.id),
      steps: [
        { subject: 'Hi', text: 'one' },
        { delayDays: 0, text: 'two' },
      ],
    })
    await scheduler.addLeads(
      campaign.id,
      Array.from({ length: leads / 10 }, (_, i) => ({ email: `c${c}-${i}@example.com` })),
    )
    await scheduler.startCampaign(campaign.id)
    campaigns.push(campaign)
  }
  return { schema, store, mailboxes, campaigns }
}

function start(schema: string, dir: string, index: number, spec: WorkerSpec) {
  const file = join(dir, `worker-${index}.jsonl`)
  const child = fork(
    worker,
    [schema, file, String(spec.poolSize), String(spec.leaseMs), String(spec.sendDelayMs)],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  const ready = new Promise((resolve) => child.once('message', resolve))
  return { child, file, ready }
}

async function stop(child: ChildProcess): Promise<{ errors: number; firstError: string }> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as { errors: number; firstError: string }))
    child.once('exit', (code) => resolve({ errors: -1, firstError: `worker exited with code ${code}` }))
    if (child.connected) child.send('stop')
    else resolve({ errors: -1, firstError: `worker exited with code ${child.exitCode}` })
  })
}

/** Waits until nothing is pending or sending in the schema (or gives up). */
async function settle(pool: pg.Pool, schema: string, maxMs: number) {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    const { rows } = await pool
      .query<{ n: string }>(
        `SELECT count(*) AS n FROM "${schema}".queue_items WHERE status IN ('pending', 'sending')`,
      )
      .catch(() => ({ rows: [{ n: '1' }] }))
    if (rows[0]?.n === '0') return
    await sleep(250)
  }
}

/**
 * Campaigns whose `next_due_at` (a lower bound of their earliest pending item, migration 003) ran
 * ahead of their queue: the listing would skip their due items.
 */
async function boundsAhead(pool: pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string; bound: Date | null; earliest: Date }>(
    `SELECT c.id::text AS id, c.next_due_at AS bound, p.earliest FROM "${schema}".campaigns c
     JOIN LATERAL (SELECT min(q.scheduled_at) AS earliest FROM "${schema}".queue_items q
                   WHERE q.campaign_id = c.id AND q.status = 'pending') p ON true
     WHERE p.earliest IS NOT NULL AND (c.next_due_at IS NULL OR c.next_due_at > p.earliest)`,
  )
  return rows.map(
    (r) =>
      `campaign ${r.id}: next_due_at ${r.bound?.toISOString() ?? 'null'} after its earliest pending item (${r.earliest.toISOString()})`,
  )
}

function deliveries(files: string[]): Delivery[] {
  return files.flatMap((file) =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const d = JSON.parse(line) as Delivery & { at: string }
            return { ...d, at: new Date(d.at) }
          })
      : [],
  )
}

async function run(
  name: string,
  quick: boolean,
  specs: WorkerSpec[],
  during: (workers: ReturnType<typeof start>[]) => Promise<void>,
  before?: () => Promise<void>,
): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 })
  pool.on('error', () => {})
  const { schema, store, mailboxes, campaigns } = await setUp(pool, quick ? 400 : 2_000)
  const dir = mkdtempSync(join(tmpdir(), 'mc-torture-'))
  try {
    await before?.()
    const workers = specs.map((spec, i) => start(schema, dir, i, spec))
    await Promise.all(workers.map((w) => w.ready))
    await during(workers)
    await settle(pool, schema, 60_000)
    const reports = await Promise.all(workers.map((w) => stop(w.child)))
    const errors = reports.reduce((n, r) => n + Math.max(0, r.errors), 0)
    const first = reports.find((r) => r.firstError)?.firstError
    const sent = deliveries(workers.map((w) => w.file))
    const { rows: statuses } = await pool.query<{ status: string; last_error: string | null; n: string }>(
      `SELECT status, CASE WHEN status = 'failed' THEN last_error END AS last_error, count(*) AS n
       FROM "${schema}".queue_items GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    const queue = statuses.map(
      (r) => `${r.status}${r.last_error ? ` (${r.last_error.slice(0, 40)})` : ''} ${r.n}`,
    )
    console.log(
      `  ${name}: ${sent.length} delivered by ${workers.length} processes; ${errors} failed ticks${first ? ` (first: ${first.slice(0, 140)})` : ''}`,
    )
    console.log(`    queue: ${queue.join(', ')}`)
    const fresh = await Promise.all(campaigns.map(async (c) => (await store.getCampaign(c.id)) ?? c))
    const problems = await checkInvariants({ store, campaigns: fresh, mailboxes, deliveries: sent })
    return [...problems, ...(await boundsAhead(pool, schema))]
  } finally {
    await pool.end().catch(() => {})
    await dropSchema(schema).catch(() => {})
  }
}

/** PostgreSQL restarted in the middle of a four-process run. */
export function pgRestartScenario(quick: boolean): Promise<string[]> {
  const spec = { poolSize: 4, leaseMs: 5_000, sendDelayMs: 5 }
  return run('postgres restart', quick, [spec, spec, spec, spec], async () => {
    await sleep(quick ? 500 : 1_500)
    execFileSync(
      'pg_ctlcluster',
      ['--skip-systemctl-redirect', clusterVersion(), 'main', 'restart', '-m', 'fast'],
      { stdio: 'ignore' },
    )
    await sleep(2_000)
  })
}

/** Whether this machine can restart the local PostgreSQL cluster (Debian's pg_ctlcluster, as root). */
export function canRestartPostgres(): boolean {
  try {
    execFileSync('pg_lsclusters', [], { stdio: 'ignore' })
    return existsSync('/usr/bin/pg_ctlcluster') && existsSync('/etc/postgresql') && process.getuid?.() === 0
  } catch {
    return false
  }
}

/** The cluster version this machine runs (`/etc/postgresql/<version>`). */
function clusterVersion(): string {
  return execFileSync('ls', ['/etc/postgresql'], { encoding: 'utf8' }).trim().split('\n')[0] ?? '15'
}

/** A worker stopped (SIGSTOP) past its lease while sends are in flight, then resumed. */
export function sigstopScenario(quick: boolean): Promise<string[]> {
  const slow = { poolSize: 4, leaseMs: 1_500, sendDelayMs: 200 }
  const spec = { poolSize: 4, leaseMs: 1_500, sendDelayMs: 5 }
  return run('SIGSTOP past the lease', quick, [slow, spec, spec], async ([frozen]) => {
    await sleep(600)
    frozen!.child.kill('SIGSTOP')
    await sleep(4_000)
    frozen!.child.kill('SIGCONT')
  })
}

/**
 * Processes whose pools together ask for more connections than the server allows: this process
 * first takes all but a handful of `max_connections`, so the workers' pools hit "too many clients"
 * at once; the connections are given back after a while, and the run must finish by itself.
 */
export function outOfConnectionsScenario(quick: boolean): Promise<string[]> {
  const greedy = { poolSize: 40, leaseMs: 5_000, sendDelayMs: 20 }
  const hogged: pg.Client[] = []
  const hog = async () => {
    const probe = new pg.Client({ connectionString: DATABASE_URL })
    await probe.connect()
    const { rows } = await probe.query<{ max: string; used: string }>(
      "SELECT current_setting('max_connections') AS max, (SELECT count(*) FROM pg_stat_activity) AS used",
    )
    await probe.end()
    const free = Number(rows[0]!.max) - Number(rows[0]!.used) - 3 /* superuser_reserved_connections */ - 6
    for (let i = 0; i < free; i++) {
      const client = new pg.Client({ connectionString: DATABASE_URL })
      client.on('error', () => {})
      try {
        await client.connect()
        hogged.push(client)
      } catch {
        break
      }
    }
  }
  const release = async () => {
    await sleep(quick ? 3_000 : 8_000)
    await Promise.all(hogged.splice(0).map((c) => c.end().catch(() => {})))
  }
  return run('out of connections', quick, [greedy, greedy, greedy, greedy], release, hog)
}
