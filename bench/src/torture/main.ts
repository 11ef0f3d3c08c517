/**
 * `pnpm torture`: scenarios that break things on purpose, each ending with the invariant checks
 * (no duplicate, limits held, nothing lost or stuck). `--quick` is the short form CI runs.
 */
import { clockStepsScenario } from './clock-steps.js'
import { smtpFaultsScenario } from './smtp-faults.js'

const quick = process.argv.includes('--quick')
const scenarios: Array<[string, (quick: boolean) => Promise<string[]>]> = [
  ['an SMTP server that drops connections mid-DATA, stalls, or answers slowly', smtpFaultsScenario],
  ['the clock stepping backwards and forwards by minutes between ticks', clockStepsScenario],
]

let failed = 0
for (const [name, run] of scenarios) {
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
console.log(`\n${scenarios.length - failed} passed, ${failed} failed`)
process.exitCode = failed > 0 ? 1 : 0
