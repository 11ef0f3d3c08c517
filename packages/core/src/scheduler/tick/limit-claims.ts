/**
 * The limits checked after a reservation (hourly caps, recipient-domain limits): each reserved send
 * claims its counters (`CounterStore.claimCounters`, atomic, all or nothing) before the transport
 * is called. A send whose claim is refused is given back untouched, with everything the
 * reservation took (the campaign's and the mailbox's day counts, the pacing slot): so no email
 * ever leaves past a limit, however many processes tick, and a refused claim costs one round trip.
 */

import { domainOf } from '../../message/build.js'
import type { Campaign, Mailbox } from '../../model/types.js'
import { nextLocalHour } from '../../policy/calendar.js'
import { domainCounterKey, domainHeldCounterKey, hourlyCounterKey } from '../../policy/limit-keys.js'
import type { CounterClaim, ReservedSend } from '../../store.js'
import { supportsCounters } from '../../store-kit/index.js'
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
  if (campaign.recipientDomainLimit !== null) return true
  for (const id of campaign.mailboxIds) if (mailboxes.get(id)?.hourlyLimit != null) return true
  return false
}

/**
 * Claims the send's counters; null when it may leave, else why not. `domainClears` is when the
 * campaign's day ends (a domain's first emails wait for the next one).
 */
export async function claimLimits(
  engine: TickEngine,
  campaign: Campaign,
  mailbox: Mailbox,
  send: ReservedSend,
  campaignDayKey: string,
  domainClears: () => Date,
  now: Date,
): Promise<HeldSend | null> {
  const { store } = engine.options
  if (!supportsCounters(store)) return null
  const claims: CounterClaim[] = []
  let hourly: CounterClaim | undefined
  let domain: { claim: CounterClaim; name: string } | undefined
  if (mailbox.hourlyLimit !== null) {
    const hourEnd = nextLocalHour(now, mailbox.timezone)
    hourly = {
      key: hourlyCounterKey(mailbox, now),
      limit: mailbox.hourlyLimit,
      expiresAt: new Date(hourEnd.getTime() + DAY_MS),
    }
    claims.push(hourly)
  }
  // Only first emails count: a follow-up continues a conversation the domain already has.
  const firstEmail = send.item.references.length === 0
  const limit = campaign.recipientDomainLimit
  if (firstEmail && limit !== null) {
    const name = domainOf(send.lead.email)
    const key = domainCounterKey(campaign, name, campaignDayKey)
    if (key !== null) {
      domain = { claim: { key, limit: limit.perDay, expiresAt: new Date(now.getTime() + 3 * DAY_MS) }, name }
      claims.push(domain.claim)
    }
  }
  if (claims.length === 0 || (await store.claimCounters(claims, now))) return null

  // Refused: the counts say which limit it was (the hourly one first: it clears sooner).
  const counts = await store.readCounters(claims.map((c) => c.key))
  const hourFull = hourly !== undefined && (counts[hourly.key] ?? 0) >= mailbox.hourlyLimit!
  const domainFull = domain !== undefined && (counts[domain.claim.key] ?? 0) >= domain.claim.limit!
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
    error: `recipient domain limit: ${domain?.name ?? 'the domain'} had its ${limit?.perDay} first emails today`,
  }
}

/**
 * Gives a held send back untouched: the item is pending again (a first email free to leave from
 * another mailbox) and the reservation's day counts and pacing slot are refunded, as no mail left.
 */
export async function giveBack(
  engine: TickEngine,
  send: ReservedSend,
  mailbox: Mailbox,
  reservedSlot: Date,
  held: HeldSend,
): Promise<void> {
  const { item } = send
  await engine.complete({
    itemId: item.id,
    leaseToken: item.leaseToken ?? '',
    kind: 'retry',
    retryAt: held.retryAt,
    attempts: item.attempts,
    error: held.error,
    unassignMailbox: item.references.length === 0,
    refund: {
      campaignDayKey: send.campaignDayKey,
      mailboxId: mailbox.id,
      mailboxDayKey: send.mailboxDayKey,
      nextSlotAt: reservedSlot,
    },
  })
}
