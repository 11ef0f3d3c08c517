/**
 * `pnpm torture`: scenarios that break things on purpose, each ending with the invariant checks
 * (no duplicate, limits held, nothing lost or stuck). `--quick` is the short form CI runs.
 */
import { serverVersion } from '../postgres.js'
import { clockStepsScenario } from './clock-steps.js'
import { fuzzMemoryScenario, fuzzPostgresScenario } from './fuzz.js'
import {
  canRestartPostgres,
  outOfConnectionsScenario,
  pgRestartScenario,
  sigstopScenario,
} from './pg-scenarios.js'
import { smtpFaultsScenario } from './smtp-faults.js'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7)
const scenarios: Array<[string, (quick: boolean) => Promise<string[]>]> = [
  ['an SMTP server that drops connections mid-DATA, stalls, or answers slowly', smtpFaultsScenario],
  ['the clock stepping backwards and forwards by minutes between ticks', clockStepsScenario],
  ['random calls of the public API, valid and hostile, on the memory store', fuzzMemoryScenario],
]
if (await serverVersion()) {
  if (canRestartPostgres())
    scenarios.push(['PostgreSQL restarted in the middle of a four-process run', pgRestartScenario])
  else if (process.env.CI)
    throw new Error('CI is set but this machine cannot restart PostgreSQL (pg_ctlcluster, root)')
  else
    console.log(
      'Cannot restart the local PostgreSQL here (needs pg_ctlcluster as root): that scenario is skipped.',
    )
  scenarios.push(
    ['a worker stopped (SIGSTOP) past its lease, then resumed', sigstopScenario],
    ['processes asking for more connections than the server allows', outOfConnectionsScenario],
    ['random calls of the public API, valid and hostile, on PostgreSQL', fuzzPostgresScenario],
  )
} else if (process.env.CI) {
  throw new Error('CI is set but PostgreSQL does not answer at TEST_DATABASE_URL')
} else {
  console.log('PostgreSQL does not answer: its scenarios are skipped (set TEST_DATABASE_URL).')
}

let failed = 0
for (const [name, run] of scenarios) {
  if (only && !name.includes(only)) continue
  console.log(`torture: ${name}`)
  const started = performance.now()
  const problems = await run(quick)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (problems.length === 0) console.log(`  ok: every invariant held (${seconds} s)`)
  else {
    failed++
    for (const problem of problems.slice(0, 20)) console.log(`  VIOLATION: ${problem}`)
  }
}
const ran = scenarios.filter(([name]) => !only || name.includes(only)).length
console.log(`\n${ran - failed} passed, ${failed} failed`)
process.exitCode = failed > 0 ? 1 : 0
