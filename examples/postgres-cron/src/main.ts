/**
 * A host app on PostgreSQL: migrate at start-up, then tick from a cron (croner, every 30 s) or,
 * with `--mode sleep`, sleep until each tick's `nextDueAt`. SIGTERM/SIGINT stop the timer, let the
 * tick in progress finish its sends, and close everything: nothing is left `sending`.
 *
 *   DATABASE_URL=postgres://… pnpm start [--mode cron|sleep] [--seed] [--schema NAME] [--cron PATTERN]
 *
 * Run as many copies as you like against one database: they never send an email twice.
 */
import { parseArgs } from 'node:util'
import { createPostgresStore, migrate } from '@mailcadence/adapter-postgres'
import { createScheduler, type TickResult } from '@mailcadence/core'
import { Cron } from 'croner'
import pg from 'pg'
import { seedDemo } from './seed.js'
import { createConsoleTransport } from './transport.js'

// `pnpm start -- --seed` passes the `--` on to the script under pnpm 10 (npm and pnpm 9 drop it):
// a leading `--` is not an argument of ours.
const argv = process.argv.slice(2)
if (argv[0] === '--') argv.shift()

const { values: args } = parseArgs({
  args: argv,
  options: {
    mode: { type: 'string', default: 'cron' },
    schema: { type: 'string', default: 'mailcadence' },
    // Six fields: seconds first. The in-house sender ticked every 30 s.
    cron: { type: 'string', default: '*/30 * * * * *' },
    seed: { type: 'boolean', default: false },
    leads: { type: 'string', default: '20' },
    delay: { type: 'string', default: '90' },
    latency: { type: 'string', default: '200' },
    lookahead: { type: 'string', default: '30000' },
  },
})

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  max: 5,
})
const schema = args.schema
await migrate(pool, { schema })
const scheduler = createScheduler({
  store: createPostgresStore({ pool, schema }),
  transport: createConsoleTransport(Number(args.latency)),
  lookahead: Number(args.lookahead),
  maxSendsPerCampaignPerTick: 5,
})
if (args.seed)
  await seedDemo(scheduler, pool, schema, { leads: Number(args.leads), delaySeconds: Number(args.delay) })

let current: Promise<TickResult | undefined> = Promise.resolve(undefined)
let stopping = false

/** One tick, never two at once in this process (other processes may tick meanwhile: that is safe). */
function tick(): Promise<TickResult | undefined> {
  current = scheduler.tick().then(
    (result) => {
      if (result.sent + result.failed + result.retried > 0) {
        console.log(`tick: sent ${result.sent}, failed ${result.failed}, retried ${result.retried}`)
      }
      return result
    },
    (error: unknown) => {
      // A store outage: log it and let the next tick try again.
      console.error(`tick failed: ${(error as Error).message}`)
      return undefined
    },
  )
  return current
}

let stopTimer: () => void
if (args.mode === 'sleep') {
  // Sleep until the scheduler says something is due (at most 30 s), then tick again.
  let wake = () => {}
  stopTimer = () => wake()
  const loop = async () => {
    while (!stopping) {
      const result = await tick()
      const due = result?.nextDueAt?.getTime() ?? Number.POSITIVE_INFINITY
      const waitMs = Math.min(30_000, Math.max(0, due - Date.now()))
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }
  void loop()
  console.log(`ticking whenever something is due (schema ${schema})`)
} else {
  // protect: a tick still running when the next one is due makes the cron skip that run.
  const job = new Cron(args.cron, { protect: true }, async () => {
    await tick()
  })
  stopTimer = () => job.stop()
  console.log(`ticking on cron "${args.cron}" (schema ${schema})`)
  void tick()
}

async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: stopping; waiting for sends in flight`)
  stopTimer()
  await current
  await scheduler.close()
  await pool.end()
  console.log('stopped cleanly')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
