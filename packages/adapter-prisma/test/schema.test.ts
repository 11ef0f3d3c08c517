/**
 * The schema files and the SQL migrations say the same thing: the portable schema is the MySQL one
 * without native types, and the migrations of each database, applied in order, create each model's
 * table with its columns (and nullability) and Prisma's names for its keys and indexes.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { migration, migrationFiles } from './support/clients.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'DateTime', 'Boolean'])

interface Table {
  columns: Map<string, { nullable: boolean }>
  indexes: string[]
  /** MySQL index prefixes the schema asks for, as the SQL writes them: `message_id`(191). */
  prefixes?: string[]
}

/** Tables, columns and index names from a Prisma schema, with Prisma's naming conventions. */
function fromSchema(text: string): Map<string, Table> {
  const tables = new Map<string, Table>()
  for (const [, body] of text.matchAll(/^model \w+ \{\n([\s\S]*?)^\}/gm)) {
    const lines = body!.split('\n').map((l) => l.trim())
    const table = /@@map\("([^"]+)"\)/.exec(body!)?.[1]
    if (table === undefined) throw new Error('every model maps to a table')
    const columns = new Map<string, { nullable: boolean }>()
    const columnOf = new Map<string, string>()
    for (const line of lines) {
      const match = /^(\w+)\s+(\w+)(\?)?/.exec(line)
      if (match === null || !SCALARS.has(match[2]!)) continue
      const column = /@map\("([^"]+)"\)/.exec(line)?.[1] ?? match[1]!
      columns.set(column, { nullable: match[3] === '?' })
      columnOf.set(match[1]!, column)
    }
    const indexes = [`${table}_pkey`]
    const prefixes: string[] = []
    // Prisma's name, unless the schema gives one (`map:`, for names past MySQL's 64 characters).
    for (const [, kind, fields, name] of body!.matchAll(
      /@@(unique|index)\(\[([^\]]+)\](?:, map: "([^"]+)")?\)/g,
    )) {
      // A field may carry MySQL's prefix length, `messageId(length: 191)`: the SQL then indexes `col`(191).
      const parsed = fields!.split(',').map((f) => /^(\w+)(?:\(length: (\d+)\))?$/.exec(f.trim())!)
      const cols = parsed.map(([, field]) => columnOf.get(field!)!)
      indexes.push(name ?? `${table}_${cols.join('_')}_${kind === 'unique' ? 'key' : 'idx'}`)
      parsed.forEach(([, , length], i) => {
        if (length !== undefined) prefixes.push(`\`${cols[i]}\`(${length})`)
      })
    }
    tables.set(table, { columns, indexes, prefixes })
  }
  return tables
}

/** Tables and columns from migration files applied in order (`CREATE TABLE`, `ADD COLUMN`). */
function fromMigration(sql: string): Map<string, Table> {
  const tables = new Map<string, Table>()
  const statements =
    /CREATE TABLE [`"](\w+)[`"] \(\n([\s\S]*?)\n\)|ALTER TABLE [`"](\w+)[`"] ADD COLUMN ([^;]+);/g
  for (const [, name, body, altered, column] of sql.matchAll(statements)) {
    if (altered !== undefined) {
      const table = tables.get(altered)
      if (table === undefined) throw new Error(`${altered} is altered before it is created`)
      const match = /^[`"](\w+)[`"] (\w+)/.exec(column!.trim())
      if (match === null) throw new Error(`unreadable column in ALTER TABLE ${altered}: ${column}`)
      table.columns.set(match[1]!, { nullable: !/NOT NULL/.test(column!) })
      continue
    }
    const columns = new Map<string, { nullable: boolean }>()
    for (const line of body!.split('\n').map((l) => l.trim())) {
      const match = /^[`"](\w+)[`"] (\w+)/.exec(line)
      if (match === null) continue
      columns.set(match[1]!, { nullable: !/NOT NULL/.test(line) })
    }
    tables.set(name!, { columns, indexes: [] })
  }
  return tables
}

describe('schema', () => {
  it('keeps the portable schema generated from the MySQL one', () => {
    execFileSync(process.execPath, ['scripts/schema.mjs', '--check'], { cwd: root, stdio: 'pipe' })
  })

  for (const [provider, file] of [
    ['postgresql', 'mailcadence.prisma'],
    ['mysql', 'schema/mysql/mailcadence.prisma'],
    ['sqlite', 'mailcadence.prisma'],
  ] as const) {
    it(`matches migrations/${provider}/*.sql, applied in order`, () => {
      // Numbered 001, 002, … with no gap, and the same files for every database.
      const files = migrationFiles(provider)
      expect(files.map((f) => Number(f.slice(0, 3)))).toEqual(files.map((_, i) => i + 1))
      expect(files).toEqual(migrationFiles('postgresql'))
      expect(files).toContain('002_import.sql')
      const expected = fromSchema(readFileSync(`${root}${file}`, 'utf8'))
      const sql = migration(provider)
      const actual = fromMigration(sql)
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort())
      for (const [table, { columns, indexes, prefixes }] of expected) {
        for (const prefix of provider === 'mysql' ? (prefixes ?? []) : [])
          expect(sql, `${provider}: ${table} ${prefix}`).toContain(prefix)
        expect(Object.fromEntries(actual.get(table)!.columns), table).toEqual(Object.fromEntries(columns))
        // SQLite names only its explicit indexes; its primary keys are inline.
        for (const index of indexes) {
          if (provider === 'sqlite' && index.endsWith('_pkey')) continue
          if (provider === 'mysql' && index.endsWith('_pkey')) continue
          expect(sql, `${provider}: ${index}`).toContain(index)
        }
      }
    })
  }
})
