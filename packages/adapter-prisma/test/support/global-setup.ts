/**
 * Runs once before the package's tests: builds better-sqlite3's native addon if pnpm skipped it,
 * and generates the Prisma Clients the tests use (skipped when up to date).
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  for (const script of ['scripts/ensure-better-sqlite3.mjs', 'scripts/generate-test-clients.mjs']) {
    execFileSync(process.execPath, [script, root], { cwd: root, stdio: 'inherit' })
  }
}
