/**
 * One campaign's part of a tick: rounds of reserve → send → complete until its per-tick budget is
 * spent or something holds it back (its window, its leads' windows, pacing, limits), then why.
 */
import type { RunnableCampaign } from '../../store.js'
import { type CandidateSet, noUsableMailbox } from '../candidates.js'
import { mailboxLimitClears } from '../due.js'
import type { TickEngine, TickRun } from './engine.js'
import { type CampaignGate, createGate, type Gate, isWindowHold } from './gate.js'
import { createProviderRouting, type ProviderRouting } from './provider-routing.js'
import {
  buildRequests,
  type CampaignProgress,
  type RoundOutcome,
  reserveAndDeliver,
} from './reserve-round.js'

/** Reservations lost to another worker (pacing, not-due) per campaign per tick before giving up. */
const MAX_SOFT_ROUNDS = 3
/**
 * Most reservations of one campaign in one round (when its pacing lets several go at once): enough
 * for the store to reserve them set-based, few enough that the round's sends start soon.
 */
const MAX_REQUESTS_PER_ROUND = 50

/**
 * How soon a campaign whose due emails wait for a mailbox that is out looks again (nextDueAt): a
 * `mailbox-limit` refusal carries no instant at which another email comes due.
 */
const HELD_MAILBOX_RECHECK_MS = 30_000

/** Refusals that say the keys asked for have nothing that can leave now (other keys may). */
const NOTHING_LEFT_IN_KEYS = new Set(['window-closed', 'not-due', 'mailbox-limit'])

export async function runCampaign(
  engine: TickEngine,
  run: TickRun,
  { campaign: stored, nextItemAt }: RunnableCampaign,
): Promise<void> {
  const { options } = engine
  const { clock } = options
  const progress: CampaignProgress = { campaign: { ...stored }, nextItemAt, sends: 0 }
  const { campaign } = progress
  // Provider matching: each round serves one provider group of the open keys.
  const routing = createProviderRouting(engine, campaign, run.mailboxes, () => clock.now())
  progress.routing = routing
  const gate = createGate(engine.calendars, options.store, campaign)
  let softRounds = 0
  // Rounds start with one request and double while every request of a round succeeds, up to
  // MAX_REQUESTS_PER_ROUND: a campaign with one email due asks for one.
  let roundSize = 1
  let candidateSet: CandidateSet | undefined
  // In its leads' hours, the keys that opened last are asked for first (Gate.newestKeys), until
  // they have nothing that can leave; then every open key.
  let newestFirst = true
  const keyedForProvidersOnly = routing !== null && campaign.windowTimezone !== 'lead' && !options.holidays
  while (progress.sends < options.maxSendsPerCampaignPerTick) {
    if (gate.refresh) {
      await gate.refresh()
      if (gate.drained) progress.nextItemAt = null
    }
    if (progress.nextItemAt === null) {
      // Nothing pending: complete it now if nothing is in flight either (else a later tick will).
      await run.completeIfDrained(campaign.id)
      return
    }
    let now = clock.now()
    let look = gate.look(progress.nextItemAt, now)
    if (look.heldBy) {
      // Waiting is bounded by the horizon; lost races by MAX_SOFT_ROUNDS.
      if (look.at.getTime() > run.horizon || softRounds >= MAX_SOFT_ROUNDS) {
        hold(run, gate, progress, look, now, stored.settingsVersion)
        return
      }
      // The slot falls before the next tick: wait for it here (nothing is reserved meanwhile).
      await clock.sleep(look.at.getTime() - now.getTime())
      now = clock.now()
      look = gate.look(progress.nextItemAt, now)
    }
    if (look.heldBy || look.campaignDayKey === null) {
      if (softRounds++ >= MAX_SOFT_ROUNDS) return
      continue
    }

    // The campaign's mailboxes, those not paused nor on a skip date and their day keys, kept while they hold.
    candidateSet = run.candidates.at(campaign, now, candidateSet)
    if (candidateSet.usable.length === 0) {
      const { reason, until } = noUsableMailbox(candidateSet)
      run.skip(campaign.id, reason, until)
      return
    }
    const granted = await engine.slots.acquire(
      Math.min(options.maxSendsPerCampaignPerTick - progress.sends, roundSize),
    )
    // Waiting for a slot may have taken a while: a stale `now` would only make the store refuse.
    if (clock.now().getTime() !== now.getTime()) {
      now = clock.now()
      const moved = gate.look(progress.nextItemAt, now)
      if (moved.heldBy || moved.campaignDayKey !== look.campaignDayKey) {
        engine.slots.release(granted)
        continue
      }
      look = moved
    }
    const newest = newestFirst ? look.newestKeys : undefined
    // The look itself unless narrowed: spreading an empty object in is a slow path, on every round.
    let open = (newest ? { ...look, windowKeys: newest } : look) as Gate & { campaignDayKey: string }
    const group = routing && open.windowKeys ? routing.pick(open.windowKeys, gate.keyStats?.() ?? []) : null
    if (routing && open.windowKeys && group === null) {
      // Every provider group of these keys is out for this tick.
      engine.slots.release(granted)
      if (newest) {
        newestFirst = false
        routing.reopen()
        continue
      }
      const next = await afterGroups(run, gate, progress, routing, candidateSet, now, softRounds)
      if (next === 'stop') return
      softRounds++
      continue
    }
    if (group) open = { ...open, windowKeys: group.keys, rotation: group.rotation }
    const requests = buildRequests(engine, campaign, open, candidateSet.entries, now, granted)
    const round = await reserveAndDeliver(engine, run, progress, requests, granted, () =>
      gate.limitClears(clock.now()),
    )
    // What was sent may have emptied a key or moved its next item: read the keys again. Keys that
    // only split providers (no lead hours, no holidays) are all open together: a round's sends
    // change none of that, and a key emptied meanwhile shows as a refusal, which reads them again.
    if (round.reserved > 0 && !keyedForProvidersOnly) gate.stale()
    if (round.refused === undefined) {
      if (requests.length === granted) roundSize = Math.min(roundSize * 2, MAX_REQUESTS_PER_ROUND)
      continue
    }
    if (group && NOTHING_LEFT_IN_KEYS.has(round.refused.reason)) {
      // This group has nothing that can leave now; the next round serves another.
      routing!.exhausted(group.provider, round)
      continue
    }
    if (newest && NOTHING_LEFT_IN_KEYS.has(round.refused.reason)) {
      newestFirst = false
      continue
    }
    const next = await afterRefusal(run, gate, progress, round, candidateSet, now, softRounds)
    if (next === 'stop') return
    softRounds++
  }
  // The per-tick budget is spent; what is left waits for the next tick.
  if (progress.nextItemAt) run.dueTimes.push(gate.look(progress.nextItemAt, clock.now()).at)
  else await run.completeIfDrained(campaign.id)
}

/**
 * The campaign cannot send before the horizon (or lost too many races): report why, and when its
 * window (its own or its leads') stays closed past the horizon, let the store leave it out until then.
 */
function hold(
  run: TickRun,
  gate: CampaignGate,
  progress: CampaignProgress,
  look: Gate,
  now: Date,
  settingsVersion: number,
): void {
  const { campaign } = progress
  const heldBy = look.heldBy!
  const windowHold = isWindowHold(heldBy)
  if (progress.sends === 0 || windowHold) run.skip(campaign.id, heldBy, look.at)
  else run.dueTimes.push(look.at)
  if (!windowHold) return
  const until = gate.deferUntil(now)
  if (until && until.getTime() > run.horizon)
    run.deferrals.push({ campaignId: campaign.id, until, settingsVersion })
}

/**
 * Provider matching, once every provider group of the open keys is out for this tick: under
 * `strict`, groups waiting for a mailbox of their provider report `provider-wait` until one may
 * have room (or, after sends, only push that instant as the next due time); else the last refusal
 * of a group is handled as any refusal.
 */
async function afterGroups(
  run: TickRun,
  gate: CampaignGate,
  progress: CampaignProgress,
  routing: ProviderRouting,
  candidateSet: CandidateSet,
  now: Date,
  softRounds: number,
): Promise<'again' | 'stop'> {
  const { wait, refused } = routing.end()
  if (wait) {
    if (progress.sends === 0) run.skip(progress.campaign.id, 'provider-wait', wait.until)
    else if (wait.until) run.dueTimes.push(wait.until)
    return 'stop'
  }
  routing.reopen()
  if (!refused) return 'stop'
  return afterRefusal(run, gate, progress, refused, candidateSet, now, softRounds)
}

/**
 * After a refused reservation: `'again'` to look once more with what was learnt (a race lost to
 * another worker, a key emptied meanwhile), `'stop'` once the reason is reported.
 */
async function afterRefusal(
  run: TickRun,
  gate: CampaignGate,
  progress: CampaignProgress,
  round: RoundOutcome,
  candidateSet: CandidateSet,
  now: Date,
  softRounds: number,
): Promise<'again' | 'stop'> {
  const refused = round.refused!
  if (refused.reason === 'store-unavailable') throw refused.error
  const { campaign } = progress
  const { reason } = refused
  const until = 'until' in refused ? refused.until : undefined
  if ((reason === 'pacing' || reason === 'not-due') && until) {
    // Another worker took the slot, or the due item went: look again with what we learnt.
    if (reason === 'pacing') {
      if (!campaign.nextSlotAt || until > campaign.nextSlotAt) campaign.nextSlotAt = until
    } else if (round.reserved === 0) progress.nextItemAt = until
    gate.stale()
    return 'again'
  }
  if (reason === 'window-closed' && softRounds < MAX_SOFT_ROUNDS) {
    // The open keys' items went meanwhile: the keys read again say which opens next (the loop
    // then skips with `lead-window` and defers as for keys found closed).
    gate.stale()
    return 'again'
  }
  if (reason === 'queue-empty') await run.completeIfDrained(campaign.id)
  if (progress.sends > 0 && (reason === 'queue-empty' || reason === 'not-running')) return 'stop'
  let clears: Date | null = null
  if (reason === 'campaign-limit') clears = gate.limitClears(now)
  else if (reason === 'mailbox-limit') {
    clears = mailboxLimitClears(campaign, candidateSet.ordered, now)
    // The due emails may all be waiting for a mailbox that is out (paused, on a skip date) while
    // emails for the others come due later: the refusal does not say when, so look again soon.
    if (candidateSet.pausedUntil || candidateSet.skipDateUntil)
      run.dueTimes.push(new Date(now.getTime() + HELD_MAILBOX_RECHECK_MS))
  }
  run.skip(campaign.id, reason, clears)
  return 'stop'
}
