import { memoryBackend, postgresBackend } from '/work/main/bench/src/backends.js'
import { throughputSection } from '/work/main/bench/src/sections/throughput.js'

const which = process.argv[2] ?? 'memory'
const backends = which === 'postgres' ? [postgresBackend()] : [memoryBackend()]
const rows = await throughputSection({ quick: false, runs: 3 }, backends)
for (const r of rows)
  if (!r.name.includes('graphile') && !r.name.includes('pg-boss'))
    console.log(r.name, '|', r.value, '|', r.note ?? '')
for (const b of backends) await b.dispose()
process.exit(0)
