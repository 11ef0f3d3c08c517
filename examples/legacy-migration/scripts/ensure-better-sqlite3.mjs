// Builds better-sqlite3's native addon when it is missing. pnpm 10 runs no dependency's install
// script unless the workspace allows it, and better-sqlite3's would download a prebuilt binary,
// which fails where only the npm registry is reachable; so this compiles it from the sources the
// package ships, with node-gyp and the local Node headers (about a minute, once per install).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Makes `require('better-sqlite3')` work from `fromDir`; returns whether it had to build. */
export function ensureBetterSqlite3(fromDir = process.cwd()) {
  const require = createRequire(join(resolve(fromDir), 'noop.js'))
  if (loads(require)) return false
  const packageDir = dirname(require.resolve('better-sqlite3/package.json'))
  // Two test projects may ask at once: one builds, the other waits for it.
  const lock = join(packageDir, '.mailcadence-build-lock')
  while (!tryLock(lock)) {
    sleep(500)
    if (!existsSync(lock) && loads(require)) return false
  }
  try {
    if (loads(require)) return false
    build(packageDir)
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
  if (!loads(require, true)) throw new Error('better-sqlite3 still does not load after building it')
  return true
}

function build(packageDir) {
  const gyp = findNodeGyp()
  const jobs = Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 2)
  const args = [gyp, 'rebuild', '--release', `--jobs=${jobs}`]
  const headers = join(dirname(process.execPath), '..')
  if (!process.env.npm_config_nodedir && existsSync(join(headers, 'include', 'node', 'node.h'))) {
    args.push(`--nodedir=${headers}`)
  }
  console.log(`building better-sqlite3's native addon in ${packageDir} (once)…`)
  try {
    execFileSync(process.execPath, args, { cwd: packageDir, stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 })
  } catch (error) {
    process.stderr.write(String(error.stderr ?? ''))
    throw error
  }
}

/** Takes the lock directory; a lock older than ten minutes was left by a dead build. */
function tryLock(lock) {
  try {
    mkdirSync(lock)
    return true
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true })
    } catch {
      // Released meanwhile.
    }
    return false
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function loads(require, rethrow = false) {
  try {
    const Database = require('better-sqlite3')
    new Database(':memory:').close()
    return true
  } catch (error) {
    if (rethrow) throw error
    return false
  }
}

/** node-gyp: on PATH, bundled with the pnpm running us, or bundled with npm. */
function findNodeGyp() {
  const candidates = []
  if (process.env.npm_execpath) {
    const root = dirname(dirname(process.env.npm_execpath))
    candidates.push(join(root, 'dist', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
    candidates.push(join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  }
  const prefix = join(dirname(process.execPath), '..', 'lib', 'node_modules')
  candidates.push(join(prefix, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  candidates.push(join(prefix, 'pnpm', 'dist', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  candidates.push(join(prefix, 'node-gyp', 'bin', 'node-gyp.js'))
  const found = candidates.find((path) => existsSync(path))
  if (found === undefined) {
    throw new Error(
      `node-gyp not found (looked in ${candidates.join(', ')}); install it with npm i -g node-gyp`,
    )
  }
  return found
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureBetterSqlite3(process.argv[2] ?? process.cwd())
