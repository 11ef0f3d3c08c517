/**
 * A worker process for the multi-process and crash tests: ticks a scheduler in a loop against one
 * schema with the real clock, and appends every call of its transport to its own JSONL file before
 * doing anything else with it (so a send "reached the transport" even if the process dies next).
 *
 * Configured by the WORKER_CONFIG environment variable (JSON, see `WorkerConfig`). Prints one JSON
 * line `{ "summary": … }` on stdout when it stops by itself.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs'
import { createScheduler, type SchedulerEvent, type Transport } from '@mailcadence/core'
import pg from 'pg'
import { createPostgresStore } from '../../src/index.js'

export interface WorkerConfig {
  name: string
  url: string
  schema: string
  /** JSONL file the transport appends to. */
  record: string
  /** `record`: accept at once; `slow`: accept after `slowMs`; `stall`: never answer. */
  transport: 'record' | 'slow' | 'stall'
  slowMs?: number
  lease?: number
  leaseRecovery?: 'fail' | 'retry'
  maxSendsPerCampaignPerTick?: number
  concurrency?: number
  /** Stop after this many ticks in a row that did nothing. */
  idleTicks?: number
  /** Stop after this many ms whatever happens. */
  maxRunMs?: number
  /** Public holidays by country (`YYYY-MM-DD`, any year): the scheduler's `holidays` option. */
  holidays?: Record<string, string[]>
  /** MX exchanges by domain: the scheduler's `resolveMx` (a domain not listed has none). */
  mx?: Record<string, string[]>
  /**
   * A start line: the worker writes `ready` once it is loaded and connected, then waits for the
   * file `go` to exist before its first tick (and counts `maxRunMs` from then). Without it, the
   * processes start as they come: on a loaded machine one may finish a small workload before the
   * last has loaded its modules.
   */
  gate?: { ready: string; go: string }
}

const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}') as WorkerConfig
const pool = new pg.Pool({ connectionString: config.url, max: 3 })
const store = createPostgresStore({ pool, schema: config.schema })
const never = new Promise<never>(() => {})

const transport: Transport = {
  async send(message, context) {
    const record = {
      worker: config.name,
      pid: process.pid,
      campaignId: context.campaignId,
      leadId: context.leadId,
      step: context.step,
      itemId: context.itemId,
      mailboxId: context.mailbox.id,
      mailboxTimezone: context.mailbox.timezone,
      messageId: message.messageId,
      at: context.now.toISOString(),
    }
    appendFileSync(config.record, `${JSON.stringify(record)}\n`)
    if (config.transport === 'stall') await never
    if (config.transport === 'slow')
      await new Promise((resolve) => setTimeout(resolve, config.slowMs ?? 1000))
    return { response: '250 2.0.0 OK (test worker)' }
  },
}

const counts = { ticks: 0, sent: 0, failed: 0, retried: 0, recovered: 0, leaseLost: 0, errors: 0 }
const scheduler = createScheduler({
  store,
  transport,
  lookahead: 0,
  lease: config.lease ?? 300_000,
  leaseRecovery: config.leaseRecovery ?? 'fail',
  maxSendsPerCampaignPerTick: config.maxSendsPerCampaignPerTick ?? 5,
  concurrency: config.concurrency ?? 10,
  ...(config.holidays
    ? {
        holidays: (country: string, year: number) =>
          (config.holidays?.[country] ?? []).filter((date) => date.startsWith(`${year}-`)),
      }
    : {}),
  ...(config.mx ? { resolveMx: async (domain: string) => config.mx?.[domain] ?? [] } : {}),
  onEvent: (event: SchedulerEvent) => {
    if (event.type === 'lease-lost') counts.leaseLost++
  },
})

if (config.gate) {
  await pool.query('SELECT 1')
  writeFileSync(config.gate.ready, String(process.pid))
  while (!existsSync(config.gate.go)) await new Promise((resolve) => setTimeout(resolve, 10))
}
const started = Date.now()
let idle = 0
while (idle < (config.idleTicks ?? 5) && Date.now() - started < (config.maxRunMs ?? 60_000)) {
  try {
    const result = await scheduler.tick()
    counts.ticks++
    counts.sent += result.sent
    counts.failed += result.failed
    counts.retried += result.retried
    counts.recovered += result.recovered
    const busy = result.sent + result.failed + result.retried + result.recovered > 0
    idle = busy ? 0 : idle + 1
  } catch (error) {
    counts.errors++
    process.stderr.write(`${config.name}: tick failed: ${(error as Error).message}\n`)
    idle++
  }
  if (idle > 0) await new Promise((resolve) => setTimeout(resolve, 25))
}
await scheduler.close()
await pool.end()
process.stdout.write(`${JSON.stringify({ summary: { name: config.name, ...counts } })}\n`)
