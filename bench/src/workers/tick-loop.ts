/**
 * A worker process of the multi-process throughput benchmark: ticks against the shared schema (the
 * Postgres store's, the Prisma store's with `prisma`, or with `sqlite` the SQLite store's file) from the moment the parent says go until
 * nothing is left to send.
 */
import { createPostgresStore } from '@mailcadence/adapter-postgres'
import { createSqliteStore } from '@mailcadence/adapter-sqlite'
import { createScheduler } from '@mailcadence/core'
import pg from 'pg'
import { DATABASE_URL } from '../postgres.js'
import { openPrismaStore } from '../prisma.js'
import { noopTransport } from '../workload.js'

const schema = process.argv[2]
const kind = process.argv[3] ?? 'postgres'
if (!schema) throw new Error('usage: tick-loop <schema or file> [postgres|prisma|sqlite]')
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
const sqlite = kind === 'sqlite' ? createSqliteStore({ filename: schema }) : null
const prisma = kind === 'prisma' ? await openPrismaStore(schema, 4) : null
const scheduler = createScheduler({
  store: sqlite ?? prisma?.store ?? createPostgresStore({ pool, schema }),
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
  await prisma?.close()
  await pool.end()
  process.send?.(`done ${sent}`)
  process.disconnect?.()
})
