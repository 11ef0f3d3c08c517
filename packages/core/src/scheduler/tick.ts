/**
 * One tick: recover expired leases, then for every runnable campaign reserve → send → complete.
 * A store call never spans a transport call; overlapping ticks (in one process or many) are safe
 * because every reservation is an atomic compare-and-set in the store.
 */
import { randomUUID } from 'node:crypto'
import { isMailcadenceError, MailcadenceError } from '../errors.js'
import { makeMessageId } from '../message/build.js'
import type { Campaign, Mailbox } from '../model/types.js'
import { nextWindowOpen, windowDayKey } from '../policy/calendar.js'
import { addMs } from '../policy/instant.js'
import { nextSlot } from '../policy/pacing.js'
import type {
  CampaignDeferral,
  Completion,
  CompletionOutcome,
  MailboxCandidate,
  ReserveOutcome,
  ReserveRequest,
  RunnableCampaign,
} from '../store.js'
import { createBatcher } from './batcher.js'
import { type CandidateSet, createCandidates } from './candidates.js'
import { type Delivered, deliver } from './deliver.js'
import { campaignDueAt, campaignLimitClears, mailboxLimitClears } from './due.js'
import type { TickResult, TickSkipReason } from './events.js'
import type { ResolvedOptions } from './options.js'
import { createSendTimeouts } from './send-timeout.js'
import { createSlots } from './slots.js'

/** Store calls coalesce up to 200 elements; four such calls may be in flight at once. */
const BATCHING = { maxBatch: 200, maxInFlight: 4 }
/**
 * Reservations go one batch at a time: a store reserving a batch set-based locks the day counts of
 * the batch's mailboxes, so a second batch would only queue behind the first, while what waits
 * here goes out together as the next, larger, batch.
 */
const RESERVE_BATCHING = { maxBatch: 200, maxInFlight: 1 }
/** Reservations lost to another worker (pacing, not-due) per campaign per tick before giving up. */
const MAX_SOFT_ROUNDS = 3
/**
 * Most reservations of one campaign in one round (when its pacing lets several go at once): enough
 * for the store to reserve them set-based, few enough that the round's sends start soon.
 */
const MAX_REQUESTS_PER_ROUND = 50

export function createTick(options: ResolvedOptions): () => Promise<TickResult> {
  const { store, clock, logger } = options
  const reserve = createBatcher<ReserveRequest, ReserveOutcome>(
    (reqs) => store.reserveSends(reqs, clock.now()),
    RESERVE_BATCHING,
  )
  const complete = createBatcher<Completion, CompletionOutcome>(
    (items) => withStoreRetry(() => store.completeSends(items, clock.now())),
    BATCHING,
  )
  // After the batched call was refused: the same completion in a call of its own (deliver.ts).
  const completeAlone = async (completion: Completion): Promise<CompletionOutcome> => {
    const [outcome] = await withStoreRetry(() => store.completeSends([completion], clock.now()))
    if (outcome === undefined) throw new Error('completeSends returned no result')
    return outcome
  }
  // A send slot is taken before reserving and given back when the delivery is done: at most
  // `concurrency` items are reserved by this process and not yet recorded, so a crash strands no
  // more than that many (recovery fails them as interrupted), whatever the number of campaigns.
  const slots = createSlots(options.concurrency)
  // A send's slot comes back as soon as the transport returns or is given up at `sendTimeout` (its
  // completion, a store call, may still be on its way), or when the delivery ends without calling
  // the transport.
  // Slots held per item id (more than one only if an item expired and was reserved again while
  // its first delivery was still out): each release gives back all of an item's, so none is lost.
  const holding = new Map<string, number>()
  const holdSlot = (itemId: string) => holding.set(itemId, (holding.get(itemId) ?? 0) + 1)
  const releaseSlot = (itemId: string) => {
    const held = holding.get(itemId)
    if (held === undefined) return
    holding.delete(itemId)
    slots.release(held)
  }
  // No transport call keeps its slot, or the tick, longer than `sendTimeout` (send-timeout.ts).
  const sendTimeouts = createSendTimeouts(options.sendTimeout, clock)
  const sendWithin = <T>(itemId: string, call: Promise<T>) => sendTimeouts.within(itemId, call)
  // Deliveries under way in this process, by item id, for a tick that gives some of them up.
  const delivering = new Map<string, Promise<Delivered>>()

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
    const givenUp = sendTimeouts.expire(startedAt)
    if (givenUp.length > 0) await Promise.allSettled(givenUp.map((id) => delivering.get(id)))

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
    const ids = Array.isArray(filter) ? { ids: filter } : undefined
    const horizon = startedAt.getTime() + options.lookahead
    const dueTimes: Date[] = []
    // Campaigns whose window stays closed past the horizon: the store may leave them out of the next
    // ticks' lists until it opens (Store.deferCampaigns).
    const deferrals: CampaignDeferral[] = []
    // Campaigns that cannot send before the horizon stay in the store (when it can tell them
    // apart): only the earliest of their items comes back, a lower bound of the next due time.
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
    result.campaigns = runnable.length

    // A loop, not flatMap: flatMap is several times slower, and this runs every tick.
    const mailboxIds = new Set<string>()
    for (const r of runnable) for (const id of r.campaign.mailboxIds) mailboxIds.add(id)
    const mailboxes = new Map(
      mailboxIds.size === 0 ? [] : (await store.getMailboxes([...mailboxIds])).map((m) => [m.id, m]),
    )
    const candidates = createCandidates(mailboxes)

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
      // Rounds start with one request and double while every request of a round succeeds, up to
      // MAX_REQUESTS_PER_ROUND: a campaign with one email due asks for one.
      let roundSize = 1
      let candidateSet: CandidateSet | undefined
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
            if (due.heldBy === 'outside-window') {
              // From the settings and the clock alone, not the queue: an item added later changes nothing.
              const opens = nextWindowOpen(campaign, now)
              if (opens.getTime() > horizon)
                deferrals.push({
                  campaignId: campaign.id,
                  until: opens,
                  settingsVersion: stored.settingsVersion,
                })
            }
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

        // The campaign's mailboxes, those not paused and their day keys, kept while they hold.
        candidateSet = candidates.at(campaign, now, candidateSet)
        const { ordered, usable, entries } = candidateSet
        if (usable.length === 0) {
          skip(campaign.id, 'mailbox-paused', candidateSet.pausedUntil)
          return
        }
        // Requests for this round: one, or, while each leaves the pacing slot open now (no delay
        // between emails), several, which the store handles in order, each on its own, in one
        // batch. The rotation lets the store give each unassigned item the next mailbox in turn.
        const granted = await slots.acquire(Math.min(options.maxSendsPerCampaignPerTick - sends, roundSize))
        // Waiting for a slot may have taken a while: a stale `now` would only make the store refuse.
        if (clock.now().getTime() !== now.getTime()) {
          now = clock.now()
          const moved = windowDayKey(campaign, now) !== campaignDayKey
          if (moved || campaignDueAt(campaign, nextItemAt, now).heldBy) {
            slots.release(granted)
            continue
          }
        }
        const nowMs = now.getTime()
        const requests: ReserveRequest[] = []
        const leaseUntil = addMs(now, options.lease)
        do {
          const unique = randomUUID()
          // One Message-ID string per sender domain (makeMessageId depends on the domain only):
          // candidates usually share a few domains.
          let lastDomain: string | undefined
          let lastId = ''
          const offered = entries.map((e): MailboxCandidate => {
            if (e.domain !== lastDomain) {
              lastDomain = e.domain
              lastId = makeMessageId(e.email, unique)
            }
            return { mailboxId: e.id, dayKey: e.dayKey, dailyEmailLimit: e.limit, messageId: lastId }
          })
          requests.push({
            campaignId: campaign.id,
            leaseToken: randomUUID(),
            leaseUntil,
            campaignDayKey,
            maxEmailsPerDay: campaign.maxEmailsPerDay,
            nextSlotAt: nextSlot(now, campaign.delayBetweenEmails, campaign.jitter, options.random),
            mailboxes: offered,
            rotation: campaign.mailboxIds,
          })
        } while (requests.length < granted && requests[requests.length - 1]!.nextSlotAt.getTime() <= nowMs)
        let outcomes: ReserveOutcome[]
        try {
          outcomes = await Promise.all(requests.map(reserve))
        } catch (error) {
          slots.release(granted)
          throw error
        }
        slots.release(granted - outcomes.filter((o) => o.ok).length)

        // Every reservation made is delivered (sends run side by side, up to `concurrency`), even
        // when a later request of the round failed: a reserved item left alone would only come back
        // through lease recovery.
        const deliveries: Array<Promise<Delivered>> = []
        let refused: ReserveOutcome | undefined
        for (const [i, outcome] of outcomes.entries()) {
          if (!outcome.ok) {
            refused ??= outcome
            continue
          }
          sends++
          campaign.nextSlotAt = requests[i]!.nextSlotAt
          const send = outcome.send
          if (send.item.step === 0 && send.item.mailboxId) campaign.lastMailboxId = send.item.mailboxId
          nextItemAt = send.nextPendingAt
          const mailbox = mailboxes.get(send.item.mailboxId ?? '')
          if (!mailbox) {
            slots.release(1)
            deliveries.push(
              Promise.reject(
                new Error(`store reserved item ${send.item.id} on unknown mailbox ${send.item.mailboxId}`),
              ),
            )
            continue
          }
          holdSlot(send.item.id)
          const delivery = deliver({
            options,
            campaign,
            mailbox,
            send,
            reservedSlot: requests[i]!.nextSlotAt,
            complete,
            completeAlone,
            sendWithin,
            onTransportDone: () => releaseSlot(send.item.id),
            onMailboxPaused: (m) => {
              candidates.update(m)
            },
          }).finally(() => {
            releaseSlot(send.item.id)
            if (delivering.get(send.item.id) === delivery) delivering.delete(send.item.id)
          })
          delivering.set(send.item.id, delivery)
          deliveries.push(delivery)
        }
        const delivered = await Promise.allSettled(deliveries)
        for (const d of delivered) {
          if (d.status === 'rejected') throw d.reason
          result[DELIVERED_COUNTER[d.value.outcome]]++
          if (d.value.outcome === 'lease-expired') skip(campaign.id, 'lease-expired')
          nextItemAt = earliest(nextItemAt, d.value.nextAt)
        }
        if (refused === undefined || refused.ok) {
          if (requests.length === granted) roundSize = Math.min(roundSize * 2, MAX_REQUESTS_PER_ROUND)
          continue
        }
        if (refused.reason === 'store-unavailable') throw refused.error
        const { reason } = refused
        const until = 'until' in refused ? refused.until : undefined
        if ((reason === 'pacing' || reason === 'not-due') && until) {
          // Another worker took the slot, or the due item went: look again with what we learnt.
          softRounds++
          if (reason === 'pacing') {
            if (!campaign.nextSlotAt || until > campaign.nextSlotAt) campaign.nextSlotAt = until
          } else if (deliveries.length === 0) nextItemAt = until
          continue
        }
        if (reason === 'queue-empty') await completeIfDrained(campaign.id)
        if (sends > 0 && (reason === 'queue-empty' || reason === 'not-running')) return
        skip(campaign.id, reason, untilFor(reason, campaign, ordered, now))
        return
      }
      // The per-tick budget is spent; what is left waits for the next tick.
      if (nextItemAt) dueTimes.push(campaignDueAt(campaign, nextItemAt, clock.now()).at)
      else await completeIfDrained(campaign.id)
    }

    const settled = await Promise.allSettled(runnable.map(runCampaign))
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
  return a.getTime() < b.getTime() ? a : b
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
