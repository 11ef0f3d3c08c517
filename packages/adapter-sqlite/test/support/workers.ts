/**
 * Spawns worker processes (tsx, core from sources, .sql through a Node hook), as adapter-postgres
 * does: tick-worker.ts (schedulers ticking) and claim-worker.ts (counter claims).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ClaimWorkerConfig } from '../workers/claim-worker.js'
import type { WorkerConfig } from '../workers/tick-worker.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const packageRoot = here('../../')

export interface Worker {
  child: ChildProcess
  /**
   * Resolves when the worker prints its `{"ready":true}` line (the claim worker does); rejects if it
   * exits first.
   */
  ready: Promise<void>
  /** Resolves with the worker's summary when it exits by itself with status 0; rejects otherwise. */
  done: Promise<Record<string, number | string>>
}

export function startWorker(config: WorkerConfig): Worker {
  return spawnWorker('../workers/tick-worker.ts', config)
}

export function startClaimWorker(config: ClaimWorkerConfig): Worker {
  return spawnWorker('../workers/claim-worker.ts', config)
}

function spawnWorker(script: string, config: { name: string }): Worker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', here('../workers/register-sql.mjs'), here(script)],
    {
      cwd: packageRoot,
      env: {
        ...process.env,
        WORKER_CONFIG: JSON.stringify(config),
        TSX_TSCONFIG_PATH: here('../workers/tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  let onReady = () => {}
  let onExitFirst = (_error: Error) => {}
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve
    onExitFirst = reject
  })
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.includes('{"ready":true}')) onReady()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const done = new Promise<Record<string, number | string>>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      onExitFirst(
        new Error(`${config.name} exited with ${code ?? signal} before it was ready: ${stderr.slice(-2000)}`),
      )
      const line = stdout.split('\n').find((l) => l.startsWith('{"summary"'))
      if (code === 0 && line)
        resolve((JSON.parse(line) as { summary: Record<string, number | string> }).summary)
      else reject(new Error(`${config.name} exited with ${code ?? signal}: ${stderr.slice(-2000)}`))
    })
  })
  // Tests that kill a worker on purpose handle `done` themselves; never leave it unhandled.
  done.catch(() => {})
  ready.catch(() => {})
  return { child, ready, done }
}

export interface TransportRecord {
  worker: string
  pid: number
  campaignId: string
  leadId: string
  step: number
  itemId: string
  mailboxId: string
  mailboxTimezone: string
  messageId: string
  at: string
}

export function readRecords(path: string): TransportRecord[] {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TransportRecord)
}

/** Polls `check` every 50 ms until it returns true, or fails after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
