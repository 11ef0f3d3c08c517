/**
 * One worker process of the many-processes test: a host ticking the shared database on a clock
 * that runs `speed` times faster than real time, recording every email that reaches its transport
 * (one JSON line each) until nothing is left to send or its deadline passes.
 */
import { appendFileSync } from 'node:fs'
import { createScheduler, isMailcadenceError } from '@mailcadence/core'
import { createPrismaStore } from '../../src/index.js'
import { type Location, openClient } from './clients.js'

interface Config {
  location: Location
  simStart: number
  realStart: number
  speed: number
  deadline: number
  index: number
  out: string
}

const config = JSON.parse(process.env.MC_STRESS ?? '{}') as Config
const prisma = await openClient(config.location, 2)
const simNow = () => new Date(config.simStart + (Date.now() - config.realStart) * config.speed)
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const scheduler = createScheduler({
  store: createPrismaStore(prisma),
  transport: {
    async send(_message, context) {
      const record = {
        campaignId: context.campaignId,
        leadId: context.leadId,
        step: context.step,
        mailboxId: context.mailbox.id,
        at: context.now.getTime(),
        worker: config.index,
      }
      appendFileSync(config.out, `${JSON.stringify(record)}\n`)
      return undefined
    },
  },
  clock: { now: simNow, sleep: (ms) => pause(ms / config.speed) },
  lookahead: 0,
  // Simulated time runs fast: a lease of a week (a few real seconds) never expires by accident.
  lease: 7 * 86_400_000,
  maxSendsPerCampaignPerTick: 5,
  concurrency: 8,
})

let unavailable = 0
while (Date.now() < config.deadline) {
  let wait = 0
  try {
    const result = await scheduler.tick()
    // As a host would: tick again at once while there is work, else sleep until nextDueAt.
    const busy = result.sent > 0 || result.retried > 0 || result.failed > 0
    const due = result.nextDueAt?.getTime() ?? Number.POSITIVE_INFINITY
    if (!busy) wait = Math.min(200, Math.max(2, (due - simNow().getTime()) / config.speed))
  } catch (error) {
    // A host keeps ticking through a short store outage; anything else is a bug.
    if (!isMailcadenceError(error, 'store-unavailable')) throw error
    unavailable++
    if (unavailable > 20) throw error
  }
  if (wait > 0) {
    const left = (await prisma.mcQueueItem.count({
      where: { status: { in: ['pending', 'sending'] } },
    })) as number
    if (left === 0) break
    await pause(wait)
  }
}
await scheduler.close()
await prisma.$disconnect()
if (unavailable > 0)
  console.error(`worker ${config.index}: ${unavailable} tick(s) failed with store-unavailable`)
