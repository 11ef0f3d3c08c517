/**
 * Guards: the rules that pause a mailbox or a campaign on its own figures (hard bounces,
 * complaints, consecutive failed sends). Pure: what the `guards` option means, which counter keys
 * hold the figures, what a send's outcome counts as, and whether figures breach a limit. The
 * counting and pausing live in scheduler/guards.ts.
 *
 * Rates are per send cohort: the denominator is the emails handed to a server (delivered, hard
 * bounced at send, or refused permanently) on the UTC days of the window, since the last resume;
 * leads not mailed yet never dilute it.
 */
import { invalidInput } from '../errors.js'
import { checkInteger, checkNumber, checkObject } from '../model/checks.js'
import type { SendFailure } from './classify.js'

export interface GuardSettings {
  /** UTC days looked back over: today and the `windowDays − 1` before it. */
  windowDays: number
  /** Emails handed over the window before a rate guard may trip. */
  minSends: number
  /** Hard bounces ÷ handed above this pauses; null: no bounce-rate guard. */
  maxBounceRate: number | null
  /** Complaints ÷ handed above this pauses; null: no complaint-rate guard. */
  maxComplaintRate: number | null
  /** This many consecutive failed sends on one mailbox pause it; null: no such guard. */
  maxConsecutiveFailures: number | null
}

/** The thresholds of Amazon SES and Google, as Warmbly applies them. */
export const DEFAULT_GUARDS: Readonly<GuardSettings> = Object.freeze({
  windowDays: 7,
  minSends: 50,
  maxBounceRate: 0.05,
  maxComplaintRate: 0.001,
  maxConsecutiveFailures: 5,
})

/** Longest window: its day counters of one entity fit one `readCounters` call with room to spare. */
export const MAX_WINDOW_DAYS = 90

export type GuardName = 'bounce-rate' | 'complaint-rate' | 'consecutive-failures'

/** What a guard saw when it tripped. */
export interface GuardFigures {
  /** Hard bounces, complaints, or consecutive failed sends. */
  count: number
  /** Rate guards: emails handed over the window (since the last resume). */
  handed?: number
  /** Rate guards: `count / handed`. */
  rate?: number
  /** The limit passed: a rate, or the most consecutive failures. */
  limit: number
  /** Rate guards: the window, in UTC days. */
  windowDays?: number
}

/** `pauseReason` of a mailbox a guard paused starts with this. */
export const GUARD_REASON_PREFIX = 'guard:'

/** Whether a mailbox's `pauseReason` says a guard paused it. */
export function isGuardReason(reason: string | null | undefined): boolean {
  return typeof reason === 'string' && reason.startsWith(GUARD_REASON_PREFIX)
}

const SETTING_NAMES = Object.keys(DEFAULT_GUARDS) as Array<keyof GuardSettings>

/**
 * The `guards` scheduler option: absent or `true` → the defaults, `false` → null (every guard
 * off), an object → the defaults with its members (each limit may be null: that guard off).
 * Throws `invalid-input` naming the member (`guards.maxBounceRate`).
 */
export function checkGuards(value: unknown): GuardSettings | null {
  if (value === false) return null
  if (value === undefined || value === true) return { ...DEFAULT_GUARDS }
  const input = checkObject('guards', value)
  for (const name of Object.keys(input))
    if (!(SETTING_NAMES as string[]).includes(name))
      throw invalidInput(`guards.${name}`, `is not a guard setting (${SETTING_NAMES.join(', ')})`)
  const rate = (name: 'maxBounceRate' | 'maxComplaintRate') =>
    input[name] === undefined
      ? DEFAULT_GUARDS[name]
      : input[name] === null
        ? null
        : checkNumber(`guards.${name}`, input[name], 0, 1)
  const maxFailures = input.maxConsecutiveFailures
  return {
    windowDays:
      input.windowDays === undefined
        ? DEFAULT_GUARDS.windowDays
        : checkInteger('guards.windowDays', input.windowDays, 1, MAX_WINDOW_DAYS),
    minSends:
      input.minSends === undefined
        ? DEFAULT_GUARDS.minSends
        : checkInteger('guards.minSends', input.minSends, 1, 1_000_000),
    maxBounceRate: rate('maxBounceRate'),
    maxComplaintRate: rate('maxComplaintRate'),
    maxConsecutiveFailures:
      maxFailures === undefined
        ? DEFAULT_GUARDS.maxConsecutiveFailures
        : maxFailures === null
          ? null
          : checkInteger('guards.maxConsecutiveFailures', maxFailures, 1, 1_000),
  }
}

/** Whether the settings have a rate guard on (they need a store with counters). */
export function hasRateGuards(settings: GuardSettings | null): boolean {
  return settings !== null && (settings.maxBounceRate !== null || settings.maxComplaintRate !== null)
}

// -- what a send counts as ------------------------------------------------------------------------

/**
 * What one send's outcome counts for: `handed` (in the rates' denominator: delivered, hard
 * bounced or refused permanently), `bounced` (a hard bounce at send), and its effect on the
 * mailbox's run of consecutive failures: `fail` (a permanent refusal or bounce, or the server could
 * not be reached or logged into), `success` (resets it), or `neutral` (a temporary answer, retried:
 * greylisting, throttling `4.7.x`, `421`, a full mailbox).
 */
export interface SendVerdict {
  handed: boolean
  bounced: boolean
  run: 'success' | 'fail' | 'neutral'
}

export function sendVerdict(failure: SendFailure | null): SendVerdict {
  if (failure === null) return { handed: true, bounced: false, run: 'success' }
  switch (failure.action) {
    case 'bounce':
      return { handed: true, bounced: true, run: 'fail' }
    case 'fail':
      return { handed: true, bounced: false, run: 'fail' }
    default:
      return { handed: false, bounced: false, run: failure.fault ? 'fail' : 'neutral' }
  }
}

// -- counter keys ---------------------------------------------------------------------------------

export type GuardScope = 'mailbox' | 'campaign'
/** Figures counted per entity and UTC day: handed, hard bounces, complaints. */
export type FigureKind = 'handed' | 'bounces' | 'complaints'
export const FIGURE_KINDS: readonly FigureKind[] = ['handed', 'bounces', 'complaints']

const DAY_MS = 86_400_000
const KIND_LETTER: Record<FigureKind, string> = { handed: 'h', bounces: 'b', complaints: 'c' }
/** Ids longer than this are hashed into keys (a counter key holds at most 200 characters). */
const MAX_ID_IN_KEY = 120

/** The UTC day number (days since 1970-01-01) of an instant. */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS)
}

function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')
}

/**
 * Counter keys of one entity. `hash` turns an over-long id (or a Message-ID) into a short stable
 * token (scheduler/guards.ts passes sha-256); every key stays under 200 characters.
 */
export function guardKeys(scope: GuardScope, id: string, hash: (text: string) => string) {
  const entity = `${scope === 'mailbox' ? 'm' : 'c'}:${id.length > MAX_ID_IN_KEY ? `#${hash(id)}` : id}`
  return {
    /** A figure of one UTC day (all resumes together). */
    day: (kind: FigureKind, day: number) => `guard:${KIND_LETTER[kind]}:${entity}:${dayLabel(day)}`,
    /** How many times the entity was resumed. */
    epoch: `guard:e:${entity}`,
    /** Resume number `n`: its instant (minutes since 1970) and the day's figures it found (+1). */
    resumedAt: (n: number) => `guard:r:${entity}:${n}`,
    baseline: (kind: FigureKind, n: number) => `guard:r${KIND_LETTER[kind]}:${entity}:${n}`,
    /**
     * The trip during resume number `n`, for explain(): guard code, count + 1, handed + 1, limit in
     * millionths + 1, window days (a claim adds at least 1, so a stored 0 reads as "none").
     */
    trip: (part: TripPart, n: number) => `guard:t${part[0]}:${entity}:${n}`,
  }
}

export type TripPart = 'guard' | 'count' | 'handed' | 'limit' | 'days'
export const TRIP_PARTS: readonly TripPart[] = ['guard', 'count', 'handed', 'limit', 'days']

/** Key that makes a bounce or complaint reported for one sent Message-ID count once. */
export function reportKey(kind: 'bounces' | 'complaints', messageIdHash: string): string {
  return `guard:x${KIND_LETTER[kind]}:${messageIdHash}`
}

/** When core is done with a day's counter: the window past the day's end, and a day of margin. */
export function dayExpiry(day: number, windowDays: number): Date {
  return new Date((day + windowDays + 2) * DAY_MS)
}

/** The UTC days the window covers at `nowMs`, oldest first. */
export function windowDays(nowMs: number, days: number): number[] {
  const today = utcDay(nowMs)
  return Array.from({ length: days }, (_, i) => today - days + 1 + i)
}

export const GUARD_CODES: Record<GuardName, number> = {
  'bounce-rate': 1,
  'complaint-rate': 2,
  'consecutive-failures': 3,
}

/** The counts a trip is stored as (see `guardKeys(…).trip`): each at least 1. */
export function tripCounts(guard: GuardName, figures: GuardFigures): Record<TripPart, number> {
  return {
    guard: GUARD_CODES[guard],
    count: figures.count + 1,
    handed: (figures.handed ?? 0) + 1,
    limit: Math.round(figures.limit * 1_000_000) + 1,
    days: figures.windowDays ?? 1,
  }
}

/** A trip read back from its counts, or null when none was stored. */
export function tripOfCounts(
  counts: Record<TripPart, number>,
): { guard: GuardName; figures: GuardFigures } | null {
  const guard = (Object.keys(GUARD_CODES) as GuardName[]).find((g) => GUARD_CODES[g] === counts.guard)
  if (guard === undefined || guard === 'consecutive-failures') return null
  const count = Math.max(0, counts.count - 1)
  const handed = Math.max(0, counts.handed - 1)
  return {
    guard,
    figures: {
      count,
      handed,
      rate: handed === 0 ? 0 : count / handed,
      limit: Math.max(0, counts.limit - 1) / 1_000_000,
      windowDays: Math.max(1, counts.days),
    },
  }
}

// -- the figures and the rule ---------------------------------------------------------------------

/** What the last resume left: its instant and the figures its UTC day already had then. */
export interface ResumeMark {
  atMs: number
  baseline: Record<FigureKind, number>
}

export type Figures = Record<FigureKind, number>

/**
 * Figures over the window since the last resume: days before the resume's day are left out, and
 * that day counts only what came after the resume (its count less the baseline found then).
 */
export function figuresSince(
  perDay: ReadonlyMap<number, Figures>,
  days: readonly number[],
  resume: ResumeMark | null,
): Figures {
  const total: Figures = { handed: 0, bounces: 0, complaints: 0 }
  const resumeDay = resume ? utcDay(resume.atMs) : Number.NEGATIVE_INFINITY
  for (const day of days) {
    if (day < resumeDay) continue
    const figures = perDay.get(day)
    if (!figures) continue
    for (const kind of FIGURE_KINDS) {
      const base = day === resumeDay && resume ? resume.baseline[kind] : 0
      total[kind] += Math.max(0, figures[kind] - base)
    }
  }
  return total
}

/**
 * The rate guard the figures breach, with its figures, or null: only with at least `minSends`
 * handed; bounces before complaints. A rate must be strictly above its limit.
 */
export function rateBreach(
  figures: Figures,
  settings: GuardSettings,
): { guard: GuardName; figures: GuardFigures } | null {
  const { handed } = figures
  if (handed < settings.minSends || handed === 0) return null
  const checks: Array<[GuardName, number, number | null]> = [
    ['bounce-rate', figures.bounces, settings.maxBounceRate],
    ['complaint-rate', figures.complaints, settings.maxComplaintRate],
  ]
  for (const [guard, count, limit] of checks) {
    if (limit === null || count / handed <= limit) continue
    return {
      guard,
      figures: { count, handed, rate: count / handed, limit, windowDays: settings.windowDays },
    }
  }
  return null
}

/**
 * The words of a trip, after `guard: ` in a mailbox's `pauseReason`:
 * `hard bounces 3 of 50 (6.0%) over 7 days, limit 5%`.
 */
export function describeTrip(guard: GuardName, figures: GuardFigures): string {
  if (guard === 'consecutive-failures')
    return `${figures.count} consecutive failed sends, limit ${figures.limit}`
  const what = guard === 'bounce-rate' ? 'hard bounces' : 'complaints'
  const days = figures.windowDays === 1 ? '1 day' : `${figures.windowDays} days`
  return `${what} ${figures.count} of ${figures.handed} (${percent(figures.rate ?? 0, 1)}) over ${days}, limit ${percent(figures.limit)}`
}

/** `0.06` → `6.0%` with `digits`; without, as short as exact (`0.001` → `0.1%`). */
function percent(rate: number, digits?: number): string {
  const value = rate * 100
  if (digits !== undefined) return `${value.toFixed(digits)}%`
  return `${Number(value.toPrecision(6))}%`
}
