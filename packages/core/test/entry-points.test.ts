/**
 * The built package as a host app sees it (issue #19): installed on its own, without vitest,
 * fast-check, nodemailer or @types/node, `@mailcadence/core` and `@mailcadence/core/testing` load
 * from `import` and from `require()`, and a strict host file using them type-checks. The copy sits
 * in a temporary directory, so nothing of the monorepo's node_modules can be resolved by accident.
 * Needs the build (`pnpm build` runs first in `pnpm test`).
 */
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const core = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)
let app = ''

/**
 * `node` in the app's directory; the error carries the child's stderr. Without NODE_PATH, which
 * pnpm sets to the monorepo's store for the scripts it runs.
 */
function node(args: string[]): string {
  const { NODE_PATH: _, ...env } = process.env
  return execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', stdio: 'pipe', env })
}

beforeAll(() => {
  if (!existsSync(join(core, 'dist/testing/index.cjs')))
    throw new Error('packages/core/dist is missing: run `pnpm --filter @mailcadence/core build` first')
  app = mkdtempSync(join(tmpdir(), 'packaging-core-app-'))
  const installed = join(app, 'node_modules/@mailcadence/core')
  mkdirSync(installed, { recursive: true })
  cpSync(join(core, 'package.json'), join(installed, 'package.json'))
  cpSync(join(core, 'dist'), join(installed, 'dist'), { recursive: true })
  // Only core's own dependencies, as npm would install them next to it.
  for (const dependency of ['date-fns', 'date-fns-tz'])
    symlinkSync(realpathSync(join(core, 'node_modules', dependency)), join(app, 'node_modules', dependency))
  writeFileSync(join(app, 'package.json'), '{ "name": "host-app", "private": true }\n')
})

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true })
})

// Each test starts node (tsc: a full type-check); generous on a loaded machine.
describe('the built @mailcadence/core in an app without vitest or nodemailer', { timeout: 60_000 }, () => {
  const script = `const { createFakeClock, createSeededRandom, createRecordingTransport } = M
const clock = createFakeClock(new Date('2026-01-05T09:00:00Z'))
clock.advance(60_000)
process.stdout.write([clock.now().toISOString(), typeof createSeededRandom(1)(), typeof createRecordingTransport().send].join(' '))`
  const expected = '2026-01-05T09:01:00.000Z number function'

  it('cannot resolve vitest there (so the next tests mean something)', () => {
    expect(() => node(['-e', "require.resolve('vitest')"])).toThrow(/Cannot find module 'vitest'/)
  })

  it('loads /testing through require()', () => {
    expect(node(['-e', `const M = require('@mailcadence/core/testing')\n${script}`])).toBe(expected)
  })

  it('loads /testing through import()', () => {
    const esm = `const M = await import('@mailcadence/core/testing')\n${script}`
    expect(node(['--input-type=module', '-e', esm])).toBe(expected)
  })

  it('loads the root entry both ways without nodemailer', () => {
    const use = "process.stdout.write(typeof M.createScheduler + ' ' + ('createSmtpTransport' in M))"
    expect(node(['-e', `const M = require('@mailcadence/core')\n${use}`])).toBe('function false')
    expect(node(['--input-type=module', '-e', `const M = await import('@mailcadence/core')\n${use}`])).toBe(
      'function false',
    )
  })

  it('type-checks a strict host file with no @types/node', () => {
    writeFileSync(
      join(app, 'host.ts'),
      `import { createScheduler, type Store, type Transport } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'

declare const store: Store
const transport: Transport = { send: async () => ({ response: '250 ok' }) }
const scheduler = createScheduler({ store, transport, clock: createFakeClock(new Date(0)) })
export const closing: Promise<void> = scheduler.close()
`,
    )
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2023'],
          types: [],
          noEmit: true,
        },
        files: ['host.ts'],
      }),
    )
    const tsc = require.resolve('typescript/bin/tsc')
    let output = ''
    try {
      output = node([tsc, '-p', 'tsconfig.json'])
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error)
    }
    expect(output).toBe('')
  })
})
