/**
 * Runs one fuzz scenario against a fresh environment: every call must settle in bounded time with
 * a result or a `MailcadenceError` the state explains, and every tick's sends must keep the
 * invariants (`check.ts`). A broken promise throws a `FuzzViolation` carrying the trace so far.
 */
import { isMailcadenceError } from '../../../errors.js'
import type { Mailbox } from '../../../model/types.js'
import { emailKey } from '../../../model/validate.js'
import type { Scheduler } from '../../../scheduler/create.js'
import type { Env, EnvFn } from '../harness.js'
import { type Action, type ApiMethod, FAILURES, type Ref } from './actions.js'
import { checkFinalState, createSendChecker } from './check.js'
import { invalidDatesGiven } from './guard.js'
import { applyMutation, describeMutation, describeValue, type FuzzFamily } from './values.js'

export interface Scenario {
  start: Date
  leaseRecovery: 'fail' | 'retry'
  maxSendsPerCampaignPerTick: number
  concurrency: number
  seed: number
  actions: Action[]
}

export interface RunSettings {
  families: readonly FuzzFamily[]
  /** Longest a single call may take (real time) before it counts as hung. */
  callTimeoutMs: number
  /** Also require error messages to be short and free of raw CR, LF and NUL. */
  strictMessages: boolean
}

/** What the runs did, summed: to see that a run exercises something. */
export interface FuzzStats {
  calls: number
  refused: number
  ticks: number
  sends: number
}

export const LEASE_MS = 10 * 60_000
const SEND_TIMEOUT_MS = 200

export class FuzzViolation extends Error {
  override name = 'FuzzViolation'
}

/** Methods whose refusal may depend on a campaign's status (`invalid-state`). */
const STATEFUL = new Set<ApiMethod>([
  'updateCampaign',
  'addLeads',
  'startCampaign',
  'pauseCampaign',
  'resumeCampaign',
  'stopCampaign',
  'analyzeImport',
  'importCampaign',
  'recordExternalSends',
  'exportProgress',
])

interface RunState {
  mailboxes: Mailbox[]
  campaigns: string[]
  unresolved: boolean
}

function isRef(value: unknown): value is Ref {
  return typeof value === 'object' && value !== null && '$ref' in value
}

/** Replaces references by what this run has made (see `Ref`). */
function resolve(value: unknown, state: RunState, now: number): unknown {
  if (isRef(value)) {
    const { mailboxes, campaigns } = state
    const pick = <T>(list: T[]) => (value.n >= 0 && list.length > 0 ? list[value.n % list.length] : undefined)
    switch (value.$ref) {
      case 'mailbox':
      case 'campaign': {
        const id = value.$ref === 'mailbox' ? pick(mailboxes)?.id : pick(campaigns)
        if (id !== undefined) return id
        state.unresolved = true
        return `no-such-${value.$ref}`
      }
      case 'mailboxes':
        if (mailboxes.length > 0) return mailboxes.slice(0, value.n).map((m) => m.id)
        state.unresolved = true
        return ['no-such-mailbox']
      case 'mailboxEmail':
        return pick(mailboxes)?.email ?? 'nobody@nowhere.test'
      case 'at':
        return new Date(now + value.n)
    }
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, state, now))
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) out[key] = resolve(v, state, now)
    return out
  }
  return value
}

async function bounded<T>(label: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FuzzViolation(`${label} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/** Why an error is not one this call may throw, or null if it may. */
function errorProblem(
  method: ApiMethod,
  error: unknown,
  mayRefuse: boolean,
  settings: RunSettings,
): string | null {
  if (!isMailcadenceError(error)) {
    const name = error instanceof Error ? error.name : typeof error
    const message = error instanceof Error ? error.message : describeValue(error)
    return `threw ${name}, not a MailcadenceError: ${message.slice(0, 300)}`
  }
  const message = error.message
  if (settings.strictMessages && (message.length > 1000 || /[\0\r\n]/.test(message)))
    return `error message not short and escaped (${message.length} chars): ${describeValue(message)}`
  switch (error.code) {
    case 'invalid-input':
      if (typeof error.field !== 'string' || error.field === '')
        return `invalid-input without a field: ${message.slice(0, 300)}`
      return mayRefuse ? null : `refused a valid input (${error.field}): ${message.slice(0, 300)}`
    case 'not-found':
      return mayRefuse ? null : `not-found for a known id: ${message.slice(0, 300)}`
    case 'invalid-state':
      return STATEFUL.has(method) ? null : `invalid-state from ${method}: ${message.slice(0, 300)}`
    default:
      return `${error.code}: ${message.slice(0, 300)}`
  }
}

/** `$mailbox` in `sentToday` stands for the first mailbox's address (see `actions.ts`). */
function placeMailboxKey(method: ApiMethod, args: unknown[], state: RunState): void {
  if (method !== 'analyzeImport' && method !== 'importCampaign') return
  const input = args[0] as { sentToday?: unknown } | null
  const sentToday = input?.sentToday
  if (typeof sentToday !== 'object' || sentToday === null || !Object.hasOwn(sentToday, '$mailbox')) return
  const { $mailbox, ...rest } = sentToday as Record<string, unknown>
  input!.sentToday = { ...rest, [state.mailboxes[0]?.email ?? 'nobody@nowhere.test']: $mailbox }
}

export async function runScenario(
  scenario: Scenario,
  env: EnvFn,
  settings: RunSettings,
  stats: FuzzStats,
): Promise<void> {
  const e: Env = await env({
    start: scenario.start,
    seed: scenario.seed,
    lease: LEASE_MS,
    // Short, in real time: a tick whose sends hang gives them up well inside a call's time limit.
    sendTimeout: SEND_TIMEOUT_MS,
    leaseRecovery: scenario.leaseRecovery,
    maxSendsPerCampaignPerTick: scenario.maxSendsPerCampaignPerTick,
    concurrency: scenario.concurrency,
  })
  const other = e.another()
  const state: RunState = { mailboxes: [], campaigns: [], unresolved: false }
  const checker = createSendChecker(e)
  const trace: string[] = []
  const releases: Array<() => void> = []
  const fail = (problem: string): never => {
    throw new FuzzViolation(`${problem}\n  after:\n    ${trace.slice(-40).join('\n    ')}`)
  }

  const tick = async (concurrent: boolean) => {
    await checker.before(
      state.mailboxes.map((m) => m.id),
      state.campaigns,
    )
    const ticks = concurrent ? [e.scheduler, other] : [e.scheduler]
    stats.ticks++
    const outcome = await bounded(
      'tick',
      settings.callTimeoutMs,
      Promise.all(ticks.map((s: Scheduler) => s.tick())).then(
        (value): Outcome => ({ ok: true, value }),
        (error): Outcome => ({ ok: false, error }),
      ),
    ).catch((error: Error) => fail(error.message))
    if (!outcome.ok) fail(`tick ${errorProblem('explain', outcome.error, false, settings) ?? 'threw'}`)
    for (const where of invalidDatesGiven(e.store)) fail(`tick handed an invalid Date to ${where}`)
    for (const problem of checker.after()) fail(problem)
  }

  for (const [index, action] of scenario.actions.entries()) {
    if (action.kind === 'clock') {
      e.clock.advance(action.ms)
      trace.push(`#${index} clock +${action.ms / 60_000} min → ${e.clock.now().toISOString()}`)
      continue
    }
    if (action.kind === 'tick') {
      for (const kind of action.failures) e.transport.failNext(1, FAILURES[kind])
      if (action.hang && releases.length === 0) releases.push(e.transport.hold())
      const before = e.transport.sent.length
      trace.push(
        `#${index} tick${action.concurrent ? ' ×2' : ''}${action.hang ? ' (sends hang from now on)' : ''} failing [${action.failures.join(', ')}]`,
      )
      await tick(action.concurrent)
      trace[trace.length - 1] += ` → ${e.transport.sent.length - before} sent`
      continue
    }
    state.unresolved = false
    const args = resolve(action.args, state, e.clock.now().getTime()) as unknown[]
    const mutated = applyMutation(args, action.mutation)
    placeMailboxKey(action.method, mutated, state)
    const mayRefuse = action.mutation !== null || state.unresolved || settings.families.includes('names')
    const label = `${action.method}(${describeMutation(action.mutation)})`
    const call = (e.scheduler as unknown as Record<ApiMethod, (...a: unknown[]) => Promise<unknown>>)[
      action.method
    ]
    const outcome = await bounded(
      label,
      settings.callTimeoutMs,
      Promise.resolve()
        .then(() => call.apply(e.scheduler, mutated))
        .then(
          (value): Outcome => ({ ok: true, value }),
          (error): Outcome => ({ ok: false, error }),
        ),
    ).catch((error: Error) => fail(error.message))
    trace.push(`#${index} ${label} → ${outcome.ok ? summary(outcome.value) : errorSummary(outcome.error)}`)
    stats.calls++
    if (!outcome.ok) stats.refused++
    for (const where of invalidDatesGiven(e.store)) fail(`${label} handed an invalid Date to ${where}`)
    if (!outcome.ok) {
      const problem = errorProblem(action.method, outcome.error, mayRefuse, settings)
      if (problem) fail(`${label} ${problem}`)
      continue
    }
    remember(action.method, outcome.value, state, mutated, checker)
  }

  // The stalled server answers at last (late: the completions must be refused or harmless).
  for (const release of releases.splice(0)) release()
  // Their sends reach the transport now, long after the tick that started them: never twice, and
  // within the limits, whatever the settings were then.
  await new Promise((resolve) => setImmediate(resolve))
  for (const problem of checker.after({ late: true })) fail(problem)
  // Past the lease, with both schedulers ticking: nothing may be left in flight.
  e.clock.advance(LEASE_MS + 60_000)
  trace.push(`final: clock past the lease → ${e.clock.now().toISOString()}, tick ×2`)
  await tick(true)
  for (const problem of await checkFinalState(e, state.campaigns, checker)) fail(problem)
  stats.sends += e.transport.sent.length
  if (process.env.FUZZ_DEBUG) {
    for (const id of state.campaigns) {
      const x = await e.scheduler.explain(id)
      trace.push(
        `${id}: ${x.status} ${JSON.stringify(x.reasons)} ${JSON.stringify(await e.scheduler.queueStats(id))}`,
      )
    }
    console.log(trace.join('\n'), e.transport.sent.length)
  }
}

/** A short account of a result for the trace: what was added or imported, or just `ok`. */
function summary(value: unknown): string {
  if (typeof value !== 'object' || value === null) return 'ok'
  const v = value as Record<string, unknown>
  if (typeof v.added === 'number') return `ok: ${v.added} added, ${(v.invalid as unknown[]).length} invalid`
  if (typeof v.status === 'string') return `ok: ${v.status}`
  if (typeof v.leads === 'object' && v.leads !== null && 'imported' in v.leads)
    return `ok: ${(v.leads as { imported: number }).imported} imported`
  return 'ok'
}

function errorSummary(error: unknown): string {
  if (isMailcadenceError(error)) return `${error.code}${error.field ? ` (${error.field})` : ''}`
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 80)}` : describeValue(error)
}

/** Keeps what later actions refer to, and what the invariants must know (suppressions, replies). */
function remember(
  method: ApiMethod,
  value: unknown,
  state: RunState,
  args: unknown[],
  checker: ReturnType<typeof createSendChecker>,
): void {
  switch (method) {
    case 'createMailbox':
      state.mailboxes.push(value as Mailbox)
      break
    case 'createCampaign':
      state.campaigns.push((value as { id: string }).id)
      break
    case 'importCampaign': {
      const id = (value as { campaignId: string }).campaignId
      if (!state.campaigns.includes(id)) state.campaigns.push(id)
      break
    }
    case 'suppress':
      checker.suppressed(emailKey(args[0] as string))
      break
    case 'markReplied':
      if ((value as { lead: unknown }).lead) checker.replied(args[0] as string, emailKey(args[1] as string))
      break
  }
}
