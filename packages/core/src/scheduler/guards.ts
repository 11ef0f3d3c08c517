/**
 * Guards, the effectful part: counts each send's outcome and each hard bounce or complaint reported
 * later in the store's counters (`CounterStore`), reads them back when a breach is possible, and
 * pauses the mailbox (until resumed) or the campaign (`PAUSED`) that breaches a limit. The rules
 * are policy/guards.ts's.
 *
 * Cost on the hot path: the sends of one batch of completions are counted in one `claimCounters`
 * call (createBatcher), summed per key. Figures are read back (`readCounters`) only after a hard
 * bounce or complaint, when this process's cached figures plus what it counted since say a breach is
 * possible, when its cache of an entity is older than {@link CACHE_TTL_MS} or from another UTC day,
 * and on the first send of an entity in this process: so figures other processes counted are seen
 * within that time at most.
 *
 * Consecutive failures are counted per mailbox in this process's memory (a scheduler instance):
 * several processes sending from one mailbox each count their own run; `resumeMailbox` resets the
 * run of the instance it is called on, and any success resets a run.
 */
import { invalidInput, MailcadenceError } from '../errors.js'
import { checkObject, checkText } from '../model/checks.js'
import { describeValue } from '../model/describe.js'
import { INPUT_LIMITS, LATEST_PAUSE_MS } from '../model/limits.js'
import type { Mailbox } from '../model/types.js'
import { emailKey, emailProblem } from '../model/validate.js'
import type { SendFailure } from '../policy/classify.js'
import {
  checkGuards,
  dayExpiry,
  describeTrip,
  FIGURE_KINDS,
  type Figures,
  figuresSince,
  GUARD_REASON_PREFIX,
  type GuardFigures,
  type GuardName,
  type GuardScope,
  type GuardSettings,
  guardKeys,
  hasRateGuards,
  type ResumeMark,
  rateBreach,
  reportKey,
  sendVerdict,
  TRIP_PARTS,
  type TripPart,
  tripCounts,
  tripOfCounts,
  utcDay,
  windowDays,
} from '../policy/guards.js'
import { keyToken } from '../policy/limit-keys.js'
import type { CounterClaim, CounterStore, SendLogEntry, Store } from '../store.js'
import { supportsCounters, supportsInbox } from '../store-kit/index.js'
import { createBatcher } from './batcher.js'
import type { SchedulerEvent } from './events.js'
import type { Clock, Logger } from './options.js'

/** How long cached figures of an entity are trusted for the "breach possible" estimate. */
export const CACHE_TTL_MS = 15 * 60_000
/** `readCounters` takes at most this many keys. */
const READ_CHUNK = 1_000
/** Counters core keeps as long as the entity lives (resume numbers). */
const FOREVER = new Date(LATEST_PAUSE_MS)

/** What `recordComplaint` is told: an address, or the Message-ID of the email complained about. */
export type ComplaintTarget = string | { email: string } | { messageId: string }

export interface ComplaintResult {
  /** The address suppressed, or null when a Message-ID matched no email we sent. */
  email: string | null
  /** Whether a send was found by its Message-ID (then the complaint counts for its guards). */
  matched: boolean
  /** Pending emails cancelled by the suppression. */
  cancelled: number
}

/** A trip of a campaign's guard, as explain() shows it. */
export interface GuardTrip {
  guard: GuardName
  figures: GuardFigures
  /** `hard bounces 3 of 50 (6.0%) over 7 days, limit 5%`. */
  description: string
}

export interface Guards {
  /** The settings in force; null when every guard is off (or in shadow mode). */
  readonly settings: GuardSettings | null
  /**
   * Counts one send's outcome (`failure` null: delivered) and pauses what it makes breach; a
   * mailbox it pauses is handed to `onMailboxPaused`. Never throws: a guard that cannot count
   * logs a warning, the send stays recorded.
   */
  afterSend(input: {
    mailbox: Mailbox
    campaignId: string
    failure: SendFailure | null
    onMailboxPaused: (mailbox: Mailbox) => void
  }): Promise<void>
  /** A hard bounce or a complaint reported later for this send (the inbox); once per send. Never throws. */
  countReported(kind: 'bounces' | 'complaints', send: SendLogEntry): Promise<void>
  recordComplaint(target: ComplaintTarget): Promise<ComplaintResult>
  /** Before a resume is written: from now on the entity's guards look only at what comes after. */
  resumed(scope: GuardScope, id: string): Promise<void>
  /** The trip that paused this campaign since its last resume, or null. */
  campaignTrip(campaignId: string): Promise<GuardTrip | null>
}

interface Deps {
  store: Store
  clock: Required<Clock>
  logger: Logger
  emit: (event: SchedulerEvent) => void
  mode: 'live' | 'shadow'
}

/** One mailbox or campaign, as this process last read its figures. */
interface Entity {
  scope: GuardScope
  id: string
  keys: ReturnType<typeof guardKeys>
  /** Its resume number as last read. */
  epoch: number
  resume: ResumeMark | null
  /** Figures of the last read (null: never read), and what this process counted since. */
  figures: Figures | null
  since: Figures
  readAt: number
  readDay: number
}

interface SendCount {
  mailboxId: string
  campaignId: string
  bounced: boolean
}

const hash = keyToken
const zero = (): Figures => ({ handed: 0, bounces: 0, complaints: 0 })

/**
 * The guards of a scheduler. `value` is the `guards` option as given: validated here
 * (`invalid-input` naming `guards.…`); explicit rate guards on a store without counters are refused,
 * default ones are turned off with one warning (the consecutive-failure guard needs no store).
 */
export function createGuards(deps: Deps, value: unknown): Guards {
  const { store, clock, logger } = deps
  const counters: (Store & CounterStore) | null = supportsCounters(store) ? store : null
  const on = settingsInForce(deps, checkGuards(value), value, counters !== null)
  const pauser = createPauser(deps, counters)
  const rates =
    on !== null && hasRateGuards(on) && counters !== null
      ? createRateGuards(deps, on, counters, pauser)
      : null
  // Consecutive failures per mailbox, in this process (see the file's comment).
  const runs = new Map<string, number>()

  /** The mailbox's run of consecutive failures after this send; at the limit, pauses it. */
  async function afterRun(mailbox: Mailbox, failure: SendFailure | null): Promise<Mailbox | null> {
    const limit = on?.maxConsecutiveFailures ?? null
    const { run } = sendVerdict(failure)
    if (limit === null || run === 'neutral') return null
    if (run === 'success' || failure === null) {
      runs.delete(mailbox.id)
      return null
    }
    const failures = (runs.get(mailbox.id) ?? 0) + 1
    if (failures < limit) {
      runs.set(mailbox.id, failures)
      return null
    }
    runs.delete(mailbox.id)
    const figures = { count: failures, limit }
    return pauser.pauseMailbox(mailbox.id, 'consecutive-failures', figures, failure.detail)
  }

  async function countReported(kind: 'bounces' | 'complaints', send: SendLogEntry): Promise<void> {
    try {
      await rates?.countReported(kind, send)
    } catch (err) {
      const where = { campaignId: send.campaignId, mailboxId: send.mailboxId }
      logger.warn({ err, ...where, kind }, 'guards: could not count a report')
    }
  }

  return {
    settings: on,
    async afterSend({ mailbox, campaignId, failure, onMailboxPaused }) {
      if (on === null) return
      try {
        const paused: Mailbox[] = []
        const stopped = await afterRun(mailbox, failure)
        if (stopped) paused.push(stopped)
        if (rates !== null && sendVerdict(failure).handed) {
          const bounced = failure?.action === 'bounce'
          paused.push(...(await rates.count({ mailboxId: mailbox.id, campaignId, bounced })))
        }
        for (const m of paused) onMailboxPaused(m)
      } catch (err) {
        logger.warn(
          { err, mailboxId: mailbox.id, campaignId },
          'guards: could not count a send (it is recorded)',
        )
      }
    },
    countReported,
    async recordComplaint(target) {
      const parsed = complaintTarget(target)
      const now = clock.now()
      if ('email' in parsed) {
        const { cancelled } = await store.suppress(emailKey(parsed.email), 'complaint', now)
        return { email: parsed.email, matched: false, cancelled }
      }
      if (!supportsInbox(store))
        throw new MailcadenceError(
          'invalid-state',
          'the store has no inbox methods (InboxStore): it cannot find a send by its Message-ID; pass the address instead',
        )
      const found = await store.findSentByMessageIds([parsed.messageId])
      const match = found.find((f) => f.send.messageId === parsed.messageId)
      if (!match) return { email: null, matched: false, cancelled: 0 }
      const { cancelled } = await store.suppress(emailKey(match.lead.email), 'complaint', now)
      await countReported('complaints', match.send)
      return { email: match.lead.email, matched: true, cancelled }
    },
    async resumed(scope, id) {
      if (scope === 'mailbox') runs.delete(id)
      await rates?.resumed(scope, id)
    },
    async campaignTrip(campaignId) {
      return counters === null ? null : readTrip(counters, guardKeys('campaign', campaignId, hash))
    },
  }
}

/** The settings in force: without counters, default rate guards are off (explicit ones refused). */
function settingsInForce(
  deps: Deps,
  checked: GuardSettings | null,
  value: unknown,
  hasCounters: boolean,
): GuardSettings | null {
  if (checked === null || deps.mode === 'shadow') return null
  if (!hasRateGuards(checked) || hasCounters) return checked
  if (value !== undefined)
    throw invalidInput(
      'guards',
      'the store has no counters (CounterStore), which the bounce- and complaint-rate guards need: pass guards: false, or maxBounceRate: null and maxComplaintRate: null',
    )
  deps.logger.warn(
    {},
    'guards: the store has no counters (CounterStore): bounce- and complaint-rate guards are off',
  )
  return { ...checked, maxBounceRate: null, maxComplaintRate: null }
}

/** The trip kept for a campaign since its last resume (`pauseCampaign`), or null. */
async function readTrip(
  counters: CounterStore,
  keys: ReturnType<typeof guardKeys>,
): Promise<GuardTrip | null> {
  const epoch = (await counters.readCounters([keys.epoch]))[keys.epoch] ?? 0
  const values = await counters.readCounters(TRIP_PARTS.map((part) => keys.trip(part, epoch)))
  const counts = Object.fromEntries(TRIP_PARTS.map((part) => [part, values[keys.trip(part, epoch)] ?? 0]))
  const trip = tripOfCounts(counts as Record<TripPart, number>)
  return trip ? { ...trip, description: describeTrip(trip.guard, trip.figures) } : null
}

// -- pausing ----------------------------------------------------------------------------------

function createPauser(deps: Deps, counters: CounterStore | null) {
  const { store, clock, logger } = deps

  function announce(
    target: { mailboxId: string } | { campaignId: string },
    guard: GuardName,
    figures: GuardFigures,
    reason: string,
  ) {
    deps.emit({ type: 'guard-tripped', at: clock.now(), guard, ...target, figures, reason })
    logger.warn({ ...target, guard, figures }, `guard tripped, paused until resumed: ${reason}`)
  }

  return {
    /** Pauses a mailbox until resumed, unless it already is; returns it when this call paused it. */
    async pauseMailbox(
      id: string,
      guard: GuardName,
      figures: GuardFigures,
      lastError?: string,
    ): Promise<Mailbox | null> {
      const [current] = await store.getMailboxes([id])
      if (!current || (current.pausedUntil && current.pausedUntil.getTime() >= LATEST_PAUSE_MS)) return null
      const last = lastError ? `; last: ${lastError}` : ''
      const reason = `${GUARD_REASON_PREFIX} ${describeTrip(guard, figures)}${last}`.slice(
        0,
        INPUT_LIMITS.reasonLength,
      )
      const now = clock.now()
      const until = new Date(LATEST_PAUSE_MS)
      const paused = await store.updateMailbox(id, { pausedUntil: until, pauseReason: reason }, now)
      if (!paused) return null
      deps.emit({ type: 'mailbox-paused', at: now, mailboxId: id, until, reason })
      announce({ mailboxId: id }, guard, figures, reason)
      return paused
    },

    /**
     * `IN_PROGRESS → PAUSED` (compare-and-set: one process wins), with the trip kept for explain()
     * under the campaign's resume number `epoch`.
     */
    async pauseCampaign(
      e: { id: string; keys: ReturnType<typeof guardKeys>; epoch: number },
      guard: GuardName,
      figures: GuardFigures,
    ): Promise<void> {
      const now = clock.now()
      const result = await store.setCampaignStatus(e.id, { from: ['IN_PROGRESS'], to: 'PAUSED' }, now)
      if (!result?.changed) return
      const counts = tripCounts(guard, figures)
      const claims = TRIP_PARTS.map(
        (part): CounterClaim => ({
          key: e.keys.trip(part, e.epoch),
          limit: counts[part],
          by: counts[part],
          expiresAt: FOREVER,
        }),
      )
      await counters?.claimCounters(claims, now)
      const reason = `${GUARD_REASON_PREFIX} ${describeTrip(guard, figures)}`
      announce({ campaignId: e.id }, guard, figures, reason)
    },
  }
}

// -- the rate guards: counting and reading figures ----------------------------------------------

function createRateGuards(
  deps: Deps,
  cfg: GuardSettings,
  counters: CounterStore,
  pauser: ReturnType<typeof createPauser>,
) {
  const { clock } = deps
  const book = createFigureBook(counters, cfg)

  /** Reads the entities' figures and pauses each that breaches; returns the mailboxes paused. */
  async function evaluate(list: readonly Entity[]): Promise<Mailbox[]> {
    await book.refresh(list, clock.now().getTime())
    const paused: Mailbox[] = []
    for (const e of list) {
      const breach = e.figures ? rateBreach(e.figures, cfg) : null
      if (!breach) continue
      if (e.scope === 'campaign') await pauser.pauseCampaign(e, breach.guard, breach.figures)
      else {
        const mailbox = await pauser.pauseMailbox(e.id, breach.guard, breach.figures)
        if (mailbox) paused.push(mailbox)
      }
    }
    return paused
  }

  /** One batch of counted sends: one claim, summed per key, then the reads a breach needs. */
  async function flush(batch: SendCount[]): Promise<Mailbox[][]> {
    const now = clock.now()
    const nowMs = now.getTime()
    const today = utcDay(nowMs)
    const expiresAt = dayExpiry(today, cfg.windowDays)
    const touched = new Map<Entity, { handed: number; bounces: number }>()
    for (const send of batch) {
      for (const e of [book.entity('mailbox', send.mailboxId), book.entity('campaign', send.campaignId)]) {
        const t = touched.get(e) ?? { handed: 0, bounces: 0 }
        t.handed++
        if (send.bounced) t.bounces++
        touched.set(e, t)
      }
    }
    // Each entity's keys are its own: one claim per key, with the batch's sum.
    const claims: CounterClaim[] = []
    for (const [e, t] of touched) {
      claims.push({ key: e.keys.day('handed', today), limit: null, by: t.handed, expiresAt })
      if (t.bounces > 0)
        claims.push({ key: e.keys.day('bounces', today), limit: null, by: t.bounces, expiresAt })
    }
    await counters.claimCounters(claims, now)
    for (const [e, t] of touched) {
      e.since.handed += t.handed
      e.since.bounces += t.bounces
    }
    const due = [...touched].filter(([e, t]) => t.bounces > 0 || book.needsRead(e, nowMs)).map(([e]) => e)
    const paused = await evaluate(due)
    return batch.map(() => paused)
  }

  return {
    count: createBatcher<SendCount, Mailbox[]>(flush, { maxBatch: 1_000, maxInFlight: 1 }),

    /** A hard bounce or complaint reported later for a send, counted on its send's day, once. */
    async countReported(kind: 'bounces' | 'complaints', send: SendLogEntry): Promise<void> {
      const now = clock.now()
      const day = utcDay(send.sentAt.getTime())
      // A send whose day left the window can change no figure.
      if (day < utcDay(now.getTime()) - cfg.windowDays + 1) return
      const list = [book.entity('mailbox', send.mailboxId), book.entity('campaign', send.campaignId)]
      await book.refresh(list, now.getTime())
      // A send made before the entity's last resume is an old figure: not counted.
      const counted = list.filter((e) => !e.resume || send.sentAt.getTime() >= e.resume.atMs)
      if (counted.length === 0) return
      const expiresAt = dayExpiry(day, cfg.windowDays)
      const claims: CounterClaim[] = [
        { key: reportKey(kind, hash(send.messageId)), limit: 1, expiresAt },
        ...counted.map((e) => ({ key: e.keys.day(kind, day), limit: null, expiresAt })),
      ]
      // Claimed with the report's key, all or nothing: a send's bounce or complaint counts once.
      if (await counters.claimCounters(claims, now)) await evaluate(counted)
    },

    /** A new resume number for the entity, with its instant and today's figures then. */
    async resumed(scope: GuardScope, id: string): Promise<void> {
      const e = book.entity(scope, id)
      e.figures = null
      const now = clock.now()
      const today = utcDay(now.getTime())
      await counters.claimCounters([{ key: e.keys.epoch, limit: null, expiresAt: FOREVER }], now)
      const values = await counters.readCounters([
        e.keys.epoch,
        ...FIGURE_KINDS.map((k) => e.keys.day(k, today)),
      ])
      const n = values[e.keys.epoch] ?? 0
      const minutes = Math.max(1, Math.floor(now.getTime() / 60_000))
      const expiresAt = dayExpiry(today, cfg.windowDays)
      const mark = (key: string, by: number): CounterClaim => ({ key, limit: by, by, expiresAt })
      // Written once per resume number (the first writer wins).
      await counters.claimCounters(
        [
          mark(e.keys.resumedAt(n), minutes),
          ...FIGURE_KINDS.map((k) => mark(e.keys.baseline(k, n), (values[e.keys.day(k, today)] ?? 0) + 1)),
        ],
        now,
      )
    },
  }
}

/** The mailboxes' and campaigns' figures as this process last read them, and the reading. */
function createFigureBook(counters: CounterStore, cfg: GuardSettings) {
  const entities = new Map<string, Entity>()

  async function read(keys: string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (let i = 0; i < keys.length; i += READ_CHUNK)
      Object.assign(out, await counters.readCounters(keys.slice(i, i + READ_CHUNK)))
    return out
  }

  const resumeKeys = (e: Entity, n: number) =>
    n === 0 ? [] : [e.keys.resumedAt(n), ...FIGURE_KINDS.map((k) => e.keys.baseline(k, n))]

  /** The resume mark of the entity's current resume number, from what was read. */
  function resumeOf(e: Entity, values: Record<string, number>): ResumeMark | null {
    const minutes = e.epoch === 0 ? 0 : (values[e.keys.resumedAt(e.epoch)] ?? 0)
    if (minutes === 0) return null
    const baseline = zero()
    for (const k of FIGURE_KINDS) baseline[k] = Math.max(0, (values[e.keys.baseline(k, e.epoch)] ?? 0) - 1)
    return { atMs: minutes * 60_000, baseline }
  }

  return {
    entity(scope: GuardScope, id: string): Entity {
      const key = `${scope}:${id}`
      let e = entities.get(key)
      if (!e) {
        const keys = guardKeys(scope, id, hash)
        e = { scope, id, keys, epoch: 0, resume: null, figures: null, since: zero(), readAt: 0, readDay: 0 }
        entities.set(key, e)
      }
      return e
    },

    /** Reads the entities' figures over the window (and their resume marks) into the book. */
    async refresh(list: readonly Entity[], nowMs: number): Promise<void> {
      if (list.length === 0) return
      const days = windowDays(nowMs, cfg.windowDays)
      const dayKeys = (e: Entity) => days.flatMap((d) => FIGURE_KINDS.map((k) => e.keys.day(k, d)))
      // The known resume number is a guess: when it moved, the new one's marks are read too.
      let values = await read(list.flatMap((e) => [e.keys.epoch, ...resumeKeys(e, e.epoch), ...dayKeys(e)]))
      const moved = list.filter((e) => (values[e.keys.epoch] ?? 0) !== e.epoch)
      for (const e of moved) e.epoch = values[e.keys.epoch] ?? 0
      if (moved.length > 0)
        values = { ...values, ...(await read(moved.flatMap((e) => resumeKeys(e, e.epoch)))) }
      for (const e of list) {
        e.resume = resumeOf(e, values)
        const perDay = new Map<number, Figures>()
        for (const d of days) {
          const figures = zero()
          for (const k of FIGURE_KINDS) figures[k] = values[e.keys.day(k, d)] ?? 0
          perDay.set(d, figures)
        }
        e.figures = figuresSince(perDay, days, e.resume)
        e.since = zero()
        e.readAt = nowMs
        e.readDay = utcDay(nowMs)
      }
    },

    /** Whether the entity's figures must be read now (see the file's comment). */
    needsRead(e: Entity, nowMs: number): boolean {
      if (e.figures === null || nowMs - e.readAt > CACHE_TTL_MS || utcDay(nowMs) !== e.readDay) return true
      const estimate = zero()
      for (const k of FIGURE_KINDS) estimate[k] = e.figures[k] + e.since[k]
      return rateBreach(estimate, cfg) !== null
    },
  }
}

/** `recordComplaint`'s argument: a string with `<…>` is a Message-ID, any other an address. */
function complaintTarget(target: unknown): { email: string } | { messageId: string } {
  const messageIdOf = (field: string, value: unknown) => ({
    messageId: checkText(field, value, INPUT_LIMITS.messageIdLength, {
      nonEmpty: true,
      singleLine: true,
    }).trim(),
  })
  const emailOf = (field: string, value: unknown) => {
    const problem =
      typeof value === 'string' ? emailProblem(value) : `must be a string, got ${describeValue(value)}`
    if (problem) throw invalidInput(field, problem)
    return { email: value as string }
  }
  if (typeof target === 'string')
    return target.trim().startsWith('<') ? messageIdOf('target', target) : emailOf('target', target)
  const input = checkObject('target', target)
  if (input.messageId !== undefined) return messageIdOf('target.messageId', input.messageId)
  if (input.email !== undefined) return emailOf('target.email', input.email)
  throw invalidInput('target', 'must be an address, a Message-ID (<…>), { email } or { messageId }')
}
