/** Spawns worker processes (tsx, core from sources, .sql through a Node hook). */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ClaimWorkerConfig } from '../workers/claim-worker.js'
import type { WorkerConfig } from '../workers/tick-worker.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const packageRoot = here('../../')

export interface Worker {
  child: ChildProcess
  /** Resolves with the worker's summary when it exits by itself with status 0; rejects otherwise. */
  done: Promise<Record<string, number | string>>
}

/** A tick-worker.ts process: a scheduler ticking in a loop. */
export function startWorker(config: WorkerConfig): Worker {
  return spawnWorker('tick-worker.ts', config)
}

/** A claim-worker.ts process: the same counter claims over and over. */
export function startClaimWorker(config: ClaimWorkerConfig): Worker {
  return spawnWorker('claim-worker.ts', config)
}

/** Runs `test/workers/<script>` with `config` as WORKER_CONFIG; it prints `{"summary": …}` when done. */
function spawnWorker(script: string, config: { name: string }): Worker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', here('../workers/register-sql.mjs'), here(`../workers/${script}`)],
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
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const done = new Promise<Record<string, number | string>>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"summary"'))
      if (code === 0 && line)
        resolve((JSON.parse(line) as { summary: Record<string, number | string> }).summary)
      else reject(new Error(`${config.name} exited with ${code ?? signal}: ${stderr.slice(-2000)}`))
    })
  })
  // Tests that kill a worker on purpose handle `done` themselves; never leave it unhandled.
  done.catch(() => {})
  return { child, done }
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
