/**
 * Migration 005 (the inbox) on a database of the previous version. PostgreSQL: after the README's
 * `CREATE INDEX CONCURRENTLY IF NOT EXISTS` (what the owner of a big send log runs first), the file
 * still applies and leaves one index. MySQL/MariaDB: the send log's `message_id` stays TEXT (the
 * migration only adds) and is indexed by its first 191 characters.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, migrationFiles, type TestDatabase } from './support/clients.js'
import { withDatabase } from './support/databases.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const file = (provider: string) => {
  expect(migrationFiles('postgresql')[4]).toBe('005_inbox.sql')
  return readFileSync(join(root, 'migrations', provider, '005_inbox.sql'), 'utf8')
}

await withDatabase('postgresql', 'migration 005 after the README index: prisma/postgresql', () => {
  describe('migration 005 after the README index: prisma/postgresql', () => {
    let db: TestDatabase
    beforeAll(async () => {
      db = await createTestDatabase('postgresql', { migrations: 4 })
    })
    afterAll(() => db?.drop())

    it('applies when the send-log index was built first, and keeps one index', async () => {
      const readme = readFileSync(join(root, 'README.md'), 'utf8')
      await db.exec(/^CREATE INDEX CONCURRENTLY IF NOT EXISTS .*;$/m.exec(readme)![0])
      await db.exec(file('postgresql'))
      const indexes = await db.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()
           AND tablename = 'mailcadence_send_log' AND indexdef LIKE '%(message_id)'`,
      )
      expect(indexes).toEqual([{ indexname: 'mailcadence_send_log_message_id_idx' }])
    })
  })
})

await withDatabase('mysql', 'migration 005 keeps message_id TEXT: prisma/mysql', () => {
  describe('migration 005 keeps message_id TEXT: prisma/mysql', () => {
    let db: TestDatabase
    beforeAll(async () => {
      db = await createTestDatabase('mysql', { migrations: 4 })
    })
    afterAll(() => db?.drop())

    it('leaves the column as it was and indexes a 191-character prefix', async () => {
      const column = `SELECT DATA_TYPE AS type, COLLATION_NAME AS collation FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'mailcadence_send_log' AND COLUMN_NAME = 'message_id'`
      const before = await db.query(column)
      await db.exec(file('mysql'))
      expect(await db.query(column)).toEqual(before)
      expect(before).toMatchObject([{ type: 'text' }])
      const index = await db.query(
        `SELECT INDEX_NAME AS name, CAST(SUB_PART AS CHAR) AS prefix FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'mailcadence_send_log' AND COLUMN_NAME = 'message_id'`,
      )
      expect(index).toEqual([{ name: 'mailcadence_send_log_message_id_idx', prefix: '191' }])
    })
  })
})
