/**
 * README's "Rolling deploys and migrations" promises that a migration only adds: old code keeps
 * working on the new schema while a deploy rolls. This reads every shipped SQL migration after
 * the first (the PostgreSQL store's `src/sql/migrations/`, the Prisma store's `migrations/<db>/`,
 * and those of any store added later in the same places) and refuses a statement that drops,
 * renames or retypes anything, or adds a NOT NULL column without a default old code's INSERTs
 * would get. There is no exception to mark a statement with: the README promises none.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const packages = fileURLToPath(new URL('../../../packages', import.meta.url))

function migrationFiles(): string[] {
  const files: string[] = []
  const sqlIn = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^\d+_.*\.sql$/.test(f))
          .map((f) => join(dir, f))
      : []
  for (const name of readdirSync(packages)) {
    files.push(...sqlIn(join(packages, name, 'src', 'sql', 'migrations')))
    const perDatabase = join(packages, name, 'migrations')
    if (existsSync(perDatabase))
      for (const db of readdirSync(perDatabase)) files.push(...sqlIn(join(perDatabase, db)))
  }
  return files
}

/** What makes a statement non-additive, or undefined when it only adds. */
function breaking(statement: string): string | undefined {
  const s = statement.replace(/\s+/g, ' ').trim().toUpperCase()
  if (/\bDROP (TABLE|COLUMN|INDEX|CONSTRAINT|SCHEMA|TYPE|VIEW)\b/.test(s) || /^ALTER TABLE .* DROP\b/.test(s))
    return 'drops something old code may use'
  if (/\bRENAME\b/.test(s)) return 'renames something old code uses by name'
  if (
    /\bALTER COLUMN\b.*\b(TYPE|SET NOT NULL|SET DATA TYPE)\b/.test(s) ||
    /\b(MODIFY|CHANGE) (COLUMN )?\S/.test(s)
  )
    return 'changes a column old code writes'
  for (const added of s.split(/\bADD COLUMN\b/).slice(1)) {
    const column = added.split(/,(?![^(]*\))/)[0]!
    if (/\bNOT NULL\b/.test(column) && !/\b(DEFAULT|GENERATED)\b/.test(column))
      return 'adds a NOT NULL column without a default: old code inserting rows fails'
  }
  return undefined
}

it('finds the migrations', () => {
  expect(migrationFiles().length).toBeGreaterThanOrEqual(5)
})

it('tells additive statements from breaking ones', () => {
  expect(breaking("ALTER TABLE leads ADD COLUMN window_key text NOT NULL DEFAULT ''")).toBeUndefined()
  expect(breaking('ALTER TABLE campaigns ADD COLUMN external_id text')).toBeUndefined()
  expect(breaking('CREATE INDEX x ON queue_items (campaign_id)')).toBeUndefined()
  expect(breaking('ALTER TABLE leads ADD COLUMN k text NOT NULL')).toMatch(/default/)
  expect(breaking('ALTER TABLE leads DROP COLUMN k')).toMatch(/drops/)
  expect(breaking('ALTER TABLE leads RENAME COLUMN a TO b')).toMatch(/renames/)
  expect(breaking('ALTER TABLE leads ALTER COLUMN a TYPE bigint')).toMatch(/changes/)
  expect(breaking('ALTER TABLE `leads` MODIFY `a` BIGINT')).toMatch(/changes/)
})

it('every migration after the first only adds', () => {
  const problems: string[] = []
  for (const file of migrationFiles().filter((f) => !/[/\\]0*1_[^/\\]*$/.test(f))) {
    for (const chunk of readFileSync(file, 'utf8').split(';')) {
      const statement = chunk.replace(/--.*$/gm, '')
      const why = breaking(statement)
      if (why) problems.push(`${file.slice(packages.length + 1)}: ${why}: ${statement.trim().slice(0, 120)}`)
    }
  }
  expect(problems).toEqual([])
})
