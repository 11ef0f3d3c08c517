/**
 * One tick: recover expired leases, then for every runnable campaign reserve → send → complete.
 * A store call never spans a transport call; overlapping ticks (in one process or many) are safe
 * because every reservation is an atomic compare-and-set in the store.
 */
import { randomUUID } from 'node:crypto'
import pLimit from 'p-limit'
import { isMailcadenceError, MailcadenceError } from '../errors.js'
import { makeMessageId } from '../message/build.js'
import type { Campaign, Mailbox } from '../model/types.js'
import { dayKey as localDayKey, nextLocalMidnight, windowDayKey } from '../policy/calendar.js'
import { nextSlot } from '../policy/pacing.js'
import { rotationOrder } from '../policy/rotation.js'
import type {
  Completion,
  CompletionOutcome,
  ReserveOutcome,
  ReserveRequest,
  RunnableCampaign,
} from '../store.js'
import { createBatcher } from './batcher.js'
import { deliver } from './deliver.js'
import { campaignDueAt, campaignLimitClears, isPaused, mailboxLimitClears } from './due.js'
import type { TickResult, TickSkipReason } from './events.js'
import type { ResolvedOptions } from './options.js'

/** Store calls coalesce up to 200 elements; four such calls may be in flight at once. */
const BATCHING = { maxBatch: 200, maxInFlight: 4 }
/** Reservations lost to another worker (pacing, not-due) per campaign per tick before giving up. */
const MAX_SOFT_ROUNDS = 3

export function createTick(options: ResolvedOptions): () => Promise<TickResult> {
  const { store, clock, logger } = options
  const reserve = createBatcher<ReserveRequest, ReserveOutcome>(
    (reqs) => store.reserveSends(reqs, clock.now()),
    BATCHING,
  )
  const complete = createBatcher<Completion, CompletionOutcome>(
    (items) => withStoreRetry(() => store.completeSends(items, clock.now())),
    BATCHING,
  )
  const limitSends = pLimit(options.concurrency)

  return async function tick(): Promise<TickResult> {
    const startedAt = clock.now()
    const t0 = performance.now()
    const result: TickResult = {
      sent: 0,
      failed: 0,
      retried: 0,
      vetoed: 0,
      skipped: {},
      recovered: 0,
      campaigns: 0,
      durationMs: 0,
      nextDueAt: null,
    }

    const recovered = await store.recoverExpiredLeases(startedAt, options.leaseRecovery)
    result.recovered = recovered.length
    for (const item of recovered) {
      options.emit({ type: 'recovered', at: startedAt, item })
      logger.warn(
        { itemId: item.itemId, campaignId: item.campaignId, status: item.status },
        'recovered expired lease',
      )
    }

    const filter = options.campaignFilter
    let runnable = await store.listRunnableCampaigns(
      startedAt,
      Array.isArray(filter) ? { ids: filter } : undefined,
    )
    if (typeof filter === 'function') {
      const keep = await Promise.all(runnable.map((r) => filter(r.campaign)))
      runnable = runnable.filter((_, i) => keep[i])
    }
    result.campaigns = runnable.length

    const mailboxIds = [...new Set(runnable.flatMap((r) => r.campaign.mailboxIds))]
    const mailboxes = new Map((await store.getMailboxes(mailboxIds)).map((m) => [m.id, m]))
    const horizon = startedAt.getTime() + options.lookahead
    const dayKeys = createDayKeyCache()
    const dueTimes: Date[] = []

    const skip = (campaignId: string, reason: TickSkipReason, until?: Date | null) => {
      result.skipped[reason] = (result.skipped[reason] ?? 0) + 1
      if (until) dueTimes.push(until)
      options.emit({ type: 'skipped', at: clock.now(), campaignId, reason, ...(until ? { until } : {}) })
    }

    const completeIfDrained = async (campaignId: string) => {
      if (await store.completeIfDrained(campaignId, clock.now())) {
        options.emit({ type: 'campaign-completed', at: clock.now(), campaignId })
        logger.info({ campaignId }, 'campaign completed')
      }
    }

    const runCampaign = async ({ campaign: stored, nextItemAt: firstItemAt }: RunnableCampaign) => {
      const campaign: Campaign = { ...stored }
      let nextItemAt = firstItemAt
      let sends = 0
      let softRounds = 0
      while (sends < options.maxSendsPerCampaignPerTick) {
        if (nextItemAt === null) {
          // Nothing pending: complete it now if nothing is in flight either (else a later tick will).
          await completeIfDrained(campaign.id)
          return
        }
        let now = clock.now()
        const due = campaignDueAt(campaign, nextItemAt, now)
        if (due.heldBy) {
          // Waiting is bounded by the horizon; lost races by MAX_SOFT_ROUNDS.
          if (due.at.getTime() > horizon || softRounds >= MAX_SOFT_ROUNDS) {
            if (sends === 0 || due.heldBy === 'outside-window') skip(campaign.id, due.heldBy, due.at)
            else dueTimes.push(due.at)
            return
          }
          // The slot falls before the next tick: wait for it here (nothing is reserved meanwhile).
          await clock.sleep(due.at.getTime() - now.getTime())
          now = clock.now()
        }
        // A send starts only inside the window: a wait that overshot its end looks again.
        const campaignDayKey = windowDayKey(campaign, now)
        if (campaignDayKey === null) {
          if (softRounds++ >= MAX_SOFT_ROUNDS) return
          continue
        }

        const ordered = rotationOrder(campaign.mailboxIds, campaign.lastMailboxId)
          .map((id) => mailboxes.get(id))
          .filter((m): m is Mailbox => m !== undefined)
        const usable = ordered.filter((m) => !isPaused(m, now))
        if (usable.length === 0) {
          const until = ordered.reduce<Date | null>(
            (min, m) => (m.pausedUntil && (!min || m.pausedUntil < min) ? m.pausedUntil : min),
            null,
          )
          skip(campaign.id, 'mailbox-paused', until)
          return
        }
        const unique = randomUUID()
        const nowMs = now.getTime()
        const request: ReserveRequest = {
          campaignId: campaign.id,
          leaseToken: randomUUID(),
          leaseUntil: new Date(now.getTime() + options.lease),
          campaignDayKey,
          maxEmailsPerDay: campaign.maxEmailsPerDay,
          nextSlotAt: nextSlot(now, campaign.delayBetweenEmails, campaign.jitter, options.random),
          mailboxes: usable.map((m) => ({
            mailboxId: m.id,
            dayKey: dayKeys.at(m.timezone, nowMs),
            dailyEmailLimit: m.dailyEmailLimit,
            messageId: makeMessageId(m.email, unique),
          })),
        }
        const outcome = await reserve(request)
        if (!outcome.ok && outcome.reason === 'store-unavailable') throw outcome.error
        if (!outcome.ok) {
          const { reason, until } = outcome
          if ((reason === 'pacing' || reason === 'not-due') && until) {
            // Another worker took the slot, or the due item went: look again with what we learnt.
            softRounds++
            if (reason === 'pacing') campaign.nextSlotAt = until
            else nextItemAt = until
            continue
          }
          if (reason === 'queue-empty') await completeIfDrained(campaign.id)
          if (sends > 0 && (reason === 'queue-empty' || reason === 'not-running')) return
          skip(campaign.id, reason, untilFor(reason, campaign, ordered, now))
          return
        }

        sends++
        campaign.nextSlotAt = request.nextSlotAt
        const { item } = outcome.send
        if (item.step === 0 && item.mailboxId) campaign.lastMailboxId = item.mailboxId
        const mailbox = mailboxes.get(item.mailboxId ?? '')
        if (!mailbox) throw new Error(`store reserved item ${item.id} on unknown mailbox ${item.mailboxId}`)
        const delivered = await limitSends(() =>
          deliver({
            options,
            campaign,
            mailbox,
            send: outcome.send,
            complete,
            onMailboxPaused: (m) => mailboxes.set(m.id, m),
          }),
        )
        result[DELIVERED_COUNTER[delivered.outcome]]++
        if (delivered.outcome === 'lease-expired') skip(campaign.id, 'lease-expired')
        nextItemAt = earliest(outcome.send.nextPendingAt, delivered.nextAt)
      }
      // The per-tick budget is spent; what is left waits for the next tick.
      if (nextItemAt) dueTimes.push(campaignDueAt(campaign, nextItemAt, clock.now()).at)
      else await completeIfDrained(campaign.id)
    }

    const settled = await Promise.allSettled(runnable.map(runCampaign))
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []))
    result.durationMs = Math.round(performance.now() - t0)
    const endedAt = clock.now().getTime()
    result.nextDueAt = dueTimes.reduce<Date | null>((min, d) => (!min || d < min ? d : min), null)
    if (result.nextDueAt && result.nextDueAt.getTime() < endedAt) result.nextDueAt = new Date(endedAt)
    if (errors.length > 0) {
      const first = errors[0]
      logger.error({ err: first, failedCampaigns: errors.length }, 'tick failed')
      if (isMailcadenceError(first)) throw first
      throw new MailcadenceError(
        'store-unavailable',
        `tick failed for ${errors.length} campaign(s): ${describe(first)}`,
        {
          cause: first,
        },
      )
    }
    logger.debug({ ...result }, 'tick done')
    return result
  }
}

/**
 * Local day keys per time zone, computed once per day rather than once per mailbox per
 * reservation: a tick offers every campaign mailbox as a candidate, which adds up.
 */
function createDayKeyCache() {
  const days = new Map<string, { key: string; from: number; until: number }>()
  return {
    at(timeZone: string, nowMs: number): string {
      const day = days.get(timeZone)
      if (day && nowMs >= day.from && nowMs < day.until) return day.key
      const now = new Date(nowMs)
      const key = localDayKey(now, timeZone)
      days.set(timeZone, { key, from: nowMs, until: nextLocalMidnight(now, timeZone).getTime() })
      return key
    },
  }
}

const DELIVERED_COUNTER = {
  sent: 'sent',
  failed: 'failed',
  retried: 'retried',
  vetoed: 'vetoed',
  'lease-expired': 'retried',
  'lease-lost': 'failed',
} as const

function earliest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b
  if (!b) return a
  return a < b ? a : b
}

function untilFor(reason: string, campaign: Campaign, mailboxes: readonly Mailbox[], now: Date): Date | null {
  if (reason === 'campaign-limit') return campaignLimitClears(campaign, now)
  if (reason === 'mailbox-limit') return mailboxLimitClears(campaign, mailboxes, now)
  return null
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Completing a send must not be lost to a short store outage: the mail has left, and without the
 * record recovery would mark it interrupted. Retries on `store-unavailable` for about eight seconds
 * (a database restart, a pool out of connections), well inside the default lease.
 */
async function withStoreRetry<T>(fn: () => Promise<T>): Promise<T> {
  const delays = [100, 250, 500, 1_000, 2_000, 4_000]
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      const delay = delays[attempt]
      if (delay === undefined || !isMailcadenceError(error, 'store-unavailable')) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}
