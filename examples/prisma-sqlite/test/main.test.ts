import { execFile } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

it('keeps mailcadence.prisma as the adapter ships it', () => {
  const shipped = readFileSync(
    join(root, '..', '..', 'packages', 'adapter-prisma', 'mailcadence.prisma'),
    'utf8',
  )
  expect(readFileSync(join(root, 'prisma', 'schema', 'mailcadence.prisma'), 'utf8')).toBe(shipped)
})

it('sends a campaign from the app database, within its window and limits', { timeout: 60_000 }, async () => {
  const file = join(tmpdir(), `mc-example-${process.pid}.db`)
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, EXAMPLE_DB: file },
    })
    const sends = stdout.split('\n').filter((line) => line.includes(' → '))
    // 10 selected contacts, two steps each; 8 a day at most, weekdays 09:00–17:00 Warsaw.
    expect(sends).toHaveLength(20)
    const perDay = new Map<string, number>()
    for (const line of sends) {
      const [day, time] = line.split(/\s+/)
      perDay.set(day!, (perDay.get(day!) ?? 0) + 1)
      expect(time! >= '09:00' && time! < '17:00').toBe(true)
    }
    expect(Math.max(...perDay.values())).toBeLessThanOrEqual(8)
    // A follow-up leaves from the mailbox of the first email, as a reply.
    for (const line of sends.filter((l) => l.includes('follow-up'))) {
      const to = line.split(' → ')[1]!.split(/\s+/)[0]!
      const first = sends.find((l) => l.includes(`→ ${to} `) && l.includes('first:'))!
      expect(line.split(/\s+/)[2]).toBe(first.split(/\s+/)[2])
      expect(line).toContain('follow-up: Re: Quick question')
    }
    expect(stdout).toContain('Queue: 20 sent, 0 pending, 0 failed')
    expect(stdout).toContain('Campaign status: COMPLETED')
    expect(stdout).toContain('Send log: 20 emails to 10 contacts')
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
  }
})
