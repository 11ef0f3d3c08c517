/**
 * `pnpm bench`: every figure is the median of at least five runs, with min and max, and goes
 * into BENCHMARKS.md with the machine, the versions and the command. `pnpm bench --quick` (CI)
 * runs small sizes and only checks that every figure is produced.
 */
import { writeFileSync } from 'node:fs'
import { type Backend, memoryBackend, postgresBackend } from './backends.js'
import { type BenchContext, machine, type Row, versionOf } from './context.js'
import { serverVersion } from './postgres.js'
import { scaleSection } from './sections/scale.js'
import { simulationSection } from './sections/simulation.js'
import { smtpSection } from './sections/smtp.js'
import { throughputSection } from './sections/throughput.js'

const quick = process.argv.includes('--quick')
const ctx: BenchContext = { quick, runs: quick ? 2 : 5 }
const command = `pnpm bench${quick ? ' --quick' : ''}`

async function main() {
  const pgVersion = await serverVersion()
  if (!pgVersion && process.env.CI)
    throw new Error('CI is set but PostgreSQL does not answer at TEST_DATABASE_URL')
  const backends: Backend[] = [memoryBackend(), ...(pgVersion ? [postgresBackend()] : [])]
  if (!pgVersion) console.log('PostgreSQL does not answer: its figures are skipped (set TEST_DATABASE_URL).')
  const rows: Row[] = []
  const log = (row: Row) =>
    console.log(`[${row.section}] ${row.name}: ${row.value}${row.note ? `  (${row.note})` : ''}`)
  const section = async (produce: () => Promise<Row[]>) => {
    for (const row of await produce()) {
      rows.push(row)
      log(row)
    }
  }
  console.log(`mailcadence benchmarks (${quick ? 'quick' : 'full'}) on ${machine()}\n`)
  await section(() => throughputSection(ctx, backends))
  await section(() => scaleSection(ctx, backends))
  await section(() => simulationSection(ctx))
  await section(() => smtpSection(ctx))

  const missing = rows.filter((r) => !/\d/.test(r.value) && !r.value.startsWith('n/a'))
  if (missing.length > 0) throw new Error(`figures not produced: ${missing.map((r) => r.name).join('; ')}`)
  for (const backend of backends) await backend.dispose()
  const report = render(rows, pgVersion)
  if (quick) {
    console.log(
      `\n${rows.length} figures produced (quick mode: sizes and runs too small to quote; BENCHMARKS.md left as it is).`,
    )
  } else {
    writeFileSync(new URL('../../BENCHMARKS.md', import.meta.url), report)
    console.log('\nWrote BENCHMARKS.md')
  }
}

function render(rows: Row[], pgVersion: string | null): string {
  const sections = [...new Set(rows.map((r) => r.section))]
  const lines = [
    '# Benchmarks',
    '',
    `Measured with \`${command}\` on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `- Machine: ${machine()}`,
    `- Versions: PostgreSQL ${pgVersion ?? 'not reached'}, pg ${versionOf('pg')}, graphile-worker ${versionOf('graphile-worker')}, pg-boss ${versionOf('pg-boss')} (the newest whose engines accept Node 20), smtp-server ${versionOf('smtp-server')}`,
    '- Each figure is the median of at least five runs, with the smallest and largest.',
    '',
  ]
  for (const section of sections) {
    lines.push(`## ${section}`, '', '| what | figure | note |', '| --- | --- | --- |')
    for (const row of rows.filter((r) => r.section === section))
      lines.push(`| ${row.name} | ${row.value} | ${row.note ?? ''} |`)
    lines.push('')
  }
  return lines.join('\n')
}

await main()
