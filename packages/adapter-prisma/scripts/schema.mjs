// Derives the portable schema (PostgreSQL, SQLite) from the MySQL one, which is the source of truth:
// the same models without `@db.*` native types and MySQL's index prefix lengths (`(length: n)`).
// `node scripts/schema.mjs` rewrites it; `node scripts/schema.mjs --check` fails when it is out of
// date (the tests run that check too).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const SOURCE = `${root}schema/mysql/mailcadence.prisma`
const TARGET = `${root}mailcadence.prisma`

const HEADER = `// mailcadence: the send queue of @mailcadence/adapter-prisma, for PostgreSQL and SQLite.
//
// Copy this file into your Prisma schema folder (next to your own models), then migrate. The models
// carry an \`Mc\` prefix and map to \`mailcadence_*\` tables, so they never clash with your own. Keep
// the field names and types: the adapter relies on them. No field has \`@default(now())\` or
// \`@updatedAt\`: every instant is written by the adapter from the scheduler's clock.
//
// MySQL and MariaDB need the same models with \`@db.*\` lengths: use the package's
// \`schema/mysql/mailcadence.prisma\` instead.
//
// Generated from schema/mysql/mailcadence.prisma by scripts/schema.mjs: do not edit by hand.
`

/** The portable schema text, from the MySQL schema text. */
export function portableSchema(mysql) {
  const body = mysql.slice(mysql.indexOf('\n///'))
  const stripped = body
    .split('\n')
    .map((line) =>
      line
        .replace(/ @db\.\w+(\([^)]*\))?/g, '')
        .replace(/\(length: \d+\)/g, '')
        .replace(/\s+$/, ''),
    )
    .join('\n')
  return `${HEADER}${alignFields(stripped)}`
}

/** Re-aligns the columns of each model's fields (across their doc comments), as `prisma format` would. */
function alignFields(text) {
  const out = []
  let block = []
  const isComment = (line) => line.startsWith('  ///')
  const flush = () => {
    const rows = block.filter((line) => !isComment(line)).map((line) => line.trim().split(/\s+/))
    const nameWidth = Math.max(...rows.map((r) => r[0].length))
    const typeWidth = Math.max(...rows.map((r) => r[1].length))
    for (const line of block) {
      if (isComment(line)) {
        out.push(line)
        continue
      }
      const [name, type, ...rest] = line.trim().split(/\s+/)
      const head = `  ${name.padEnd(nameWidth)} ${rest.length ? type.padEnd(typeWidth) : type}`
      out.push(rest.length ? `${head} ${rest.join(' ')}` : head)
    }
    block = []
  }
  for (const line of text.split('\n')) {
    if (/^ {2}[a-zA-Z]\w* +\S/.test(line) || (block.length > 0 && isComment(line))) {
      block.push(line)
      continue
    }
    if (block.length) flush()
    out.push(line)
  }
  if (block.length) flush()
  return out.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const expected = portableSchema(readFileSync(SOURCE, 'utf8'))
  if (process.argv.includes('--check')) {
    if (readFileSync(TARGET, 'utf8') !== expected) {
      console.error('mailcadence.prisma is out of date: run `node scripts/schema.mjs`')
      process.exit(1)
    }
  } else {
    writeFileSync(TARGET, expected)
  }
}
