/** Emails per second through reserve → send → complete with a no-op transport. */
import { createScheduler } from '@mailcadence/core'
import type { Backend } from '../backends.js'
import type { BenchContext, Row } from '../context.js'
import { type Figure, format, measure } from '../stats.js'
import { addLeadsChunked, createMailboxes, leads, noopTransport, openCampaign } from '../workload.js'

const CAMPAIGNS = 20

/** One process: the scheduler ticks until every email of 20 campaigns has gone. */
export async function throughputOnce(backend: Backend, emails: number): Promise<number> {
  const store = await backend.createStore()
  const scheduler = createScheduler({
    store,
    transport: noopTransport,
    lookahead: 0,
    concurrency: 50,
    maxSendsPerCampaignPerTick: 500,
  })
  const mailboxIds = await createMailboxes(scheduler, 5)
  for (let c = 0; c < CAMPAIGNS; c++) {
    const campaign = await scheduler.createCampaign(openCampaign(mailboxIds, `Throughput ${c}`))
    await addLeadsChunked(scheduler, campaign.id, leads(emails / CAMPAIGNS, `c${c}-`))
    await scheduler.startCampaign(campaign.id)
  }
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

export async function throughputSection(
  ctx: BenchContext,
  backends: Backend[],
): Promise<{ rows: Row[]; figures: Map<string, Figure> }> {
  const emails = ctx.quick ? 1_000 : 20_000
  const rows: Row[] = []
  const figures = new Map<string, Figure>()
  for (const backend of backends) {
    const figure = await measure(ctx.runs, () => throughputOnce(backend, emails), { warmup: !ctx.quick })
    figures.set(`${backend.name}/1`, figure)
    rows.push({
      section: 'Throughput',
      name: `${backend.name}, 1 process, ${emails.toLocaleString('en-US')} emails`,
      value: format(figure, 'emails/s'),
    })
    if (!backend.shared) {
      rows.push({
        section: 'Throughput',
        name: `${backend.name}, 4 processes`,
        value: 'n/a: one store per process',
      })
    }
  }
  return { rows, figures }
}
