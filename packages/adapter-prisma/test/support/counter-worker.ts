/**
 * One process of the counters test: claims a shared counter (and one of its own) many times at
 * once through its own client, from a start instant shared by every process, and prints how many
 * claims it won as JSON.
 */
import { createPrismaStore } from '../../src/index.js'
import { type Location, openClient } from './clients.js'

interface Config {
  location: Location
  index: number
  claims: number
  limit: number
  startAt: number
  expiresAt: number
}

// Claims at once: as many as the client has connections (more would only wait for one, in the
// pool, and time out there on a loaded machine), each lane claiming again as soon as it is done.
const CONNECTIONS = 4
const config = JSON.parse(process.env.MC_COUNTERS ?? '{}') as Config
const prisma = await openClient(config.location, CONNECTIONS)
const store = createPrismaStore(prisma)
const expiresAt = new Date(config.expiresAt)
const now = new Date(config.expiresAt - 3_600_000)
await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.startAt - Date.now())))
const lanes = await Promise.all(
  Array.from({ length: CONNECTIONS }, async (_, lane) => {
    const won: boolean[] = []
    for (let i = lane; i < config.claims; i += CONNECTIONS) {
      const claims = [
        { key: 'shared', limit: config.limit, expiresAt },
        { key: `own-${config.index}`, limit: null, expiresAt },
      ]
      won.push(await store.claimCounters(claims, now))
    }
    return won
  }),
)
const results = lanes.flat()
await prisma.$disconnect()
process.stdout.write(JSON.stringify({ won: results.filter(Boolean).length }))
