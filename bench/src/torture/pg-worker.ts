/**
 * A worker process of the Postgres torture scenarios: ticks against a shared schema until told to
 * stop, writing every message its transport accepts to a file of its own (one JSON line each), so
 * the parent can count deliveries across processes. Tick errors are counted, not fatal: a worker
 * must ride out a database restart or a refused connection by itself.
 */
import { appendFileSync } from 'node:fs'
import { createPostgresStore } from '@mailcadence/adapter-postgres'
import { createScheduler } from '@mailcadence/core'
import pg from 'pg'
import { DATABASE_URL } from '../postgres.js'

const [schema, recordFile, poolSize, lease, sendDelay] = process.argv.slice(2)
if (!schema || !recordFile)
  throw new Error('usage: pg-worker <schema> <recordFile> <poolSize> <leaseMs> <sendDelayMs>')
const pool = new pg.Pool({
  connectionString: DATABASE_URL,
  max: Number(poolSize),
  connectionTimeoutMillis: 5_000,
})
pool.on('error', () => {}) // idle clients dropped by a restart
const scheduler = createScheduler({
  store: createPostgresStore({ pool, schema }),
  lease: Number(lease),
  lookahead: 0,
  concurrency: 20,
  maxSendsPerCampaignPerTick: 50,
  transport: {
    async send(_message, context) {
      if (Number(sendDelay) > 0) await new Promise((resolve) => setTimeout(resolve, Number(sendDelay)))
      appendFileSync(
        recordFile,
        `${JSON.stringify({ campaignId: context.campaignId, leadId: context.leadId, step: context.step, mailboxId: context.mailbox.id, at: context.now })}\n`,
      )
      return { response: '250 ok' }
    },
  },
})

let stopping = false
let errors = 0
let firstError = ''
process.on('message', (message) => {
  if (message === 'stop') stopping = true
})
process.send?.('ready')
while (!stopping) {
  try {
    const result = await scheduler.tick()
    if (result.sent === 0) await new Promise((resolve) => setTimeout(resolve, 100))
  } catch (error) {
    errors++
    firstError ||= (error as Error).message
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
await scheduler.close()
await pool.end().catch(() => {})
process.send?.({ errors, firstError })
process.disconnect?.()
