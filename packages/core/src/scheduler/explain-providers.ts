/**
 * `explain()` under provider matching `'strict'`: due first emails whose recipients' provider has
 * no mailbox with room wait (`provider-wait`), as the tick's provider groups do
 * (tick/provider-routing.ts). Pure.
 */
import { formatInTimeZone } from 'date-fns-tz'
import type { Campaign, Mailbox } from '../model/types.js'
import { isMatchedProvider, type MatchedProvider } from '../policy/provider.js'
import { parseWindowKey } from '../policy/zones.js'
import type { DayCounts, DueCount } from '../store.js'
import { isPaused, mailboxLimitClears, mailboxSkipDate } from './due.js'
import { mailboxProvider } from './providers.js'

export interface ProviderWait {
  message: string
  /** When the first mailbox of a waiting provider may have room; absent when it has none. */
  until?: Date
}

/**
 * Splits the due items (of open keys) of a strict campaign: those that can wait for nothing but a
 * mailbox of their provider with room, and the others. `wait` says why the held ones wait, when
 * nothing else is due (else the campaign sends, and the held ones are not what stops it).
 */
export function providerHeld(input: {
  campaign: Campaign
  mailboxes: readonly Mailbox[]
  counts: DayCounts
  due: readonly DueCount[]
  now: Date
}): { due: DueCount[]; wait: ProviderWait | null } {
  const { campaign, mailboxes, counts, now } = input
  if (campaign.providerMatching !== 'strict') return { due: [...input.due], wait: null }
  const ofProvider = (p: MatchedProvider) => mailboxes.filter((m) => mailboxProvider(m) === p)
  const hasRoom = (m: Mailbox) =>
    !isPaused(m, now) && mailboxSkipDate(m, now) === null && (counts.mailboxes[m.id] ?? 0) < m.dailyEmailLimit
  const held = new Map<MatchedProvider, number>()
  const due: DueCount[] = []
  for (const d of input.due) {
    const { provider } = parseWindowKey(d.windowKey)
    if (d.mailboxId !== null || !isMatchedProvider(provider) || ofProvider(provider).some(hasRoom))
      due.push(d)
    else held.set(provider, (held.get(provider) ?? 0) + d.count)
  }
  if (held.size === 0 || due.length > 0) return { due, wait: null }
  const waiting = [...held.keys()].flatMap(ofProvider)
  const until = waiting.length > 0 ? mailboxLimitClears(campaign, waiting, now) : null
  const which = [...held].map(([provider, count]) => {
    const boxes = ofProvider(provider)
    const state = boxes.length
      ? boxes.map(
          (m) =>
            `${m.email} ${isPaused(m, now) ? 'paused' : `${counts.mailboxes[m.id] ?? 0}/${m.dailyEmailLimit}`}`,
        )
      : ['none among the campaign’s mailboxes']
    return `${provider} (${count === 1 ? '1 email' : `${count} emails`}): ${state.join(', ')}`
  })
  const at = until
    ? `; the first may have room ${formatInTimeZone(until, campaign.timezone, 'EEE yyyy-MM-dd HH:mm:ss zzz')}`
    : ''
  return {
    due,
    wait: {
      message: `due first emails wait for a mailbox of their recipients’ provider with room (providerMatching strict): ${which.join('; ')}${at}`,
      ...(until ? { until } : {}),
    },
  }
}
