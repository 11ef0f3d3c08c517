/**
 * Emails per second through reserve → send → complete with a no-op transport, in one process and
 * in four; and, on the same database in the same run, graphile-worker and pg-boss processing the
 * same number of no-op jobs, each printed as a ratio to mailcadence on PostgreSQL.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createScheduler } from '@mailcadence/core'
import type { Backend } from '../backends.js'
import type { BenchContext, Row } from '../context.js'
import { type Figure, format, measure } from '../stats.js'
import { addLeadsChunked, createMailboxes, leads, noopTransport, openCampaign } from '../workload.js'
import { graphileWorkerRate, pgBossRate } from './competitors.js'

const CAMPAIGNS = 20

/**
 * Every limit that protects mailboxes switched on, none of them binding (each far above what the
 * run sends), so the row measures what checking them costs: warm-up, hourly caps, recipient
 * domains, provider matching (a resolver that answers at once) and the guards (on in both runs:
 * they are on by default).
 */
const EVERY_LIMIT = {
  mailbox: { hourlyLimit: 1_000_000, rampUp: { start: 1_000_000, step: 1 } },
  campaign: { recipientDomainLimit: { perDay: 1_000_000 }, providerMatching: 'prefer' as const },
  scheduler: { resolveMx: async () => ['aspmx.l.google.com'] },
}

async function prepare(backend: Backend, emails: number, limits = false) {
  const store = await backend.createStore()
  const scheduler = createScheduler({
    store,
    transport: noopTransport,
    lookahead: 0,
    concurrency: 50,
    maxSendsPerCampaignPerTick: 500,
    ...(limits ? EVERY_LIMIT.scheduler : {}),
  })
  const mailboxIds = await createMailboxes(scheduler, 5, limits ? EVERY_LIMIT.mailbox : {})
  for (let c = 0; c < CAMPAIGNS; c++) {
    const campaign = await scheduler.createCampaign({
      ...openCampaign(mailboxIds, `Throughput ${c}`),
      ...(limits ? EVERY_LIMIT.campaign : {}),
    })
    await addLeadsChunked(scheduler, campaign.id, leads(emails / CAMPAIGNS, `c${c}-`))
    await scheduler.startCampaign(campaign.id)
  }
  return { store, scheduler }
}

/** One process: the scheduler ticks until every email of 20 campaigns has gone. */
async function oneProcess(backend: Backend, emails: number, limits = false): Promise<number> {
  const { scheduler } = await prepare(backend, emails, limits)
  const started = performance.now()
  let sent = 0
  while (sent < emails) {
    const result = await scheduler.tick()
    if (result.sent === 0 && result.campaigns === 0)
      throw new Error(`throughput: stalled at ${sent} of ${emails}`)
    sent += result.sent
  }
  const rate = emails / ((performance.now() - started) / 1000)
  await scheduler.close()
  return rate
}

/** `processes` OS processes tick one shared store, timed from "go" until the last one is done. */
async function manyProcesses(backend: Backend, emails: number, processes: number): Promise<number> {
  const { store, scheduler } = await prepare(backend, emails)
  const schema = backend.shared!.schemaOf(store)
  const script = fileURLToPath(new URL('../workers/tick-loop.ts', import.meta.url))
  const children = Array.from({ length: processes }, () =>
    fork(script, [schema, backend.shared!.kind], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  )
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))))
  const started = performance.now()
  const totals = await Promise.all(
    children.map(
      (child) =>
        new Promise<number>((resolve, reject) => {
          child.once('message', (message) => resolve(Number(String(message).split(' ')[1])))
          child.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)))
          child.send('go')
        }),
    ),
  )
  const rate = emails / ((performance.now() - started) / 1000)
  await scheduler.close()
  const sent = totals.reduce((a, b) => a + b, 0)
  if (sent !== emails) throw new Error(`throughput: ${processes} processes sent ${sent} of ${emails}`)
  return rate
}

const emailsPerRun = (ctx: BenchContext) => (ctx.quick ? 1_000 : 20_000)

export async function throughputSection(ctx: BenchContext, backends: Backend[]): Promise<Row[]> {
  const rows: Row[] = []
  let baseline: Figure | null = null
  for (const backend of backends) {
    const own = backend.emailsPerRun
    const emails = own ? (ctx.quick ? own.quick : own.full) : emailsPerRun(ctx)
    const count = emails.toLocaleString('en-US')
    const one = await measure(ctx.runs, () => oneProcess(backend, emails), { warmup: !ctx.quick })
    if (backend.name === 'postgres') baseline = one
    rows.push({
      section: 'Throughput',
      name: `mailcadence, ${backend.name}, 1 process, ${count} emails`,
      value: format(one, 'emails/s'),
      ...(backend.name === 'postgres' ? { note: 'target ≥ 3,000 emails/s' } : {}),
    })
    const limited = await measure(ctx.runs, () => oneProcess(backend, emails, true), { warmup: !ctx.quick })
    rows.push({
      section: 'Throughput',
      name: `mailcadence, ${backend.name}, 1 process, every limit on, ${count} emails`,
      value: format(limited, 'emails/s'),
      note: `${(limited.median / one.median).toPrecision(2)}× the same with them off (target ≥ 0.8×)`,
    })
    if (backend.shared) {
      const four = await measure(ctx.runs, () => manyProcesses(backend, emails, 4))
      rows.push({
        section: 'Throughput',
        name: `mailcadence, ${backend.name}, 4 processes, ${count} emails`,
        value: format(four, 'emails/s'),
      })
    } else {
      rows.push({
        section: 'Throughput',
        name: `mailcadence, ${backend.name}, 4 processes`,
        value: 'n/a: one store per process',
      })
    }
  }
  if (baseline && !process.env.SKIP_COMPETITORS)
    rows.push(...(await competitorRows(ctx, emailsPerRun(ctx), baseline)))
  return rows
}

async function competitorRows(ctx: BenchContext, emails: number, baseline: Figure): Promise<Row[]> {
  const count = emails.toLocaleString('en-US')
  const runs: Array<[string, () => Promise<number>]> = [
    [`graphile-worker, default (concurrency 10), ${count} jobs`, () => graphileWorkerRate(emails, false)],
    [
      `graphile-worker, batched (localQueue 500, batched completion), ${count} jobs`,
      () => graphileWorkerRate(emails, true),
    ],
    // pg-boss's work() waits its polling interval between fetches: measured on fewer jobs.
    [
      `pg-boss, default (work(), 10 workers, one job per fetch), ${Math.min(emails, 200)} jobs`,
      () => pgBossRate(Math.min(emails, 200), false),
    ],
    [`pg-boss, batched (fetch 50 / complete, 10 loops), ${count} jobs`, () => pgBossRate(emails, true)],
  ]
  const rows: Row[] = []
  for (const [name, once] of runs) {
    const figure = await measure(ctx.runs, once, { warmup: !ctx.quick })
    const ratio = figure.median / baseline.median
    rows.push({
      section: 'Throughput',
      name,
      value: format(figure, 'jobs/s'),
      note: `${ratio.toPrecision(2)}× mailcadence on postgres (1 process)`,
    })
  }
  return rows
}
