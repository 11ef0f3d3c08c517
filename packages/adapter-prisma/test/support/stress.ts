/**
 * The many-processes test: OS processes (stress-worker.ts) tick one database at once, on a clock
 * that runs fast (a simulated day takes a few real seconds) so that day limits reset during the
 * run. This file sets the database up, runs the workers, and checks the result with SQL.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createScheduler } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { createPrismaStore } from '../../src/index.js'
import type { TestDatabase } from './clients.js'

export interface StressOptions {
  processes: number
  campaigns: number
  mailboxes: number
  leads: number
  mailboxLimit: number
  campaignLimit: number
  /** Real milliseconds per simulated day. */
  dayMs: number
  /** Real milliseconds the workers may run. */
  budgetMs: number
  /**
   * Lead time zones on: campaigns send 08:00–20:00 in each lead's own zone (`windowTimezone:
   * 'lead'`), leads spread over {@link LEAD_ZONES}, so at every instant some keys are closed.
   */
  leadZones?: boolean
}

/** Monday 5 January 2026, 00:00 UTC. */
export const SIM_START = Date.parse('2026-01-05T00:00:00Z')
const ZONES = ['UTC', 'America/New_York', 'Asia/Tokyo', 'Europe/Warsaw', 'Asia/Kathmandu']
/** Lead zones about three hours apart, for `leadZones`. */
const LEAD_ZONES = [
  { timezone: 'Pacific/Honolulu', country: 'US' },
  { timezone: 'America/Los_Angeles', country: 'US' },
  { timezone: 'America/New_York', country: 'US' },
  { timezone: 'America/Sao_Paulo', country: 'BR' },
  { timezone: 'Europe/London', country: 'GB' },
  { timezone: 'Europe/Warsaw', country: 'PL' },
  { timezone: 'Asia/Kolkata', country: 'IN' },
  { timezone: 'Asia/Tokyo', country: 'JP' },
  { timezone: 'Pacific/Auckland', country: 'NZ' },
]

export interface SendRecord {
  campaignId: string
  leadId: string
  step: number
  mailboxId: string
  at: number
  worker: number
}

export interface StressResult {
  records: SendRecord[]
  workerErrors: string[]
  realMs: number
  mailboxes: Array<{ id: string; limit: number; timezone: string }>
  campaigns: Array<{ id: string; limit: number; timezone: string }>
}

/**
 * Creates mailboxes, campaigns and leads; every campaign sends at once (delay 0), all day, or with
 * `leadZones` 08:00–20:00 in each lead's zone.
 */
export async function seed(db: TestDatabase, o: StressOptions) {
  const scheduler = createScheduler({
    store: createPrismaStore(db.prisma),
    transport: createRecordingTransport(),
    clock: createFakeClock(new Date(SIM_START)),
  })
  const mailboxes: StressResult['mailboxes'] = []
  for (let m = 0; m < o.mailboxes; m++) {
    const timezone = ZONES[m % ZONES.length]!
    const box = await scheduler.createMailbox({
      email: `box${m}@m${m}.test`,
      dailyEmailLimit: o.mailboxLimit,
      timezone,
    })
    mailboxes.push({ id: box.id, limit: o.mailboxLimit, timezone })
  }
  const campaigns: StressResult['campaigns'] = []
  const perCampaign = Math.ceil(o.leads / o.campaigns)
  for (let c = 0; c < o.campaigns; c++) {
    // Three mailboxes each, overlapping: every mailbox serves several campaigns.
    const ids = [0, 3, 7].map((k) => mailboxes[(c + k) % mailboxes.length]!.id)
    const timezone = ZONES[(c + 2) % ZONES.length]!
    const created = await scheduler.createCampaign({
      name: `Stress ${c}`,
      timezone,
      ...(o.leadZones
        ? { windowTimezone: 'lead' as const, startHour: 8, endHour: 20 }
        : { startHour: 0, endHour: 24 }),
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      delayBetweenEmails: 0,
      maxEmailsPerDay: o.campaignLimit,
      mailboxIds: ids,
      steps: [{ subject: 'Hello {{firstName|there}}', text: 'Hi.' }],
    })
    const count = Math.min(perCampaign, o.leads - c * perCampaign)
    const leads = Array.from({ length: Math.max(0, count) }, (_, i) => ({
      email: `c${c}-l${i}@example.com`,
      ...(o.leadZones ? LEAD_ZONES[i % LEAD_ZONES.length] : {}),
    }))
    await scheduler.addLeads(created.id, leads)
    await scheduler.startCampaign(created.id)
    campaigns.push({ id: created.id, limit: o.campaignLimit, timezone })
  }
  return { mailboxes, campaigns }
}

/**
 * Runs a TypeScript file of this folder in a process of its own (through tsx, with the sources of
 * core), with `env` added; resolves with its exit code and what it wrote.
 */
export function runTsWorker(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tsconfig = fileURLToPath(new URL('./tsconfig.worker.json', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Runs `o.processes` workers on the database until the queue is empty or the budget is spent. */
export async function runWorkers(
  db: TestDatabase,
  o: StressOptions,
): Promise<Omit<StressResult, 'mailboxes' | 'campaigns'>> {
  const dir = mkdtempSync(join(tmpdir(), 'mc-stress-'))
  const worker = fileURLToPath(new URL('./stress-worker.ts', import.meta.url))
  const realStart = Date.now()
  const config = {
    location: db.location,
    simStart: SIM_START,
    realStart,
    speed: 86_400_000 / o.dayMs,
    deadline: realStart + o.budgetMs,
  }
  const workerErrors: string[] = []
  const exits = Array.from({ length: o.processes }, async (_, index) => {
    const out = join(dir, `worker-${index}.jsonl`)
    const { code, stderr } = await runTsWorker(worker, {
      MC_STRESS: JSON.stringify({ ...config, index, out }),
    })
    if (code !== 0) workerErrors.push(`worker ${index} exited with ${code}: ${stderr.slice(-2000)}`)
    else if (stderr.trim()) workerErrors.push(`worker ${index}: ${stderr.slice(-2000)}`)
  })
  await Promise.all(exits)
  const realMs = Date.now() - realStart
  const records: SendRecord[] = []
  for (let index = 0; index < o.processes; index++) {
    const file = join(dir, `worker-${index}.jsonl`)
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim()) records.push(JSON.parse(line) as SendRecord)
    }
  }
  rmSync(dir, { recursive: true, force: true })
  return { records, workerErrors, realMs }
}

/** Counts per key. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>()
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1)
  return out
}
