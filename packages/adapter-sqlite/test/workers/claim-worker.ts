/**
 * A worker process for the multi-process counter test: opens the SQLite file, says it is ready,
 * waits for the `go` file (so every worker starts claiming at once), then claims the shared counter
 * `key` (with `limit`) together with its own unlimited counter `ownKey`, `claims` times, `pauseMs`
 * apart (so every process's claims interleave with the others', rather than the first process
 * awake taking the whole limit alone).
 *
 * Configured by the WORKER_CONFIG environment variable (JSON, see `ClaimWorkerConfig`). Prints
 * `{"ready":true}` once open, and one JSON line `{ "summary": … }` on stdout when done.
 */
import { existsSync } from 'node:fs'
import { createSqliteStore } from '../../src/index.js'

export interface ClaimWorkerConfig {
  name: string
  /** The database file every worker opens. */
  filename: string
  /** A file the test creates when every worker is ready: the start signal. */
  go: string
  /** The counter every worker claims, and its limit. */
  key: string
  limit: number
  /** This worker's own counter, claimed without a limit in the same calls. */
  ownKey: string
  claims: number
  pauseMs: number
}

const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}') as ClaimWorkerConfig
const store = createSqliteStore({ filename: config.filename })
const expiresAt = new Date(Date.now() + 86_400_000)

process.stdout.write('{"ready":true}\n')
while (!existsSync(config.go)) await new Promise((resolve) => setTimeout(resolve, 2))

const counts = { won: 0, lost: 0, errors: 0, firstAt: Date.now(), lastAt: 0 }
for (let i = 0; i < config.claims; i++) {
  try {
    const claimed = await store.claimCounters(
      [
        { key: config.key, limit: config.limit, expiresAt },
        { key: config.ownKey, limit: null, expiresAt },
      ],
      new Date(),
    )
    if (claimed) counts.won++
    else counts.lost++
  } catch (error) {
    // A lost race must be an ordinary false: any error here fails the test.
    counts.errors++
    process.stderr.write(`${config.name}: claim failed: ${(error as Error).message}\n`)
  }
  await new Promise((resolve) => setTimeout(resolve, config.pauseMs))
}
counts.lastAt = Date.now()
await store.close()
process.stdout.write(`${JSON.stringify({ summary: { name: config.name, ...counts } })}\n`)
