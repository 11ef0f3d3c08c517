/**
 * One tick: recover expired leases, then for every runnable campaign reserve → send → complete.
 * A store call never spans a transport call; overlapping ticks (in one process or many) are safe
 * because every reservation is an atomic compare-and-set in the store.
 *
 * The parts: tick/engine.ts (what every tick shares), tick/run-campaign.ts (one campaign's rounds),
 * tick/gate.ts (whether it may send now: its window, or its leads' window keys), and
 * tick/reserve-round.ts (one round's reservations and deliveries).
 */
import { isMailcadenceError, MailcadenceError } from '../errors.js'
import { createKeyCalendars, type KeyCalendars } from '../policy/zones.js'
import type { RunnableCampaign } from '../store.js'
import { createCandidates } from './candidates.js'
import type { TickResult, TickSkipReason } from './events.js'
import type { ResolvedOptions } from './options.js'
import { resolveMailboxProviders } from './providers.js'
import { advanceRamps } from './ramp.js'
import { createTickEngine, type TickRun } from './tick/engine.js'
import { runCampaign } from './tick/run-campaign.js'

export function createTick(
  options: ResolvedOptions,
  calendars: KeyCalendars = createKeyCalendars(options.holidays),
  /**
   * Before the campaigns run: the `autoWinner` check (scheduler/variants.ts), which throttles
   * itself and puts a campaign it changed back in its entry, so this tick already sends the winner.
   */
  beforeCampaigns?: (runnable: RunnableCampaign[]) => Promise<void>,
): () => Promise<TickResult> {
  const { store, clock, logger } = options
  const engine = createTickEngine(options, calendars)

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

    // Sends of this process past their timeout by this clock (a fake one that was moved on) are
    // given up and recorded first: recovery must not hand their items to `leaseRecovery: 'retry'`.
    const givenUp = engine.sendTimeouts.expire(startedAt)
    if (givenUp.length > 0) await Promise.allSettled(givenUp.map((id) => engine.delivering.get(id)))

    const recovered = await store.recoverExpiredLeases(startedAt, options.leaseRecovery)
    result.recovered = recovered.length
    for (const item of recovered) {
      options.emit({ type: 'recovered', at: startedAt, item })
      logger.warn(
        { itemId: item.itemId, campaignId: item.campaignId, status: item.status },
        'recovered expired lease',
      )
    }

    const horizon = startedAt.getTime() + options.lookahead
    const dueTimes: Date[] = []
    const runnable = await listRunnable(options, startedAt, horizon, dueTimes)
    result.campaigns = runnable.length

    // A loop, not flatMap: flatMap is several times slower, and this runs every tick.
    const mailboxIds = new Set<string>()
    for (const r of runnable) for (const id of r.campaign.mailboxIds) mailboxIds.add(id)
    const mailboxes = new Map(
      mailboxIds.size === 0 ? [] : (await store.getMailboxes([...mailboxIds])).map((m) => [m.id, m]),
    )
    // Provider matching: the mailboxes of matching campaigns not looked up yet (once each).
    if (runnable.some((r) => (r.campaign.providerMatching ?? 'off') !== 'off')) {
      const deps = { store, resolver: options.providers, now: () => clock.now(), logger }
      const campaigns = runnable.map((r) => r.campaign)
      for (const m of await resolveMailboxProviders(deps, campaigns, mailboxes.values()))
        mailboxes.set(m.id, m)
    }

    const first = runnable[0]
    if (first) {
      // Warm-up bookkeeping, once a day per ramping mailbox: a failure only delays it.
      await advanceRamps(options, mailboxes, first.campaign.id, startedAt).catch((err: unknown) => {
        logger.warn({ err }, 'could not move warm-up ramps on')
      })
    }

    const run: TickRun = {
      result,
      horizon,
      dueTimes,
      deferrals: [],
      mailboxes,
      candidates: createCandidates(mailboxes, engine.hourFull),
      skip(campaignId: string, reason: TickSkipReason, until?: Date | null) {
        result.skipped[reason] = (result.skipped[reason] ?? 0) + 1
        if (until) dueTimes.push(until)
        options.emit({ type: 'skipped', at: clock.now(), campaignId, reason, ...(until ? { until } : {}) })
      },
      async completeIfDrained(campaignId: string) {
        if (await store.completeIfDrained(campaignId, clock.now())) {
          options.emit({ type: 'campaign-completed', at: clock.now(), campaignId })
          logger.info({ campaignId }, 'campaign completed')
        }
      },
    }

    if (beforeCampaigns) await beforeCampaigns(runnable)
    const settled = await Promise.allSettled(runnable.map((r) => runCampaign(engine, run, r)))
    const { deferrals } = run
    if (deferrals.length > 0 && store.deferCampaigns) {
      // Only spares later ticks work: a tick that did its sends does not fail for it.
      await store.deferCampaigns(deferrals, clock.now()).catch((err: unknown) => {
        logger.warn({ err, campaigns: deferrals.length }, 'could not record closed windows')
      })
    }
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
 * The campaigns to look at. Those that cannot send before the horizon stay in the store (when it
 * can tell them apart): only the earliest of their items comes back, a lower bound of the next due
 * time, pushed on `dueTimes`.
 */
async function listRunnable(
  options: ResolvedOptions,
  startedAt: Date,
  horizon: number,
  dueTimes: Date[],
): Promise<RunnableCampaign[]> {
  const { store } = options
  const filter = options.campaignFilter
  const ids = Array.isArray(filter) ? { ids: filter } : undefined
  let runnable: RunnableCampaign[]
  if (store.listDueCampaigns) {
    const listed = await store.listDueCampaigns(startedAt, { dueBefore: new Date(horizon), ...ids })
    runnable = listed.campaigns
    if (listed.laterAt) dueTimes.push(listed.laterAt)
  } else {
    runnable = await store.listRunnableCampaigns(startedAt, ids)
  }
  if (typeof filter === 'function') {
    const keep = await Promise.all(runnable.map((r) => filter(r.campaign)))
    runnable = runnable.filter((_, i) => keep[i])
  }
  return runnable
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
