import { invalidInput } from '../errors.js'
import type { UnsubscribeUrl } from '../message/build.js'
import { checkFunction, checkId, checkInteger, checkObject } from '../model/checks.js'
import { describeValue } from '../model/describe.js'
import { INPUT_LIMITS } from '../model/limits.js'
import type { Campaign, Lead, Mailbox } from '../model/types.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../policy/backoff.js'
import type { GuardSettings } from '../policy/guards.js'
import type { HolidayCalendar } from '../policy/zones.js'
import type { Store } from '../store.js'
import type { Transport } from '../transport.js'
import type { SchedulerEvent } from './events.js'
import { createGuards, type Guards } from './guards.js'
import {
  createProviderResolver,
  DEFAULT_RESOLVE_MX_TIMEOUT,
  type ProviderResolver,
  type ResolveMx,
  resolveMxWithDns,
} from './providers.js'

/** Where the scheduler reads time. `sleep` lets a fake clock make simulated waits instant. */
export interface Clock {
  now(): Date
  /** Resolves after `ms` of this clock's time. Default: a real timer. */
  sleep?(ms: number): Promise<void>
}

/** A pino-style logger: `logger.info({ campaignId }, 'message')`. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** What `beforeSend` is asked about: one email, reserved and built, about to leave. */
export interface BeforeSendContext {
  campaign: Campaign
  lead: Lead
  mailbox: Mailbox
  /** 0-based step of the sequence. */
  step: number
  to: string
  subject: string
  messageId: string
}

/** An email `beforeSend` says already left, from another system; see `SchedulerOptions.beforeSend`. */
export interface AlreadySent {
  sentAt: Date
  /** Its Message-ID (`<…>`): the next step replies to it. Default: the one reserved here. */
  messageId?: string
  /** The mailbox (one of the campaign's) it left from: the thread goes on from it. Default: the reserved one. */
  mailboxId?: string
}

/** What `beforeSend` answers: send (`true`/`undefined`), veto (`false`), or already sent. */
export type BeforeSendVerdict = boolean | undefined | { alreadySent: AlreadySent }

export interface SchedulerOptions {
  store: Store
  /** How mail leaves. Not used (and not needed) in `mode: 'shadow'`. */
  transport?: Transport
  /**
   * `'live'` sends. `'shadow'` runs the whole engine (windows, pacing, rotation, limits,
   * follow-ups, `beforeSend`) but never calls the transport: each email is recorded as sent in
   * the store's send log (`scheduler.sendLog()`), which `compareWithLegacy` compares with what the
   * legacy sender did. Give a shadow scheduler a store of its own (for example
   * `createMemoryStore()` or another schema), never the live one: what it "sends" is marked sent.
   * Default `'live'`.
   */
  mode?: 'live' | 'shadow'
  /**
   * Asked before each email leaves, after it is reserved and built (for example to look up the
   * legacy sender's send log for this lead and step, as the seed checked `SendLog` before
   * sending). Answers:
   * - `true` or `undefined`: send it.
   * - `false`: veto it. It ends `cancelled` with reason `skipped-already-sent`, not failed, and
   *   the lead's sequence goes no further here.
   * - `{ alreadySent: { sentAt, messageId?, mailboxId? } }`: it already left, from another
   *   system, at `sentAt` (not later than now). It is recorded as sent then (`sentAt`, with
   *   `messageId`, default the Message-ID reserved here; from `mailboxId`, one of the campaign's,
   *   default the reserved mailbox) in the send log, and the sequence goes on from it: the next
   *   step is due `delayDays` after `sentAt`, in the same thread, from that mailbox. It counts
   *   toward the day's limits here only if `sentAt` falls on today (the campaign's day, and the
   *   reserved mailbox's day for the mailbox): an earlier send is not counted again. (A send of
   *   today that the host also records with `recordExternalSends` then counts twice: fewer sends
   *   that day, never more.)
   *
   * Neither kind of veto spends a pacing slot: the slot the reservation took is given back, so
   * the next email may leave at once. If it throws, or answers an object without a usable
   * `alreadySent` (a `sentAt` later than now, a `mailboxId` not of the campaign, a malformed
   * `messageId`), nothing is sent and the email is retried later without spending an attempt.
   */
  beforeSend?: (send: BeforeSendContext) => BeforeSendVerdict | Promise<BeforeSendVerdict>
  /** Source of time. Default: the system clock. */
  clock?: Clock
  /** Random numbers in [0, 1) for jitter and backoff. Default: `Math.random`. */
  random?: () => number
  /** Sends in flight at once within one tick. Default 10. */
  concurrency?: number
  /** Most sends one campaign makes in one tick. Default 1, as in the in-house sender. */
  maxSendsPerCampaignPerTick?: number
  /**
   * How long (ms) a tick may wait for a campaign's pacing slot that falls before the next tick,
   * to send at that instant rather than at the next tick. This is what makes the real gaps random
   * when the host ticks on a fixed beat (every 30 s). Nothing is reserved while waiting, so a
   * crash loses nothing. Set 0 for ticks that must return at once (serverless). Default 30 000.
   */
  lookahead?: number
  /** Lease (ms) on a reserved send: longer than any transport call can take. Default 300 000. */
  lease?: number
  /**
   * Longest wait (ms) for one `transport.send` call: a backstop for a call that never settles. A
   * call still unsettled then is given up: its send slot comes back and the email is recorded
   * `failed` with `interrupted: send timed out`, never sent again (it may have left), whatever
   * `leaseRecovery` says. Must be less than `lease`; keep it above the transport's own timeout
   * (the SMTP transport's `sendTimeout`, 60 s by default), which knows better what happened.
   * Measured by a real timer (which does not keep the process alive), and also checked against
   * `clock` at the start of each tick, so a test moving a fake clock past it ends the wait. It
   * bounds a `beforeSend` hook too: one that has not answered by then is retried later (nothing
   * left). Default half the lease (150 000).
   */
  sendTimeout?: number
  /**
   * What recovery does with a send whose lease expired (its worker died mid-send): `'fail'`
   * marks it failed with reason `interrupted`, never sending it again, since it may have left;
   * `'retry'` puts it back to pending (at-least-once: a possible duplicate). Default `'fail'`.
   */
  leaseRecovery?: 'fail' | 'retry'
  /** Retries of temporary failures. Default `{ maxAttempts: 5, baseDelayMs: 60 000, maxDelayMs: 3 600 000 }`. */
  retry?: Partial<RetryPolicy>
  /**
   * Which campaigns this scheduler handles: a list of ids, or a predicate (asked every tick for
   * every campaign with something pending; it may be async, to read a host's per-campaign flag
   * such as the seed's `useV2`). Default: all.
   */
  campaignFilter?: readonly string[] | ((campaign: Campaign) => boolean | Promise<boolean>)
  /** Upper bound (ms) between two ticks of `start()`. Default 30 000. */
  interval?: number
  /** One-click unsubscribe URL per lead (adds RFC 8058 `List-Unsubscribe` headers). */
  unsubscribeUrl?: UnsubscribeUrl
  /**
   * Public holidays per country: `holidays(country, year)` returns the `YYYY-MM-DD` local dates
   * on which a lead of that country (ISO 3166-1 alpha-2, `Lead.country`) gets nothing, read in the
   * zone the lead's window is read in. Asked once per country and year (the years around each
   * instant it decides about), then cached for the scheduler's life; leads without a country are
   * not affected. An answer that is not an array of real `YYYY-MM-DD` dates, or a throw, is an
   * `invalid-input` error naming `holidays`. With this option every campaign is keyed by its
   * leads' countries, even in `windowTimezone: 'campaign'`. Not bundled; for example with the
   * `date-holidays` npm package:
   *
   * ```ts
   * import Holidays from 'date-holidays'
   * const holidays = (country: string, year: number) =>
   *   new Holidays(country)
   *     .getHolidays(year)
   *     .filter((h) => h.type === 'public')
   *     .map((h) => h.date.slice(0, 10))
   * createScheduler({ store, transport, holidays })
   * ```
   */
  holidays?: HolidayCalendar
  /**
   * How long (ms) an out-of-office answer that gives no return date holds the lead's next email
   * back (`applyInbound`): it is sent no earlier than this after the answer was applied. 0 to one
   * year. Default 7 days (604 800 000).
   */
  outOfOfficeDelay?: number
  /**
   * Provider matching (`Campaign.providerMatching`): a domain's MX exchanges, most preferred first,
   * from which its provider is read (google, microsoft, yahoo or other). Asked only for campaigns
   * that match providers: once per distinct recipient domain when leads are added to one, and once
   * per mailbox (the answer is kept with the mailbox) when one is created, updated or ticked.
   * Answers are cached per scheduler (a day; failures five minutes). A rejection, a timeout or an
   * answer that is not an array of host names never blocks or fails anything: the domain counts as
   * `other` (its emails leave from any mailbox). The large consumer domains (gmail.com,
   * outlook.com, yahoo.com, …) need no lookup. `false`: no lookups (only those domains are
   * matched). Default: `node:dns/promises` `resolveMx`, sorted by priority.
   */
  resolveMx?: ((domain: string) => Promise<string[]>) | false
  /** Longest wait (ms) for one `resolveMx` answer; later, the domain counts as `other`. Default 3 000. */
  resolveMxTimeout?: number
  /**
   * Automatic pauses that protect mailboxes (README "Guards"). Default on:
   * `{ windowDays: 7, minSends: 50, maxBounceRate: 0.05, maxComplaintRate: 0.001,
   * maxConsecutiveFailures: 5 }`; give any of them to change it (a limit set to null turns that
   * guard off), `false` to turn every guard off. Over the last `windowDays` UTC days since the
   * last resume, with at least `minSends` emails handed to a server (delivered, hard bounced or
   * refused permanently), a mailbox or campaign whose hard bounces or complaints per email handed
   * pass their limit is paused until the host resumes it; so is a mailbox after
   * `maxConsecutiveFailures` sends in a row that failed permanently or could not connect or log
   * in. The rate guards need a store with counters (`CounterStore`): given explicitly on a store
   * without them, this is an `invalid-input` error; by default they are then off, with a warning.
   */
  guards?: boolean | Partial<GuardSettings>
  /** Receives a typed event for every send, failure, retry, skip, recovery and completion. */
  onEvent?: (event: SchedulerEvent) => void
  /** Default: silent. */
  logger?: Logger
}

export interface ResolvedOptions {
  store: Store
  transport: Transport
  mode: 'live' | 'shadow'
  beforeSend: SchedulerOptions['beforeSend']
  clock: Required<Clock>
  random: () => number
  concurrency: number
  maxSendsPerCampaignPerTick: number
  lookahead: number
  lease: number
  sendTimeout: number
  leaseRecovery: 'fail' | 'retry'
  retry: RetryPolicy
  campaignFilter: SchedulerOptions['campaignFilter']
  interval: number
  unsubscribeUrl: UnsubscribeUrl | undefined
  holidays: HolidayCalendar | undefined
  outOfOfficeDelay: number
  /** Provider matching's lookups and their cache, one per scheduler (scheduler/providers.ts). */
  providers: ProviderResolver
  emit: (event: SchedulerEvent) => void
  logger: Logger
  /** The guards' counting and pausing (scheduler/guards.ts), one per scheduler. */
  guards: Guards
  /**
   * Internal, not a {@link SchedulerOptions} field: in shadow mode, a send builds no message and
   * calls no transport, and is recorded with an empty subject; it still reserves and completes as
   * any other (see `deliver.ts`). The forecast's simulation sets it: it counts sends and reads
   * none of their content. Has no effect with `beforeSend` or `unsubscribeUrl`, hooks that read
   * the message or may refuse it.
   */
  shadowWithoutMessage?: boolean
}

const noop = () => {}
const shadowTransport: Transport = { send: async () => ({ response: 'shadow: not sent' }) }
const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const systemClock: Clock = { now: () => new Date() }

const L = INPUT_LIMITS

/** An optional integer option in [min, max]; `fallback` when it is not given. */
function intOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : checkInteger(name, value, min, max)
}

/** An optional function option. */
function functionOption<F>(name: string, value: unknown): F | undefined {
  return value === undefined ? undefined : checkFunction<F>(name, value)
}

/** An object whose listed members are functions (a store, a transport, a logger, a clock). */
function objectWith<T>(
  name: string,
  value: unknown,
  methods: readonly string[],
  optional: readonly string[] = [],
): T {
  const object = checkObject(name, value)
  for (const method of methods) checkFunction(`${name}.${method}`, object[method])
  for (const method of optional) functionOption(`${name}.${method}`, object[method])
  return value as T
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  throw invalidInput(
    name,
    `must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${describeValue(value)}`,
  )
}

function checkRetry(value: unknown): RetryPolicy {
  if (value === undefined) return DEFAULT_RETRY
  const retry = checkObject('retry', value)
  const resolved: RetryPolicy = {
    maxAttempts: intOption(
      'retry.maxAttempts',
      retry.maxAttempts,
      DEFAULT_RETRY.maxAttempts,
      1,
      L.retryAttempts,
    ),
    baseDelayMs: intOption(
      'retry.baseDelayMs',
      retry.baseDelayMs,
      DEFAULT_RETRY.baseDelayMs,
      0,
      L.retryDelay,
    ),
    maxDelayMs: intOption('retry.maxDelayMs', retry.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 0, L.retryDelay),
  }
  return resolved
}

function checkCampaignFilter(value: unknown): SchedulerOptions['campaignFilter'] {
  if (value === undefined || typeof value === 'function') return value as SchedulerOptions['campaignFilter']
  if (!Array.isArray(value))
    throw invalidInput(
      'campaignFilter',
      `must be an array of campaign ids or a function, got ${describeValue(value)}`,
    )
  return Array.from(value, (id, i) => checkId(`campaignFilter[${i}]`, id))
}

function checkResolveMx(value: unknown): ResolveMx | false {
  if (value === undefined) return resolveMxWithDns
  if (value === false || typeof value === 'function') return value as ResolveMx | false
  throw invalidInput('resolveMx', `must be a function or false, got ${describeValue(value)}`)
}

export function resolveOptions(options: SchedulerOptions): ResolvedOptions {
  checkObject('options', options)
  if (options.store === undefined)
    throw invalidInput('store', 'is required (for example createMemoryStore())')
  const store = checkObject('store', options.store) as unknown as Store
  const mode = oneOf('mode', options.mode === undefined ? 'live' : options.mode, ['live', 'shadow'] as const)
  if (mode === 'live' && options.transport === undefined)
    throw invalidInput('transport', "is required in mode 'live' (createSmtpTransport(…) or any { send })")
  const transport =
    options.transport === undefined
      ? undefined
      : objectWith<Transport>('transport', options.transport, ['send'], ['verify', 'close'])
  const beforeSend = functionOption<SchedulerOptions['beforeSend']>('beforeSend', options.beforeSend)
  const clock =
    options.clock === undefined ? systemClock : objectWith<Clock>('clock', options.clock, ['now'], ['sleep'])
  const logger =
    options.logger === undefined
      ? silentLogger
      : objectWith<Logger>('logger', options.logger, ['debug', 'info', 'warn', 'error'])
  const onEvent = functionOption<(event: SchedulerEvent) => void>('onEvent', options.onEvent)
  const random = functionOption<() => number>('random', options.random) ?? Math.random
  const unsubscribeUrl = functionOption<UnsubscribeUrl>('unsubscribeUrl', options.unsubscribeUrl)
  const leaseRecovery = oneOf(
    'leaseRecovery',
    options.leaseRecovery === undefined ? 'fail' : options.leaseRecovery,
    ['fail', 'retry'] as const,
  )
  const lease = intOption('lease', options.lease, 300_000, 1, L.lease)
  const sendTimeout = intOption(
    'sendTimeout',
    options.sendTimeout,
    Math.max(1, Math.floor(lease / 2)),
    1,
    L.lease,
  )
  if (options.sendTimeout !== undefined && sendTimeout >= lease)
    throw invalidInput('sendTimeout', `must be less than lease (${lease} ms), got ${sendTimeout}`)
  const resolveMx = checkResolveMx(options.resolveMx)
  const providers = createProviderResolver({
    resolveMx,
    timeoutMs: intOption('resolveMxTimeout', options.resolveMxTimeout, DEFAULT_RESOLVE_MX_TIMEOUT, 1, 60_000),
    now: () => clock.now().getTime(),
    logger,
  })
  const emit: (event: SchedulerEvent) => void = onEvent
    ? (event) => {
        try {
          onEvent(event)
        } catch (error) {
          // A throwing listener must not break a tick halfway through a send.
          logger.error({ err: error, event: event.type }, 'onEvent listener threw')
        }
      }
    : noop
  const resolvedClock: Required<Clock> = {
    now: () => clock.now(),
    sleep: clock.sleep ? (ms) => clock.sleep!(ms) : realSleep,
  }
  return {
    store,
    // Shadow mode swaps the transport for one that sends nothing: the rest of the engine is the same.
    transport: mode === 'shadow' || !transport ? shadowTransport : transport,
    mode,
    beforeSend,
    clock: resolvedClock,
    random,
    concurrency: intOption('concurrency', options.concurrency, 10, 1, L.concurrency),
    maxSendsPerCampaignPerTick: intOption(
      'maxSendsPerCampaignPerTick',
      options.maxSendsPerCampaignPerTick,
      1,
      1,
      L.maxSendsPerCampaignPerTick,
    ),
    lookahead: intOption('lookahead', options.lookahead, 30_000, 0, L.lookahead),
    lease,
    sendTimeout,
    leaseRecovery,
    retry: checkRetry(options.retry),
    campaignFilter: checkCampaignFilter(options.campaignFilter),
    interval: intOption('interval', options.interval, 30_000, 1, L.interval),
    unsubscribeUrl,
    holidays: functionOption<HolidayCalendar>('holidays', options.holidays),
    outOfOfficeDelay: intOption(
      'outOfOfficeDelay',
      options.outOfOfficeDelay,
      7 * 86_400_000,
      0,
      365 * 86_400_000,
    ),
    providers,
    emit,
    logger,
    guards: createGuards({ store, clock: resolvedClock, logger, emit, mode }, options.guards),
  }
}
