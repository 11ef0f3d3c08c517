/**
 * README's command line, as written: `pnpm start -- --seed --delay 5`. Under pnpm 10 the `--`
 * reaches the script, which must take it (parseArgs refused it as a positional argument).
 * A schema of its own is added after the documented arguments. Needs PostgreSQL at
 * TEST_DATABASE_URL; without a server it is skipped, unless CI is set.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, expect, it } from 'vitest'

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const root = fileURLToPath(new URL('..', import.meta.url))
const schema = `docs_demo_cron_${randomBytes(5).toString('hex')}`
const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 3000 })
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
  'runs `pnpm start -- --seed --delay 5` as README writes it',
  { timeout: 60_000 },
  async () => {
    // detached: pnpm and the script it starts form a process group, stopped together below.
    const child = spawn('pnpm', ['start', '--', '--seed', '--delay', '5', '--schema', schema], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    // 'close': every process of the group holding our pipes has ended, the script included
    // (pnpm itself exits at once on SIGTERM, before the script has finished shutting down).
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()))
    const deadline = Date.now() + 40_000
    while (!/^sent /m.test(out) && child.exitCode === null) {
      if (Date.now() > deadline) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM')
    await closed
    expect(out).not.toContain('ERR_PARSE_ARGS')
    expect(out).toContain('seeded campaign')
    expect(out).toMatch(/^sent /m)
    expect(out).toContain('stopped cleanly')
  },
)
