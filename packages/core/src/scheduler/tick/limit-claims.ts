/**
 * The limits checked after a reservation (hourly caps, recipient-domain limits): each reserved send
 * claims its counters (`CounterStore.claimCounters`, atomic, all or nothing) before the transport
 * is called (a whole round in one call while every limit has room). A send whose claim is refused is given back untouched, with everything the
 * reservation took (the campaign's and the mailbox's day counts, the pacing slot): so no email
 * ever leaves past a limit, however many processes tick, and a refused claim costs one round trip.
 */

import { domainOf } from '../../message/build.js'
import type { Campaign, Mailbox } from '../../model/types.js'
import { nextLocalHour } from '../../policy/calendar.js'
import { domainCounterKey, domainHeldCounterKey, hourlyCounterKey } from '../../policy/limit-keys.js'
import type { CounterClaim, CounterStore, ReservedSend, Store } from '../../store.js'
import type { TickEngine } from './engine.js'

const DAY_MS = 86_400_000

/** A reserved send that may not leave now, and what to do with it. */
export interface HeldSend {
  reason: 'hourly-limit' | 'domain-limit'
  /** When the limit clears. */
  until: Date
  /** When the item is due again: now for a first email (another mailbox may take it), else `until`. */
  retryAt: Date
  error: string
}

/** Per scheduler: mailboxes whose hourly cap this process saw reached, until when (ms). */
export type HourFull = Map<string, number>

/** Whether a campaign's sends claim counters at all (cheap: asked once per round). */
export function claimsLimits(campaign: Campaign, mailboxes: ReadonlyMap<string, Mailbox>): boolean {
  if (campaign.recipientDomainLimit != null) return true
  for (const id of campaign.mailboxIds) if (mailboxes.get(id)?.hourlyLimit != null) return true
  return false
}

/**
 * Claims the rounds of several campaigns under way at once (each a list of claims, one per key):
 * first all of them merged in one call — usually every limit has room, and then that one store call
 * admits them all, however many campaigns share a mailbox's hourly counter — else each round on
 * its own, in order, so that the rounds with room still pass.
 */
export async function claimTogether(
  store: Store & CounterStore,
  rounds: readonly CounterClaim[][],
  now: Date,
): Promise<boolean[]> {
  if (rounds.length === 1) return [await store.claimCounters(rounds[0]!, now)]
  if (await store.claimCounters(mergeClaims(rounds.flat()), now)) return rounds.map(() => true)
  const passed: boolean[] = []
  for (const claims of rounds) passed.push(await store.claimCounters(claims, now))
  return passed
}

/** One claim per key, its `by` the sum of the claims on that key (a key appears once in a call). */
function mergeClaims(claims: readonly CounterClaim[]): CounterClaim[] {
  const merged = new Map<string, CounterClaim>()
  for (const claim of claims) {
    const known = merged.get(claim.key)
    if (known) {
      known.by = (known.by ?? 1) + (claim.by ?? 1)
      if (claim.expiresAt > known.expiresAt) known.expiresAt = claim.expiresAt
    } else merged.set(claim.key, { ...claim })
  }
  return [...merged.values()]
}

/** A reserved send of a round, with the mailbox it was reserved on. */
export interface RoundSend {
  send: ReservedSend
  mailbox: Mailbox
  campaignDayKey: string
}

/** What a send claims: its hourly counter and, for a first email, its recipient domain's. */
interface SendClaims {
  hourly?: CounterClaim
  domain?: { claim: CounterClaim; name: string }
}

function claimsOf(campaign: Campaign, { send, mailbox, campaignDayKey }: RoundSend, now: Date): SendClaims {
  const claims: SendClaims = {}
  if (mailbox.hourlyLimit != null) {
    claims.hourly = {
      key: hourlyCounterKey(mailbox, now),
      limit: mailbox.hourlyLimit,
      expiresAt: new Date(nextLocalHour(now, mailbox.timezone).getTime() + DAY_MS),
    }
  }
  // Only first emails count: a follow-up continues a conversation the domain already has.
  const limit = campaign.recipientDomainLimit
  if (limit != null && send.item.references.length === 0) {
    const name = domainOf(send.lead.email)
    const key = domainCounterKey(campaign, name, campaignDayKey)
    if (key !== null)
      claims.domain = {
        claim: { key, limit: limit.perDay, expiresAt: new Date(now.getTime() + 3 * DAY_MS) },
        name,
      }
  }
  return claims
}

const listOf = (c: SendClaims): CounterClaim[] => [
  ...(c.hourly ? [c.hourly] : []),
  ...(c.domain ? [c.domain.claim] : []),
]

/**
 * Claims the counters of a round's reserved sends; per send, null when it may leave, else why not.
 * The whole round first claims in one call (each counter by the round's count on it): usually
 * every limit has room and that is the only store call. Otherwise the sends claim one by one, in
 * order, so each limit fills up exactly to its value. `domainClears` is when the campaign's day
 * ends (a domain's first emails wait for the next one).
 */
export async function admitRound(
  engine: TickEngine,
  campaign: Campaign,
  round: readonly RoundSend[],
  domainClears: () => Date,
  now: Date,
): Promise<Array<HeldSend | null>> {
  const admitted = round.map(() => null)
  if (engine.claimRound === null || round.length === 0) return admitted
  const claims = round.map((r) => claimsOf(campaign, r, now))
  const merged = mergeClaims(claims.flatMap(listOf))
  if (merged.length === 0 || (await engine.claimRound(merged))) return admitted
  const verdicts: Array<HeldSend | null> = []
  for (const [i, r] of round.entries())
    verdicts.push(await admitOne(engine, campaign, r, claims[i]!, domainClears, now))
  return verdicts
}

/** One send's claim, and when refused, which limit it was (the hourly one first: it clears sooner). */
async function admitOne(
  engine: TickEngine,
  campaign: Campaign,
  { send, mailbox, campaignDayKey }: RoundSend,
  claims: SendClaims,
  domainClears: () => Date,
  now: Date,
): Promise<HeldSend | null> {
  const store = engine.options.store as Required<Pick<Store, 'claimCounters' | 'readCounters'>>
  const list = listOf(claims)
  if (list.length === 0 || (await store.claimCounters(list, now))) return null
  const counts = await store.readCounters(list.map((c) => c.key))
  const { hourly, domain } = claims
  const hourFull = hourly !== undefined && (counts[hourly.key] ?? 0) >= hourly.limit!
  const domainFull = domain !== undefined && (counts[domain.claim.key] ?? 0) >= domain.claim.limit!
  const firstEmail = send.item.references.length === 0
  if (hourly !== undefined && (hourFull || !domainFull)) {
    const until = nextLocalHour(now, mailbox.timezone)
    // Seen full: this process offers the mailbox no more this hour (another one's send may have
    // been given back meanwhile, which only leaves it idle a little early).
    if (hourFull) engine.hourFull.set(mailbox.id, until.getTime())
    return {
      reason: 'hourly-limit',
      until,
      retryAt: firstEmail ? now : until,
      error: `hourly limit: ${mailbox.email} sent its ${mailbox.hourlyLimit} this hour`,
    }
  }
  const until = domainClears()
  // Counted, so explain() can say how many first emails wait for the next day and why.
  const heldKey = domainHeldCounterKey(campaign.id, campaignDayKey)
  await store.claimCounters(
    [{ key: heldKey, limit: null, expiresAt: new Date(now.getTime() + 3 * DAY_MS) }],
    now,
  )
  return {
    reason: 'domain-limit',
    until,
    retryAt: until,
    error: `recipient domain limit: ${domain?.name ?? 'the domain'} had its ${domain?.claim.limit} first emails today`,
  }
}
