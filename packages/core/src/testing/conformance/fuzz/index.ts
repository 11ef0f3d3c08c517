/**
 * Property-based fuzzing of the scheduler's public API over a store: fast-check generates
 * sequences of calls (valid inputs, and valid inputs with one hostile value), ticks with failing
 * sends and concurrent schedulers, and clock moves across DST changes; `run.ts` holds every call
 * to its promise and `check.ts` checks the invariants. fast-check is an optional peer dependency
 * of core, loaded only when a fuzz run starts, so importing `@mailcadence/core/conformance` does not
 * need it.
 */
import type * as FastCheck from 'fast-check'
import { createHarness, type EnvFn, type MakeStore, MONDAY } from '../harness.js'
import { type Action, type ApiMethod, actionArb } from './actions.js'
import { guardedMakeStore } from './guard.js'
import { type FuzzStats, runScenario, type Scenario } from './run.js'
import { type Fc, FUZZ_FAMILIES, type FuzzFamily, type Mutation } from './values.js'

export { FUZZ_FAMILIES, type FuzzFamily }

export interface FuzzOptions {
  /** Hostile value families mixed into valid inputs. Default: none (valid inputs only). */
  families?: readonly FuzzFamily[]
  /** Scenarios to run. Default 20. */
  runs?: number
  /** Most actions per scenario (after a valid set-up of four). Default 30. */
  length?: number
  /** fast-check seed, to replay a failure. Default: random. */
  seed?: number
  /** Longest one call may take (real time) before it counts as hung. Default 10 000 ms. */
  callTimeoutMs?: number
  /** Also let ticks make every later send hang (a stalled server) until the scenario ends. Default false. */
  hungSends?: boolean
  /** Also require error messages to be short and free of raw CR, LF and NUL. Default false. */
  strictMessages?: boolean
  /** Mutations left out: return true to skip generating one for this method. */
  skipMutation?: (mutation: Mutation, method: ApiMethod) => boolean
}

export interface FuzzReport {
  /** The seed of the run: pass it back as `seed` to replay a failure. */
  seed: number
  runs: number
  /** Calls made, refused with an error, ticks and sends, over every scenario run (shrinking included). */
  stats: FuzzStats
  /** fast-check's report with the shrunk counterexample, when a property failed. */
  failure: string | null
}

/** Instants around which scenarios start: an ordinary Monday and the nights DST changes. */
const STARTS = [
  MONDAY,
  new Date('2026-03-28T20:00:00Z'), // Europe springs forward at 01:00 UTC on the 29th
  new Date('2026-03-07T22:00:00Z'), // New York springs forward at 07:00 UTC on the 8th
  new Date('2026-10-24T20:00:00Z'), // Europe falls back at 01:00 UTC on the 25th
  new Date('2026-04-04T12:00:00Z'), // Lord Howe falls back half an hour on the 5th
]

let loaded: Promise<Fc> | null = null
function loadFastCheck(): Promise<Fc> {
  loaded ??= import('fast-check').catch((error: unknown) => {
    loaded = null
    throw new Error('the fuzz suite needs fast-check: add it to your devDependencies (npm i -D fast-check)', {
      cause: error,
    })
  })
  return loaded
}

function scenarioArb(fc: Fc, options: FuzzOptions): FastCheck.Arbitrary<Scenario> {
  const families = options.families ?? []
  const skip = (mutation: Mutation, method: ApiMethod) => options.skipMutation?.(mutation, method) === true
  const random = actionArb(fc, families, options.hungSends === true).filter(
    (a) => !(a.kind === 'call' && a.mutation && skip(a.mutation, a.method)),
  )
  const valid = actionArb(fc, []).filter((a) => a.kind === 'call')
  // A valid set-up first (most of it creates something later calls can refer to), then anything.
  const setUp = fc.tuple(
    valid.filter((a) => a.kind === 'call' && a.method === 'createMailbox'),
    valid.filter((a) => a.kind === 'call' && a.method === 'createCampaign'),
    valid.filter((a) => a.kind === 'call' && a.method === 'addLeads'),
    valid.filter((a) => a.kind === 'call' && a.method === 'startCampaign'),
  )
  return fc
    .record({
      start: fc.constantFrom(...STARTS),
      leaseRecovery: fc.constantFrom<'fail' | 'retry'>('fail', 'retry'),
      maxSendsPerCampaignPerTick: fc.constantFrom(1, 3),
      concurrency: fc.constantFrom(1, 4),
      seed: fc.nat(),
      setUp,
      // Lengths up to the maximum (not fast-check's small default), shrinking down to none.
      actions: fc.array(random, { maxLength: options.length ?? 30, size: 'max' }),
    })
    .map(({ setUp: first, actions, ...rest }) => ({
      ...rest,
      // The set-up's leads and start go to the campaign it created.
      actions: [...first.map((a) => onFirstCampaign(a)), ...actions],
    }))
}

function onFirstCampaign(action: Action): Action {
  if (action.kind !== 'call' || (action.method !== 'addLeads' && action.method !== 'startCampaign'))
    return action
  return { ...action, args: [{ $ref: 'campaign', n: 0 }, ...action.args.slice(1)] }
}

/** The shrunk counterexample's violation (with its trace) first, then fast-check's replay data. */
function failureReport(details: FastCheck.RunDetails<[Scenario]>, fc: Fc): string {
  const error = details.errorInstance
  const violation = error instanceof Error ? error.message : String(error)
  const replay = `replay with { seed: ${details.seed}, path: "${details.counterexamplePath}" }`
  return `${violation}\n\n${replay}\n${fc.defaultReportMessage(details) ?? ''}`
}

/** Runs the fuzz model on an environment maker; resolves with fast-check's report. */
export async function fuzzEnv(env: EnvFn, options: FuzzOptions = {}): Promise<FuzzReport> {
  const fc = await loadFastCheck()
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  const settings = {
    families: options.families ?? [],
    callTimeoutMs: options.callTimeoutMs ?? 10_000,
    strictMessages: options.strictMessages ?? false,
  }
  const stats: FuzzStats = { calls: 0, refused: 0, ticks: 0, sends: 0 }
  const details = await fc.check(
    fc.asyncProperty(scenarioArb(fc, options), (scenario) => runScenario(scenario, env, settings, stats)),
    { numRuns: options.runs ?? 20, seed, endOnFailure: false },
  )
  return {
    seed,
    runs: details.numRuns,
    stats,
    failure: details.failed ? failureReport(details, fc) : null,
  }
}

/**
 * Fuzzes the public API over stores made by `makeStore` (a fresh one per scenario), outside any
 * test runner: for long runs (`pnpm torture`). Closes what it opened before resolving.
 */
export async function fuzzPublicApi(makeStore: MakeStore, options: FuzzOptions = {}): Promise<FuzzReport> {
  const harness = createHarness(guardedMakeStore(makeStore))
  try {
    return await fuzzEnv(harness.env, options)
  } finally {
    await harness.cleanup()
  }
}
