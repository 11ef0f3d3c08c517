import type { UnsubscribeUrl } from '../message/build.js'
import type { Campaign, Lead, Mailbox } from '../model/types.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../policy/backoff.js'
import type { Store } from '../store.js'
import type { Transport } from '../transport.js'
import type { SchedulerEvent } from './events.js'

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
   * Asked before each email leaves, after it is reserved and built: return `false` to veto it
   * (for example when the legacy sender's send log already has this lead and step, as the seed
   * checked `SendLog` before sending). A vetoed email ends `cancelled` with reason
   * `skipped-already-sent`, not failed, and the lead's sequence goes no further here. If it
   * throws, nothing is sent and the email is retried later without spending an attempt.
   */
  beforeSend?: (send: BeforeSendContext) => boolean | undefined | Promise<boolean | undefined>
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
   * `clock` at the start of each tick, so a test moving a fake clock past it ends the wait.
   * Default half the lease (150 000).
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
  emit: (event: SchedulerEvent) => void
  logger: Logger
}

const noop = () => {}
const shadowTransport: Transport = { send: async () => ({ response: 'shadow: not sent' }) }
const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const systemClock: Clock = { now: () => new Date() }

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min)
    throw new TypeError(`${name} must be an integer >= ${min}, got ${value}`)
  return value
}

export function resolveOptions(options: SchedulerOptions): ResolvedOptions {
  if (!options?.store) throw new TypeError('createScheduler: `store` is required')
  const mode = options.mode ?? 'live'
  if (mode !== 'live' && mode !== 'shadow')
    throw new TypeError(`createScheduler: \`mode\` must be 'live' or 'shadow', got ${String(mode)}`)
  if (mode === 'live' && !options.transport) throw new TypeError('createScheduler: `transport` is required')
  if (options.beforeSend !== undefined && typeof options.beforeSend !== 'function')
    throw new TypeError('createScheduler: `beforeSend` must be a function')
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger
  const onEvent = options.onEvent
  const retry = { ...DEFAULT_RETRY, ...options.retry }
  positiveInt('retry.maxAttempts', retry.maxAttempts, 1)
  positiveInt('retry.baseDelayMs', retry.baseDelayMs, 0, 0)
  positiveInt('retry.maxDelayMs', retry.maxDelayMs, 0, 0)
  const lease = positiveInt('lease', options.lease, 300_000)
  const sendTimeout = positiveInt('sendTimeout', options.sendTimeout, Math.max(1, Math.floor(lease / 2)))
  if (options.sendTimeout !== undefined && sendTimeout >= lease)
    throw new TypeError(`sendTimeout must be less than lease (${lease}), got ${sendTimeout}`)
  return {
    store: options.store,
    // Shadow mode swaps the transport for one that sends nothing: the rest of the engine is the same.
    transport: mode === 'shadow' || !options.transport ? shadowTransport : options.transport,
    mode,
    beforeSend: options.beforeSend,
    clock: { now: () => clock.now(), sleep: clock.sleep ? (ms) => clock.sleep!(ms) : realSleep },
    random: options.random ?? Math.random,
    concurrency: positiveInt('concurrency', options.concurrency, 10),
    maxSendsPerCampaignPerTick: positiveInt(
      'maxSendsPerCampaignPerTick',
      options.maxSendsPerCampaignPerTick,
      1,
    ),
    lookahead: positiveInt('lookahead', options.lookahead, 30_000, 0),
    lease,
    sendTimeout,
    leaseRecovery: options.leaseRecovery ?? 'fail',
    retry,
    campaignFilter: options.campaignFilter,
    interval: positiveInt('interval', options.interval, 30_000),
    unsubscribeUrl: options.unsubscribeUrl,
    emit: onEvent
      ? (event) => {
          try {
            onEvent(event)
          } catch (error) {
            // A throwing listener must not break a tick halfway through a send.
            logger.error({ err: error, event: event.type }, 'onEvent listener threw')
          }
        }
      : noop,
    logger,
  }
}
