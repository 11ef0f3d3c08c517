/**
 * README snippets that compile. Every ```ts / ```typescript block of README.md, packages/*\/README.md
 * and examples/*\/README.md is written to a file of its own in a scratch project and type-checked
 * with tsc as a host app would (strict, `module`/`moduleResolution` `nodenext`, ESM, the packages
 * resolved from node_modules through their `exports`, so from their built declarations).
 *
 * A block must compile as written. A block that is a fragment says so in an HTML comment right
 * before it (blank lines allowed between), invisible on GitHub and npm:
 *
 *   <!-- snippet: assume
 *   import type { Scheduler } from '@mailcadence/core'
 *   declare const scheduler: Scheduler
 *   -->
 *
 * The comment's body is put before the block, in the same file: only what it names is assumed.
 * `<!-- snippet: skip <reason> -->` leaves a block out (for code that needs a file the reader
 * generates, such as a Prisma client); the reason is required.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'

export interface Snippet {
  /** The markdown file, relative to the repository's root. */
  file: string
  /** 1-based line of the block's opening fence. */
  fence: number
  code: string
  /** Declarations the block assumes (from `<!-- snippet: assume … -->`), '' when none. */
  prelude: string
  /** Why the block is left out (`<!-- snippet: skip … -->`), or undefined. */
  skip: string | undefined
}

/** An opening fence: its indentation, its backticks (three or more) and its language. */
const FENCE = /^(\s*)(`{3,})\s*([\w-]*)\s*$/
const MARKER = /^<!--\s*snippet:\s*(assume|skip)\b([\s\S]*?)-->\s*$/

/** Strips the indentation of a block nested in a list item. */
function dedent(lines: string[], indent: string): string {
  return lines
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
    .join('\n')
}

/** The HTML comment that ends right before line `index` (blank lines skipped), or undefined. */
function markerBefore(lines: string[], index: number): string | undefined {
  let end = index - 1
  while (end >= 0 && lines[end]!.trim() === '') end--
  if (end < 0 || !lines[end]!.trim().endsWith('-->')) return undefined
  let start = end
  while (start >= 0 && !lines[start]!.includes('<!--')) start--
  if (start < 0) return undefined
  return lines
    .slice(start, end + 1)
    .map((line) => line.trim())
    .join('\n')
}

export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n')
  const snippets: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!)
    if (!open) continue
    const indent = open[1]!
    const ticks = open[2]!
    const language = open[3]!
    // The block ends at a fence of at least as many backticks: a ```ts shown inside a ````md
    // block is part of that block, not a snippet.
    let close = i + 1
    while (close < lines.length && !new RegExp(`^\\s*${ticks}\`*\\s*$`).test(lines[close]!)) close++
    if (language === 'ts' || language === 'typescript') {
      const marker = MARKER.exec(markerBefore(lines, i) ?? '')
      const kind = marker?.[1]
      const body = marker?.[2]?.trim() ?? ''
      if (kind === 'skip' && body === '') throw new Error(`${file}:${i + 1}: "snippet: skip" needs a reason`)
      snippets.push({
        file,
        fence: i + 1,
        code: dedent(lines.slice(i + 1, close), indent),
        prelude: kind === 'assume' ? body : '',
        skip: kind === 'skip' ? body : undefined,
      })
    }
    i = close
  }
  return snippets
}

/** README.md, packages/*\/README.md and examples/*\/README.md, relative to `root`. */
export function readmes(root: string): string[] {
  const nested = ['packages', 'examples'].flatMap((dir) =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(root, dir, entry.name, 'README.md')))
      .map((entry) => `${dir}/${entry.name}/README.md`),
  )
  return ['README.md', ...nested.sort()]
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    // As `tsc --init` sets it: errors inside dependencies' own declarations are not the reader's.
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['*.ts'],
}

export interface CheckResult {
  checked: number
  skipped: Snippet[]
  /** tsc's errors, each pointed back at its markdown file and line. */
  errors: string[]
}

/**
 * Writes each snippet of `files` to `dir` (emptied first; it must sit where the workspace's
 * node_modules resolve the packages) and runs tsc once over them all.
 */
export async function checkSnippets(root: string, dir: string, files = readmes(root)): Promise<CheckResult> {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n')
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`)
  const all = files.flatMap((file) => extractSnippets(readFileSync(join(root, file), 'utf8'), file))
  const where = new Map<string, { snippet: Snippet; offset: number }>()
  for (const snippet of all.filter((s) => s.skip === undefined)) {
    const name = `${snippet.file.replaceAll('/', '_').replace(/\.md$/, '')}_L${snippet.fence}.ts`
    const prelude = snippet.prelude ? `${snippet.prelude}\n` : ''
    // Code line n of the file is markdown line fence + n - offset.
    const offset = prelude === '' ? 0 : prelude.split('\n').length - 1
    writeFileSync(join(dir, name), `${prelude}${snippet.code}\nexport {}\n`)
    where.set(name, { snippet, offset })
  }
  const tsc = createRequire(join(dir, 'package.json')).resolve('typescript/bin/tsc')
  const output = await promisify(execFile)(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    () => '',
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  )
  const errors = output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line)
      const known = at && where.get(relative(dir, join(dir, at[1]!)))
      if (!at || !known) return line
      const codeLine = Number(at[2]) - known.offset
      const place =
        codeLine >= 1
          ? `${known.snippet.file}:${known.snippet.fence + codeLine}`
          : `${known.snippet.file}:${known.snippet.fence} (in its "snippet: assume" prelude)`
      return `${place}:${at[3]} ${at[4]}`
    })
  return { checked: where.size, skipped: all.filter((s) => s.skip !== undefined), errors }
}
