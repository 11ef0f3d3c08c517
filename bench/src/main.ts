/**
 * `pnpm bench`: every figure is the median of at least five runs, with min and max, and goes
 * into BENCHMARKS.md with the machine, the versions and the command. `pnpm bench --quick` (CI)
 * runs small sizes and only checks that every figure is produced. `--only throughput,scale` (any of
 * throughput, scale, simulation, smtp, forecast; also `--only=…`) runs just those sections and prints their
 * figures without writing BENCHMARKS.md.
 */
import { writeFileSync } from 'node:fs'
import { type Backend, memoryBackend, postgresBackend, prismaBackend, sqliteBackend } from './backends.js'
import { type BenchContext, machine, type Row, versionOf } from './context.js'
import { serverVersion } from './postgres.js'
import { forecastSection } from './sections/forecast.js'
import { scaleSection } from './sections/scale.js'
import { simulationSection } from './sections/simulation.js'
import { smtpSection } from './sections/smtp.js'
import { throughputSection } from './sections/throughput.js'

const quick = process.argv.includes('--quick')
const ctx: BenchContext = { quick, runs: quick ? 2 : 5 }
/** `--only throughput,scale`: run just these sections (printed, never written to BENCHMARKS.md). */
const SECTIONS = ['throughput', 'scale', 'simulation', 'smtp', 'forecast'] as const
const onlyAt = process.argv.findIndex((a) => a === '--only' || a.startsWith('--only='))
const onlyValue =
  onlyAt < 0
    ? undefined
    : process.argv[onlyAt]!.startsWith('--only=')
      ? process.argv[onlyAt]!.slice('--only='.length)
      : process.argv[onlyAt + 1]
if (onlyAt >= 0 && !onlyValue) throw new Error(`--only needs sections: ${SECTIONS.join(',')}`)
const only = onlyValue === undefined ? null : new Set(onlyValue.split(',').map((s) => s.trim()))
for (const name of only ?? []) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`--only: unknown section ${name} (one of ${SECTIONS.join(', ')})`)
}
const wanted = (name: (typeof SECTIONS)[number]) => only === null || only.has(name)
const command = `pnpm bench${quick ? ' --quick' : ''}`

async function main() {
  const pgVersion = await serverVersion()
  if (!pgVersion && process.env.CI)
    throw new Error('CI is set but PostgreSQL does not answer at TEST_DATABASE_URL')
  const backends: Backend[] = [memoryBackend(), sqliteBackend(), ...(pgVersion ? [postgresBackend()] : [])]
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
  // Prisma-on-PostgreSQL is measured for throughput only (one process and four).
  const prisma = pgVersion ? [prismaBackend()] : []
  if (wanted('throughput')) await section(() => throughputSection(ctx, [...backends, ...prisma]))
  if (wanted('scale')) await section(() => scaleSection(ctx, backends))
  if (wanted('simulation')) await section(() => simulationSection(ctx))
  if (wanted('smtp')) await section(() => smtpSection(ctx))
  if (wanted('forecast')) await section(() => forecastSection(ctx))

  const missing = rows.filter((r) => !/\d/.test(r.value) && !r.value.startsWith('n/a'))
  if (missing.length > 0) throw new Error(`figures not produced: ${missing.map((r) => r.name).join('; ')}`)
  for (const backend of [...backends, ...prisma]) await backend.dispose()
  const report = render(rows, pgVersion)
  for (const t of againstTargets(rows))
    console.log(`[target] ${t.target}: ${t.measured} (${t.met ? 'met' : 'not met'})`)
  if (quick || only !== null) {
    console.log(
      `\n${rows.length} figures produced (${quick ? 'quick mode: sizes and runs too small to quote' : 'some sections only'}; BENCHMARKS.md left as it is).`,
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
    '- `pnpm --filter @mailcadence/bench bench --only throughput` (or `scale`, `simulation`, `smtp`, comma-separated; with `--quick` for small sizes) runs some sections and prints their figures without writing this file.',
    '',
  ]
  for (const section of sections) {
    lines.push(`## ${section}`, '', '| what | figure | note |', '| --- | --- | --- |')
    for (const row of rows.filter((r) => r.section === section))
      lines.push(`| ${row.name} | ${row.value} | ${row.note ?? ''} |`)
    lines.push('')
  }
  const targets = againstTargets(rows)
  if (targets.length > 0) {
    lines.push(
      '## Against the targets (issue 7)',
      '',
      '| target | measured | status |',
      '| --- | --- | --- |',
    )
    for (const t of targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met ? 'met' : 'not met'} |`)
    lines.push('')
  }
  return lines.join('\n')
}

/** The median a row prints first, or null for a row without a number. */
function median(row: Row | undefined): number | null {
  const n = Number(row?.value.split(' ')[0]?.replace(/,/g, '').replace(/×$/, ''))
  return row === undefined || Number.isNaN(n) ? null : n
}

/** Issue 7's targets, checked against the figures of this run (sections not run are left out). */
function againstTargets(rows: Row[]): Array<{ target: string; measured: string; met: boolean }> {
  const find = (section: string, test: (name: string) => boolean) =>
    rows.filter((r) => r.section === section && test(r.name))
  const out: Array<{ target: string; measured: string; met: boolean }> = []
  const pg = median(find('Throughput', (n) => n.startsWith('mailcadence, postgres, 1 process'))[0])
  const gw = median(find('Throughput', (n) => n.startsWith('graphile-worker, default'))[0])
  if (pg !== null && gw !== null) {
    out.push({
      target: 'Postgres ≥ 3,000 emails/s, 1 process, and ≥ graphile-worker default',
      measured: `${pg.toLocaleString('en-US')} emails/s; graphile-worker default ${gw.toLocaleString('en-US')} jobs/s`,
      met: pg >= 3_000 && pg >= gw,
    })
  }
  const idle = find('Scale', (n) => n.includes('10,000 campaigns') && n.includes('idle tick'))
  if (idle.length > 0) {
    const worst = Math.max(...idle.map((r) => median(r) ?? Number.POSITIVE_INFINITY))
    // "postgres, 1,000,000 history, windows closed: 3.2 ms"
    const short = (name: string) =>
      `${name.split(',')[0]}, ${/([\d,]+) rows of history/.exec(name)?.[1] ?? '?'} history${name.includes('windows closed') ? ', windows closed' : ''}`
    out.push({
      target: 'idle tick over 10,000 campaigns ≤ 20 ms, whatever the history',
      measured: idle.map((r) => `${short(r.name)}: ${median(r)} ms`).join('; '),
      met: worst <= 20,
    })
  }
  const sim = median(find('Simulation', () => true)[0])
  if (sim !== null) out.push({ target: '30-day simulation ≤ 10 s', measured: `${sim} s`, met: sim <= 10 })
  const prisma = find('Throughput', (n) => n.startsWith('mailcadence, prisma'))
  if (prisma.length > 0) {
    out.push({
      target: 'Prisma on PostgreSQL reported, 1 process and 4',
      measured: prisma.map((r) => r.value.split(' (')[0]).join('; '),
      met: prisma.length >= 2 && prisma.every((r) => median(r) !== null),
    })
  }
  const smtp = median(find('SMTP', (n) => n.includes('÷'))[0])
  if (smtp !== null)
    out.push({ target: 'pooled SMTP ≥ 5× one connection per message', measured: `${smtp}×`, met: smtp >= 5 })
  return out
}

await main()
