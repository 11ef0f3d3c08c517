/**
 * The queues people use, processing the same number of no-op jobs on the same database through
 * their public APIs, in their default mode and with their batching options.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker'
import PgBoss from 'pg-boss'
import { DATABASE_URL, dropSchema, schemaName } from '../postgres.js'

const silent = new Logger(() => () => {})

/** Jobs per second for graphile-worker with concurrency 10, timed from start until the last job ran. */
export async function graphileWorkerRate(jobs: number, batched: boolean): Promise<number> {
  const schema = schemaName('bench_gw')
  const utils = await makeWorkerUtils({ connectionString: DATABASE_URL, schema, logger: silent })
  try {
    await utils.migrate()
    for (let i = 0; i < jobs; i += 1_000) {
      await utils.addJobs(
        Array.from({ length: Math.min(1_000, jobs - i) }, () => ({ identifier: 'noop', payload: {} })),
      )
    }
    let done = 0
    let finish = () => {}
    const finished = new Promise<void>((resolve) => {
      finish = resolve
    })
    const started = performance.now()
    const runner = await run({
      connectionString: DATABASE_URL,
      schema,
      concurrency: 10,
      noHandleSignals: true,
      pollInterval: 1_000,
      logger: silent,
      taskList: {
        noop: async () => {
          if (++done === jobs) finish()
        },
      },
      ...(batched
        ? {
            preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
          }
        : {}),
    })
    await finished
    const rate = jobs / ((performance.now() - started) / 1000)
    await runner.stop()
    return rate
  } finally {
    await utils.release()
    await dropSchema(schema)
  }
}

/**
 * Jobs per second for pg-boss. Default mode: `work()` as documented, ten workers (concurrency 10,
 * as graphile-worker), one job per fetch; pg-boss 10 waits its polling interval between fetches.
 * Batched mode: ten loops of `fetch()` 50 jobs and `complete()` them, with no wait between.
 */
export async function pgBossRate(jobs: number, batched: boolean): Promise<number> {
  const schema = schemaName('bench_boss')
  const boss = new PgBoss({
    connectionString: DATABASE_URL,
    schema,
    supervise: false,
    schedule: false,
    max: 12,
  })
  boss.on('error', () => {})
  try {
    await boss.start()
    await boss.createQueue('noop')
    for (let i = 0; i < jobs; i += 1_000) {
      await boss.insert(Array.from({ length: Math.min(1_000, jobs - i) }, () => ({ name: 'noop', data: {} })))
    }
    const started = performance.now()
    if (batched) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (;;) {
            const batch = await boss.fetch('noop', { batchSize: 50 })
            if (batch.length === 0) return
            await boss.complete(
              'noop',
              batch.map((job) => job.id),
            )
          }
        }),
      )
    } else {
      let done = 0
      await new Promise<void>((resolve) => {
        for (let w = 0; w < 10; w++) {
          void boss.work('noop', { pollingIntervalSeconds: 0.5 }, async (batch) => {
            done += batch.length
            if (done >= jobs) resolve()
          })
        }
      })
    }
    return jobs / ((performance.now() - started) / 1000)
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => {})
    await dropSchema(schema)
  }
}
