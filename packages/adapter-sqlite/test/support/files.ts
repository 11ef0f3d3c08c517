/** Temporary database files for a test file: one directory, removed when the file's tests end. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** A fresh directory for this test file's databases; `next()` names a new file in it. */
export function tempFiles(prefix: string): { dir: string; next: (name?: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), `sqlite-store-${prefix}-`))
  let n = 0
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return {
    dir,
    next: (name = 'store') => {
      n += 1
      return join(dir, `${name}-${n}.db`)
    },
  }
}
