import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
// The demo's SQLite file, in a directory of this test's own (the runs below share it, in order).
const dataDir = mkdtempSync(join(tmpdir(), 'mailcadence-demo-'))
const env = { ...process.env, MAILCADENCE_DEMO_FILE: join(dataDir, 'demo.sqlite') }
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

it('prints a simulated working week that respects every limit', { timeout: 60_000 }, async () => {
  // As `pnpm demo` runs it: on the packages' sources, nothing built first, only the story printed.
  const { stdout } = await run('pnpm', ['--silent', 'run', 'demo'], { cwd: root, env })
  expect(stdout.trimStart()).toMatch(/^mailcadence demo: one working week/)
  // Monday and Tuesday send first emails, Wednesday and Thursday the follow-ups two days later.
  const rows = stdout.split('\n').filter((line) => /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d /.test(line))
  const totals = rows.map((row) => row.trim().split(/\s+/).slice(3, 9).map(Number))
  expect(rows.map((r) => r.slice(0, 3))).toEqual(['Mon', 'Tue', 'Wed', 'Thu'])
  for (const [anna, bartek, celina, first, follow, total] of totals) {
    expect(Math.max(anna!, bartek!, celina!)).toBeLessThanOrEqual(20)
    expect(first! + follow!).toBe(total)
  }
  // 100 first emails and 99 follow-ups: Zofia replied on Tuesday, so hers was cancelled.
  expect(totals.reduce((n, t) => n + t[5]!, 0)).toBe(199)
  expect(stdout).toMatch(
    /Zofia replies on Tue 06 Jan 18:00 Europe\/Warsaw to "Quick question, Zofia"\. ingestMessage\(\): reply, matched <[^>]+@acme\.test>; her sequence stops \(1 follow-up cancelled\)/,
  )
  expect(stdout).not.toMatch(/To: "Zofia" <lead2@example\.com>\n {2}Subject: Re:/)
  expect(stdout).toContain('mailbox-limit: every mailbox is at its dailyEmailLimit')
  // explain()'s instants on the campaign's clock: the limits reset at Tuesday 09:00 in Warsaw.
  expect(stdout).toContain('(until Tue 06 Jan 09:00 Europe/Warsaw)')
  // The window column is the campaign's window; the sends of the day are beside it.
  expect(stdout).toMatch(/ {3}window {7}first–last send\n/)
  for (const row of rows) expect(row).toMatch(/ {3}09:00–17:00 {2}\d\d:\d\d–\d\d:\d\d$/)
  expect(stdout).toMatch(/Campaign status: COMPLETED/)
  // Every email really went over SMTP; the sink saw a follow-up threaded under its first email.
  expect(stdout).toContain('The local SMTP sink received 199 messages')
  const [, firstId] = /Message-ID: (<[^>]+@acme\.test>)\n\n/.exec(stdout) ?? []
  expect(stdout).toContain(`In-Reply-To: ${firstId}`)
  expect(stdout).toMatch(/Subject: Re: Quick question, Jan/)
})

it('run again, finds its campaign in the file and mails no one twice', { timeout: 60_000 }, async () => {
  const { stdout } = await run('pnpm', ['--silent', 'run', 'demo'], { cwd: root, env })
  expect(stdout).toContain("already holds last run's campaign")
  expect(stdout).toContain('(199 emails sent, 0 pending). The state survived the restart.')
  expect(stdout).toContain('0 added, 100 already in the campaign')
  expect(stdout).toContain('Ticks sent 0 emails: 199 in all, as before.')
})

it('--fresh starts over', { timeout: 60_000 }, async () => {
  const { stdout } = await run('pnpm', ['--silent', 'run', 'demo', '--', '--fresh'], { cwd: root, env })
  expect(stdout.trimStart()).toMatch(/^mailcadence demo: one working week/)
  expect(stdout).toContain('The local SMTP sink received 199 messages')
})
