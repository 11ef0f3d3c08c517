/**
 * The race suite of `@mailcadence/core/conformance` on SQLite: two stores, each with its own
 * connection to one fresh file per race, as two processes would have. Their calls interleave at
 * every await; each call's transaction is atomic against the other connection's.
 */
import { runStoreRaces } from '@mailcadence/core/conformance'
import { createSqliteStore } from '../src/index.js'
import { tempFiles } from './support/files.js'

const files = tempFiles('race')
// MAILCADENCE_RACE_ROUNDS=200 runs each race longer, to measure how often a rare failure happens.
const rounds = Number(process.env.MAILCADENCE_RACE_ROUNDS) || undefined
runStoreRaces(
  'sqlite',
  async () => {
    const filename = files.next()
    const a = createSqliteStore({ filename })
    const b = createSqliteStore({ filename })
    return {
      a,
      b,
      cleanup: async () => {
        await Promise.all([a.close(), b.close()])
      },
    }
  },
  { rounds, timeout: rounds ? rounds * 5_000 : undefined },
)
