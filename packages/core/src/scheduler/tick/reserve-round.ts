/**
 * One reservation round of a campaign: the requests (one, or several while the pacing slot stays
 * open now), their reservations, and the delivery of every item reserved.
 */
import { randomUUID } from 'node:crypto'
import { makeMessageId } from '../../message/build.js'
import type { Campaign, Mailbox } from '../../model/types.js'
import { addMs } from '../../policy/instant.js'
import { nextSlot } from '../../policy/pacing.js'
import type { MailboxCandidate, ReservedSend, ReserveOutcome, ReserveRequest } from '../../store.js'
import type { CandidateSet } from '../candidates.js'
import { type Delivered, deliver } from '../deliver.js'
import type { TickEngine, TickRun } from './engine.js'
import type { Gate } from './gate.js'
import { giveBack } from './give-back.js'
import { admitRound, claimsLimits, type HeldSend, type RoundSend } from './limit-claims.js'
import { PROVIDER_WAIT_ERROR, type ProviderRouting } from './provider-routing.js'

/** A campaign's progress through one tick, which the rounds move on. */
export interface CampaignProgress {
  /** The campaign as this tick sees it: pacing slot and rotation move with its sends. */
  campaign: Campaign
  /** Earliest `scheduledAt` of its pending items as last seen; null when none. */
  nextItemAt: Date | null
  sends: number
  /** Provider matching (tick/provider-routing.ts); absent when the campaign's is `'off'`. */
  routing?: ProviderRouting | null
}

export interface RoundOutcome {
  requests: number
  /** Reservations made (each delivered). */
  reserved: number
  /** Reservations given back because a limit claimed after them was reached (tick/limit-claims.ts). */
  held?: number
  /** The first refusal of the round, if any. */
  refused?: Exclude<ReserveOutcome, { ok: true }>
}

/**
 * Requests for this round: one, or, while each leaves the pacing slot open now (no delay between
 * emails), several, which the store handles in order, each on its own, in one batch. The rotation
 * lets the store give each unassigned item the next mailbox in turn.
 */
export function buildRequests(
  engine: TickEngine,
  campaign: Campaign,
  gate: Gate & { campaignDayKey: string },
  entries: CandidateSet['entries'],
  now: Date,
  granted: number,
): ReserveRequest[] {
  const { options } = engine
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
    const request: ReserveRequest = {
      campaignId: campaign.id,
      leaseToken: randomUUID(),
      leaseUntil,
      campaignDayKey: gate.campaignDayKey,
      maxEmailsPerDay: gate.maxEmailsPerDay,
      nextSlotAt: nextSlot(now, campaign.delayBetweenEmails, campaign.jitter, options.random),
      mailboxes: offered,
      rotation: gate.rotation ?? campaign.mailboxIds,
    }
    if (gate.windowKeys) request.windowKeys = gate.windowKeys
    requests.push(request)
  } while (requests.length < granted && requests[requests.length - 1]!.nextSlotAt.getTime() <= nowMs)
  return requests
}

/**
 * Reserves the requests (holding `granted` send slots, given back for those not reserved) and
 * delivers every reservation made, sends side by side up to `concurrency`, even when a later
 * request of the round failed: a reserved item left alone would only come back through lease
 * recovery. Counts the deliveries' outcomes in the tick's result.
 */
export async function reserveAndDeliver(
  engine: TickEngine,
  run: TickRun,
  progress: CampaignProgress,
  requests: readonly ReserveRequest[],
  granted: number,
  /** When the campaign's day ends: a recipient domain held by its limit waits for it. */
  dayClears: () => Date,
): Promise<RoundOutcome> {
  const { slots } = engine
  let outcomes: ReserveOutcome[]
  try {
    outcomes = await Promise.all(requests.map(engine.reserve))
  } catch (error) {
    slots.release(granted)
    throw error
  }
  slots.release(granted - outcomes.filter((o) => o.ok).length)

  const { campaign } = progress
  const deliveries: Array<Promise<Delivered | 'held'>> = []
  const reserved: Array<RoundSend & { slot: Date }> = []
  const givenBack: Array<Promise<void>> = []
  let refused: RoundOutcome['refused']
  for (const [i, outcome] of outcomes.entries()) {
    if (!outcome.ok) {
      refused ??= outcome
      continue
    }
    const send = outcome.send
    if (progress.routing?.misplaced(send)) {
      // Strict provider matching: a first email on a mailbox of another provider goes back.
      const back = { retryAt: engine.options.clock.now(), error: PROVIDER_WAIT_ERROR }
      givenBack.push(giveBack(engine, send, requests[i]!.nextSlotAt, back).finally(() => slots.release(1)))
      continue
    }
    progress.sends++
    campaign.nextSlotAt = requests[i]!.nextSlotAt
    if (send.item.step === 0 && send.item.mailboxId) campaign.lastMailboxId = send.item.mailboxId
    progress.nextItemAt = send.nextPendingAt
    const mailbox = run.mailboxes.get(send.item.mailboxId ?? '')
    if (!mailbox) {
      slots.release(1)
      deliveries.push(
        Promise.reject(
          new Error(`store reserved item ${send.item.id} on unknown mailbox ${send.item.mailboxId}`),
        ),
      )
      continue
    }
    engine.holdSlot(send.item.id)
    reserved.push({
      send,
      mailbox,
      campaignDayKey: requests[i]!.campaignDayKey,
      slot: requests[i]!.nextSlotAt,
    })
  }
  // The hourly and recipient-domain limits, claimed for the whole round (tick/limit-claims.ts).
  let verdicts: Array<HeldSend | null> = reserved.map(() => null)
  if (reserved.length > 0 && claimsLimits(campaign, run.mailboxes)) {
    try {
      verdicts = await admitRound(engine, campaign, reserved, dayClears, engine.options.clock.now())
    } catch (error) {
      // Nothing left: give the items back as they were (or, if the store cannot take even that,
      // lease recovery will), and fail the campaign's tick.
      const now = engine.options.clock.now()
      const unchecked = { retryAt: now, error: 'limits could not be checked: the store failed' }
      await Promise.allSettled(reserved.map((r) => giveBack(engine, r.send, r.slot, unchecked)))
      for (const r of reserved) engine.releaseSlot(r.send.item.id)
      // Settled here, so that none of them is left rejected and unhandled.
      await Promise.allSettled([...deliveries, ...givenBack])
      throw error
    }
  }
  for (const [j, { send, mailbox, slot: reservedSlot }] of reserved.entries()) {
    const held = verdicts[j]
    const delivery = (
      held
        ? holdBack(engine, run, progress, send, mailbox, reservedSlot, held)
        : deliver({
            options: engine.options,
            campaign,
            mailbox,
            send,
            reservedSlot,
            complete: engine.complete,
            completeAlone: engine.completeAlone,
            sendWithin: engine.sendWithin,
            onTransportDone: () => engine.releaseSlot(send.item.id),
            onMailboxPaused: (m) => {
              run.candidates.update(m)
            },
          })
    ).finally(() => {
      engine.releaseSlot(send.item.id)
      if (engine.delivering.get(send.item.id) === delivery) engine.delivering.delete(send.item.id)
    })
    engine.delivering.set(send.item.id, delivery)
    deliveries.push(delivery)
  }
  const delivered = await Promise.allSettled(deliveries)
  for (const g of await Promise.allSettled(givenBack)) if (g.status === 'rejected') throw g.reason
  let held = 0
  for (const d of delivered) {
    if (d.status === 'rejected') throw d.reason
    if (d.value === 'held') {
      held++
      continue
    }
    run.result[DELIVERED_COUNTER[d.value.outcome]]++
    if (d.value.outcome === 'lease-expired') run.skip(campaign.id, 'lease-expired')
    progress.nextItemAt = earliest(progress.nextItemAt, d.value.nextAt)
  }
  return {
    requests: requests.length,
    reserved: deliveries.length - held,
    ...(held > 0 ? { held } : {}),
    ...(refused ? { refused } : {}),
  }
}

/** A reserved send a limit holds back: given back untouched, and the tick told why. */
async function holdBack(
  engine: TickEngine,
  run: TickRun,
  progress: CampaignProgress,
  send: ReservedSend,
  mailbox: Mailbox,
  reservedSlot: Date,
  held: HeldSend,
): Promise<'held'> {
  await giveBack(engine, send, reservedSlot, held)
  const { campaign } = progress
  // The slot went back to the store (compare-and-set): so it does here.
  if (campaign.nextSlotAt === reservedSlot) campaign.nextSlotAt = null
  // A mailbox at its hourly cap is no candidate for the rest of the hour.
  if (held.reason === 'hourly-limit') run.candidates.update(mailbox)
  run.skip(campaign.id, held.reason, held.until)
  return 'held'
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
