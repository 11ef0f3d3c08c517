#!/usr/bin/env node
/**
 * Checks each publishable package as npm would receive it: `pnpm pack`, unpacked, then
 *
 * - README.md, LICENSE and package.json are in the tarball;
 * - package.json has `repository` (with this package's `directory`), `homepage`, `bugs`,
 *   `license`, `engines.node` of ENGINES and no `workspace:` range left;
 * - no source maps (the packages ship none, see README's "Packages") and no sources or tests
 *   (`src/`, `test/`, `.ts` files other than declarations);
 * - every relative link or image in README.md points at a file inside the tarball (npm's page
 *   shows the README alone; links to the repository must be absolute GitHub URLs).
 *
 * Usage: node scripts/check-tarballs.mjs [packages/<name> …] (default: every non-private
 * package under packages/). Needs the packages built. Run by `pnpm check:packages`.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, normalize, relative } from 'node:path'

const ENGINES = '>=20.19'
const REPOSITORY = 'https://github.com/mailcadence/mailcadence'
const root = join(import.meta.dirname, '..')

/** Every file under `dir`, as paths relative to it with forward slashes. */
function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? listFiles(path, base) : [relative(base, path).split('\\').join('/')]
  })
}

/** The targets of Markdown links and images, and of HTML `src`/`href` attributes. */
export function linkTargets(markdown) {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '')
  const targets = []
  for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    targets.push(match[1])
  for (const match of withoutCode.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) targets.push(match[1])
  for (const match of withoutCode.matchAll(/\b(?:src|href)="([^"]+)"/g)) targets.push(match[1])
  return targets
}

/** Problems with one unpacked package (`dir` holds the tarball's `package/` contents). */
export function tarballProblems(dir, directory) {
  const problems = []
  const files = new Set(listFiles(dir))
  for (const required of ['README.md', 'LICENSE', 'package.json'])
    if (!files.has(required)) problems.push(`${required} is not in the tarball`)
  if (!files.has('package.json')) return problems

  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const repository = manifest.repository ?? {}
  if (repository.url !== `git+${REPOSITORY}.git`) problems.push(`repository.url is not git+${REPOSITORY}.git`)
  if (repository.directory !== directory) problems.push(`repository.directory is not ${directory}`)
  if (typeof manifest.homepage !== 'string' || !manifest.homepage.startsWith(REPOSITORY))
    problems.push(`homepage does not point at ${REPOSITORY}`)
  if (manifest.bugs?.url !== `${REPOSITORY}/issues`) problems.push(`bugs.url is not ${REPOSITORY}/issues`)
  if (manifest.license !== 'MIT') problems.push('license is not MIT')
  if (manifest.engines?.node !== ENGINES) problems.push(`engines.node is not ${ENGINES}`)
  if (JSON.stringify(manifest).includes('"workspace:'))
    problems.push('a workspace: range was left in package.json')

  for (const file of files) {
    if (file.endsWith('.map')) problems.push(`${file}: source maps are not published`)
    if (/^(src|test)\//.test(file)) problems.push(`${file}: sources and tests are not published`)
    if (/\.(ts|tsx|mts|cts)$/.test(file) && !/\.d\.(ts|mts|cts)$/.test(file))
      problems.push(`${file}: a TypeScript source in the tarball`)
  }

  if (files.has('README.md')) {
    for (const target of linkTargets(readFileSync(join(dir, 'README.md'), 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue
      const path = normalize(decodeURIComponent(target.split('#')[0]))
        .split('\\')
        .join('/')
      const inside =
        !path.startsWith('..') && (files.has(path) || [...files].some((f) => f.startsWith(`${path}/`)))
      if (!inside)
        problems.push(`README.md links to ${target}, which is not in the tarball (use a GitHub URL)`)
    }
  }
  return problems
}

function packageDirs() {
  return readdirSync(join(root, 'packages'))
    .map((name) => `packages/${name}`)
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .filter((dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private !== true)
}

function main() {
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : packageDirs()
  let failed = false
  for (const directory of dirs) {
    const work = mkdtempSync(join(tmpdir(), 'mailcadence-pack-'))
    try {
      execFileSync('pnpm', ['pack', '--pack-destination', work], {
        cwd: join(root, directory),
        stdio: 'pipe',
      })
      const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))
      if (!tarball) throw new Error(`pnpm pack made no tarball for ${directory}`)
      execFileSync('tar', ['-xzf', tarball], { cwd: work })
      const unpacked = join(work, 'package')
      const size = listFiles(unpacked).reduce((sum, file) => sum + statSync(join(unpacked, file)).size, 0)
      const problems = tarballProblems(unpacked, directory)
      console.log(
        `${problems.length === 0 ? 'ok  ' : 'FAIL'} ${directory} (${(size / 1024).toFixed(0)} kB unpacked)`,
      )
      for (const problem of problems) console.log(`       ${problem}`)
      failed ||= problems.length > 0
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  if (failed) process.exitCode = 1
}

if (process.argv[1] && normalize(process.argv[1]) === normalize(import.meta.filename)) main()
