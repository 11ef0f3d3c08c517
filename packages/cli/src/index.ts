/**
 * `@mailcadence/cli`: the `mailcadence` command. `run(argv)` is the whole program, so hosts can
 * embed it and tests can drive it; the `mailcadence` bin calls it with `process.argv`.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util'
import { createPostgresStore } from '@mailcadence/adapter-postgres'
import { createScheduler, isMailcadenceError, MailcadenceError, type Scheduler } from '@mailcadence/core'
import pg from 'pg'
import * as commands from './commands.js'
import { EXIT, redact, UsageError } from './errors.js'

export { EXIT } from './errors.js'

export const USAGE = `Usage: mailcadence <command> [options]

Commands:
  status                      campaigns with status, today's sends and why they do not send
  explain <campaign>          why a campaign is or is not sending, and until when
  stats <campaign>            queue counts, today's sends and sends per day of the last week
  log <campaign>              the campaign's send log (--since, --limit)
  pause|resume|stop <campaign>
  migrate                     create or update the database schema

Options:
  --database-url <url>        PostgreSQL connection string (default: $DATABASE_URL)
  --schema <name>             schema of the tables (default: mailcadence)
  --json                      print JSON instead of tables
  --since <when>              log: from a date (2026-01-05, 2026-01-05T09:00Z) or a span back (30m, 24h, 7d)
  --limit <n>                 status: campaigns per page (default 50); log: last n sends (default 100)
  --status <status>           status: only DRAFT, IN_PROGRESS, PAUSED, COMPLETED or CANCELLED
  --after <id>                status: the page after this campaign id
  -h, --help                  this help

Exit codes: 0 done, 1 failed (database, not found, wrong state), 2 usage error.`

export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  env: Record<string, string | undefined>
}

const CAMPAIGN_COMMANDS = new Set(['explain', 'stats', 'log', 'pause', 'resume', 'stop'])

/** Runs one command line (without the node and script arguments); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let databaseUrl: string | undefined
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'database-url': { type: 'string' },
        schema: { type: 'string' },
        json: { type: 'boolean', default: false },
        since: { type: 'string' },
        limit: { type: 'string' },
        status: { type: 'string' },
        after: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    databaseUrl = values['database-url'] ?? io.env.DATABASE_URL
    if (values.help) {
      io.stdout(USAGE)
      return EXIT.ok
    }
    const [command, campaignId, ...extra] = positionals
    if (!command) throw new UsageError('a command is required')
    if (command !== 'status' && command !== 'migrate' && !CAMPAIGN_COMMANDS.has(command))
      throw new UsageError(`unknown command "${command}"`)
    if (CAMPAIGN_COMMANDS.has(command) && !campaignId)
      throw new UsageError(`${command}: a campaign id is required`)
    const expected = CAMPAIGN_COMMANDS.has(command) ? 1 : 0
    if (positionals.length - 1 > expected || extra.length > 0)
      throw new UsageError(`${command}: unexpected argument "${positionals[expected + 1]}"`)
    if (!databaseUrl) throw new UsageError('no database: pass --database-url or set DATABASE_URL')
    const limit = parseLimit(values.limit, command === 'log' ? 100 : 50)
    const since = values.since === undefined ? undefined : commands.parseSince(values.since, new Date())
    const out = { json: values.json }

    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 10_000 })
    // An idle client losing its connection must not crash the process with an unhandled event.
    pool.on('error', () => {})
    try {
      if (command === 'migrate') {
        io.stdout(await commands.runMigrate(pool, out, values.schema))
        return EXIT.ok
      }
      const scheduler = openScheduler(pool, values.schema)
      io.stdout(
        command === 'status'
          ? await commands.status(scheduler, out, {
              ...(values.status ? { status: values.status } : {}),
              ...(values.after ? { after: values.after } : {}),
              limit,
            })
          : command === 'explain'
            ? await commands.explain(scheduler, out, campaignId!)
            : command === 'stats'
              ? await commands.stats(scheduler, out, campaignId!)
              : command === 'log'
                ? await commands.log(scheduler, out, campaignId!, { since, limit })
                : await commands.transition(
                    scheduler,
                    out,
                    command as 'pause' | 'resume' | 'stop',
                    campaignId!,
                  ),
      )
      return EXIT.ok
    } finally {
      await pool.end().catch(() => {})
    }
  } catch (error) {
    return report(error, io, databaseUrl)
  }
}

/** A scheduler that reads and changes state; it never ticks, so its transport refuses to send. */
function openScheduler(pool: pg.Pool, schema: string | undefined): Scheduler {
  return createScheduler({
    store: createPostgresStore({ pool, ...(schema ? { schema } : {}) }),
    transport: {
      send() {
        throw new MailcadenceError('invalid-state', 'the mailcadence CLI does not send mail')
      },
    },
  })
}

function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new UsageError('--limit: must be an integer from 1 to 500')
  return n
}

function report(error: unknown, io: CliIo, databaseUrl: string | undefined): number {
  const message = error instanceof Error ? error.message : String(error)
  const safe = redact(message, databaseUrl)
  const parseError = (error as { code?: unknown } | null)?.code
  if (
    error instanceof UsageError ||
    (typeof parseError === 'string' && parseError.startsWith('ERR_PARSE_ARGS'))
  ) {
    io.stderr(`mailcadence: ${safe}\nRun "mailcadence --help" for usage.`)
    return EXIT.usage
  }
  if (isMailcadenceError(error, 'invalid-input')) {
    io.stderr(`mailcadence: ${safe}`)
    return EXIT.usage
  }
  io.stderr(`mailcadence: ${safe}`)
  return EXIT.error
}

function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
  }
}
