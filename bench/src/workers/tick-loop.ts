/**
 * A worker process of the multi-process throughput benchmark: ticks against the shared Postgres
 * schema from the moment the parent says go until nothing is left to send.
 */
import { createPostgresStore } from '@mailcadence/adapter-postgres'
import { createScheduler } from '@mailcadence/core'
import pg from 'pg'
import { DATABASE_URL } from '../postgres.js'
import { noopTransport } from '../workload.js'

const schema = process.argv[2]
if (!schema) throw new Error('usage: tick-loop <schema>')
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
const scheduler = createScheduler({
  store: createPostgresStore({ pool, schema }),
  transport: noopTransport,
  lookahead: 0,
  concurrency: 50,
  maxSendsPerCampaignPerTick: 500,
})
process.send?.('ready')
process.once('message', async () => {
  let sent = 0
  for (;;) {
    const result = await scheduler.tick()
    sent += result.sent
    if (result.sent === 0 && result.campaigns === 0) break
  }
  await scheduler.close()
  await pool.end()
  process.send?.(`done ${sent}`)
  process.disconnect?.()
})
