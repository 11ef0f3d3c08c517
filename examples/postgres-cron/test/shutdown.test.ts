/**
 * Runs the example against a fresh schema for a few seconds (a cron every second, sends taking
 * 300 ms), sends SIGTERM while sends are in flight, and checks that it stops cleanly with nothing
 * left `sending`. Needs the packages built (pnpm test builds first) and PostgreSQL at
 * TEST_DATABASE_URL; without a server it is skipped, unless CI is set.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, expect, it } from 'vitest'

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const root = fileURLToPath(new URL('..', import.meta.url))
const schema = `mc_test_example_${randomBytes(5).toString('hex')}`
const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 3000 })
const reachable = await pool.query('SELECT 1').then(
  () => true,
  () => false,
)
if (!reachable && process.env.CI)
  throw new Error(`example postgres-cron: PostgreSQL is not reachable (CI requires it)`)
if (!reachable) console.warn('[example postgres-cron] SKIPPED: no PostgreSQL at TEST_DATABASE_URL')

afterAll(async () => {
  if (reachable) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await pool.end()
})

it.skipIf(!reachable)(
  'stops on SIGTERM after its sends in flight, leaving nothing sending',
  { timeout: 60_000 },
  async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/main.ts',
        ...['--schema', schema, '--seed', '--leads', '30', '--delay', '0', '--latency', '300'],
        ...['--cron', '* * * * * *', '--lookahead', '0'],
      ],
      { cwd: root, env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const deadline = Date.now() + 30_000
    while ((out.match(/^sent /gm) ?? []).length < 3) {
      if (Date.now() > deadline) throw new Error(`no sends: ${out}\n${err}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    // Wait until a send is in flight, then ask it to stop.
    const inFlight = async () =>
      (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".queue_items WHERE status = 'sending'`))
        .rows[0].n
    while ((await inFlight()) === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(out).toContain('stopped cleanly')
    expect(await inFlight()).toBe(0)
    const { rows } = await pool.query(
      `SELECT (SELECT count(*)::int FROM "${schema}".send_log) AS logged,
            (SELECT count(*)::int FROM "${schema}".queue_items WHERE status = 'sent') AS sent`,
    )
    const printed = (out.match(/^sent /gm) ?? []).length
    expect(rows[0]).toEqual({ logged: printed, sent: printed })
  },
)
