/**
 * `pnpm bench`: every figure is the median of at least five runs, with min and max, and goes
 * into BENCHMARKS.md with the machine, the versions and the command. `pnpm bench --quick` (CI)
 * runs small sizes and only checks that every figure is produced.
 */
import { writeFileSync } from 'node:fs'
import { type Backend, memoryBackend } from './backends.js'
import { type BenchContext, machine, type Row, versionOf } from './context.js'
import { scaleSection } from './sections/scale.js'
import { simulationSection } from './sections/simulation.js'
import { smtpSection } from './sections/smtp.js'
import { throughputSection } from './sections/throughput.js'

const quick = process.argv.includes('--quick')
const ctx: BenchContext = { quick, runs: quick ? 2 : 5 }
const command = `pnpm bench${quick ? ' --quick' : ''}`

async function main() {
  const backends: Backend[] = [memoryBackend()]
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
  await section(async () => (await throughputSection(ctx, backends)).rows)
  await section(() => scaleSection(ctx, backends))
  await section(() => simulationSection(ctx))
  await section(() => smtpSection(ctx))

  const missing = rows.filter((r) => !/\d/.test(r.value) && !r.value.startsWith('n/a'))
  if (missing.length > 0) throw new Error(`figures not produced: ${missing.map((r) => r.name).join('; ')}`)
  const report = render(rows)
  if (quick) {
    console.log(
      `\n${rows.length} figures produced (quick mode: sizes and runs too small to quote; BENCHMARKS.md left as it is).`,
    )
  } else {
    writeFileSync(new URL('../../BENCHMARKS.md', import.meta.url), report)
    console.log('\nWrote BENCHMARKS.md')
  }
}

function render(rows: Row[]): string {
  const sections = [...new Set(rows.map((r) => r.section))]
  const lines = [
    '# Benchmarks',
    '',
    `Measured with \`${command}\` on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `- Machine: ${machine()}`,
    `- Versions: @mailcadence/core ${versionOf('@mailcadence/core')}, nodemailer ${versionOf('nodemailer')}, smtp-server ${versionOf('smtp-server')}`,
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
