/**
 * Provider matching in one campaign's tick (`Campaign.providerMatching` `'prefer'` or `'strict'`).
 *
 * A lead's provider is part of its window key (policy/zones.ts `windowKeyOf`), so the open keys
 * split by provider. Each round serves one provider group: its request lists only that group's
 * keys, offers every usable mailbox (a follow-up leaves from its thread's mailbox, whatever its
 * provider) and passes as `rotation` the campaign's mailboxes of that provider (all of them for
 * `other`). The store gives an unassigned item the next rotation member with room, then a
 * candidate outside the rotation: that is `prefer`. Under `strict`, a first email the store put on
 * a mailbox of another provider is given back untouched (reserve-round.ts), and its group waits
 * for the rest of the tick (`provider-wait`). Groups go oldest first: the group whose earliest due
 * item is the oldest, then the others.
 */
import type { Campaign, EmailProvider, Mailbox } from '../../model/types.js'
import { isMatchedProvider, type MatchedProvider } from '../../policy/provider.js'
import { parseWindowKey } from '../../policy/zones.js'
import type { ReservedSend, WindowKeyStat } from '../../store.js'
import { mailboxLimitClears } from '../due.js'
import { mailboxProvider } from '../providers.js'
import type { TickEngine } from './engine.js'
import type { RoundOutcome } from './reserve-round.js'

/** The keys one round serves, and the rotation its request passes. */
export interface ProviderGroup {
  provider: EmailProvider
  keys: string[]
  rotation: readonly string[]
}

/** Why every group is out for this tick, once `pick` returns null. */
export interface RoutingEnd {
  /** Strict: groups waiting for a mailbox of their provider, and when the first may have room (null: unknown). */
  wait: { until: Date | null } | null
  /** The last refusal of a group whose keys had nothing that could leave. */
  refused: RoundOutcome | null
}

export interface ProviderRouting {
  /** The group to serve now among `openKeys`, or null when every group is out for this tick. */
  pick(openKeys: readonly string[], stats: readonly WindowKeyStat[]): ProviderGroup | null
  /** The group's keys have nothing that can leave now (refused): the next round serves another. */
  exhausted(provider: EmailProvider, round: RoundOutcome): void
  /** Groups exhausted by refusals may be served again (after a look with what was learnt). */
  reopen(): void
  /**
   * A reservation made: under `strict`, whether it is a first email on a mailbox of another
   * provider, to give back (its group then waits); else it counts for its provider's turn.
   */
  misplaced(send: ReservedSend): boolean
  end(): RoutingEnd
}

/**
 * Per scheduler, per campaign and provider: the mailbox that last took a first email of that
 * provider, so a provider's rotation goes on from it even when the campaign's `lastMailboxId` is a
 * mailbox of another provider (the store then starts from the rotation's first member). Bounded.
 */
const turnsByEngine = new WeakMap<TickEngine, Map<string, string>>()
const TURNS_LIMIT = 10_000

export function createProviderRouting(
  engine: TickEngine,
  campaign: Campaign,
  mailboxes: ReadonlyMap<string, Mailbox>,
  now: () => Date,
): ProviderRouting | null {
  if ((campaign.providerMatching ?? 'off') === 'off') return null
  const turns = turnsByEngine.get(engine) ?? new Map<string, string>()
  turnsByEngine.set(engine, turns)
  const turnKey = (provider: EmailProvider) => `${campaign.id}\0${provider}`
  const exhausted = new Set<EmailProvider>()
  const waiting = new Set<MatchedProvider>()
  let refused: RoundOutcome | null = null

  const providerOfMailbox = (id: string | null) => {
    const mailbox = id === null ? undefined : mailboxes.get(id)
    return mailbox ? mailboxProvider(mailbox) : 'other'
  }
  const membersOf = (provider: EmailProvider) =>
    campaign.mailboxIds.filter((id) => providerOfMailbox(id) === provider)

  /** The campaign's mailboxes of `provider`, from the one after the last that took one of its first emails. */
  function rotationFor(provider: EmailProvider): readonly string[] {
    const members = provider === 'other' ? [] : membersOf(provider)
    // None of its provider: any mailbox, in turn (strict gives its first emails back).
    if (members.length === 0) return campaign.mailboxIds
    const last = members.indexOf(turns.get(turnKey(provider)) ?? '')
    return last < 0 ? members : [...members.slice(last + 1), ...members.slice(0, last + 1)]
  }

  return {
    pick(openKeys, stats) {
      const nextAt = new Map<string, number>()
      for (const s of stats) nextAt.set(s.windowKey, s.nextAt.getTime())
      const groups = new Map<EmailProvider, { keys: string[]; oldest: number }>()
      for (const key of openKeys) {
        const { provider } = parseWindowKey(key)
        if (exhausted.has(provider) || (isMatchedProvider(provider) && waiting.has(provider))) continue
        let group = groups.get(provider)
        if (!group) {
          group = { keys: [], oldest: Number.POSITIVE_INFINITY }
          groups.set(provider, group)
        }
        group.keys.push(key)
        group.oldest = Math.min(group.oldest, nextAt.get(key) ?? Number.POSITIVE_INFINITY)
      }
      let best: [EmailProvider, { keys: string[]; oldest: number }] | null = null
      for (const entry of groups) if (!best || entry[1].oldest < best[1].oldest) best = entry
      if (!best) return null
      return { provider: best[0], keys: best[1].keys, rotation: rotationFor(best[0]) }
    },
    exhausted(provider, round) {
      exhausted.add(provider)
      refused = round
    },
    reopen() {
      exhausted.clear()
      refused = null
    },
    misplaced(send) {
      const { item } = send
      const { provider } = parseWindowKey(item.windowKey)
      // A follow-up is tied to its thread's mailbox; a recipient of provider other goes anywhere.
      if (item.references.length > 0 || !isMatchedProvider(provider)) return false
      if (providerOfMailbox(item.mailboxId) === provider) {
        if (turns.size >= TURNS_LIMIT) turns.clear()
        turns.set(turnKey(provider), item.mailboxId!)
        return false
      }
      if (campaign.providerMatching !== 'strict') return false
      waiting.add(provider)
      return true
    },
    end() {
      let wait: RoutingEnd['wait'] = null
      if (waiting.size > 0) {
        const ofWaiting = [...waiting].flatMap(membersOf).map((id) => mailboxes.get(id)!)
        wait = { until: ofWaiting.length > 0 ? mailboxLimitClears(campaign, ofWaiting, now()) : null }
      }
      return { wait, refused }
    },
  }
}

/** Why a given-back email was put back (its `lastError`). */
export const PROVIDER_WAIT_ERROR =
  'waiting for a mailbox of the recipient’s provider (providerMatching strict)'
