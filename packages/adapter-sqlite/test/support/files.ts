/** Temporary database files for a test file: one directory, removed when the file's tests end. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { openDatabase, type SqliteDatabase } from '../../src/driver.js'

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

/**
 * A second connection to a store's file, through the driver the store picks (`node:sqlite` on Node
 * 22.13+, else `better-sqlite3`), so the tests run on every Node the store supports.
 */
export function openRaw(filename: string): SqliteDatabase {
  return openDatabase(filename, 'auto')
}
