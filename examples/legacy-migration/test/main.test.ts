import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

it('the walkthrough runs the four phases and mails no address twice for a step', {
  timeout: 120_000,
}, async () => {
  const file = join(tmpdir(), `mc-legacy-migration-main-${process.pid}.db`)
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, EXAMPLE_DB: file },
    })
    expect(stdout).toContain('discrepancies: none')
    expect(stdout).toContain('imported again: 0 leads imported, 12 already there, 0 sends recorded')
    expect(stdout).toMatch(
      /Wednesday in all: .*"Warsaw SaaS founders" 10\/10 \(\d+ legacy \+ [1-9]\d* mailcadence\)/,
    )
    expect(stdout).toMatch(/Thursday in all: .*"Kraków agencies" 6\/6 \(\d+ legacy \+ [1-9]\d* mailcadence\)/)
    expect(stdout).toContain('"Warsaw SaaS founders": COMPLETED, queue 36 sent, 0 pending, 0 cancelled')
    expect(stdout).toContain('"Kraków agencies": COMPLETED, queue 36 sent, 0 pending, 0 cancelled')
    expect(stdout).toContain('(address, step) pairs: 72')
    expect(stdout).toContain('No address was mailed twice for a step.')
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
  }
})
