/**
 * explain()'s view of the limits claimed after a reservation (tick/limit-claims.ts): this hour's
 * count of each mailbox with an `hourlyLimit` and how many first emails the recipient-domain limit
 * held back today, read from the same counters the tick claims (policy/limit-keys.ts).
 */
import type { Campaign, Mailbox } from '../model/types.js'
import { nextLocalHour } from '../policy/calendar.js'
import { domainHeldCounterKey, hourlyCounterKey } from '../policy/limit-keys.js'
import type { Store } from '../store.js'
import { supportsCounters } from '../store-kit/index.js'
import type { ExplainReason } from './explain.js'

export interface LimitFigures {
  /** This clock hour's sends of each mailbox with an `hourlyLimit`, by id. */
  hourly: Record<string, number>
  /** First emails held back today by the campaign's `recipientDomainLimit`. */
  domainHeld: number
}

export async function readLimitFigures(
  store: Store,
  campaign: Campaign,
  mailboxes: readonly Mailbox[],
  campaignDayKey: string,
  now: Date,
): Promise<LimitFigures> {
  const figures: LimitFigures = { hourly: {}, domainHeld: 0 }
  if (!supportsCounters(store)) return figures
  const hourlyKeys = new Map<string, string>()
  for (const m of mailboxes) if (m.hourlyLimit != null) hourlyKeys.set(m.id, hourlyCounterKey(m, now))
  const heldKey = campaign.recipientDomainLimit ? domainHeldCounterKey(campaign.id, campaignDayKey) : null
  const keys = [...hourlyKeys.values(), ...(heldKey ? [heldKey] : [])]
  if (keys.length === 0) return figures
  const counts = await store.readCounters(keys)
  for (const [id, key] of hourlyKeys) figures.hourly[id] = counts[key] ?? 0
  if (heldKey) figures.domainHeld = counts[heldKey] ?? 0
  return figures
}

/** Whether the mailbox has sent its `hourlyLimit` this hour. */
export function isHourFull(mailbox: Mailbox, figures: LimitFigures | undefined): boolean {
  return mailbox.hourlyLimit != null && (figures?.hourly[mailbox.id] ?? 0) >= mailbox.hourlyLimit
}

/** `hourly-limit` when every mailbox that could send is at its hourly cap, until the first hour ends. */
export function hourlyLimitReason(full: readonly Mailbox[], figures: LimitFigures, now: Date): ExplainReason {
  const until = full.reduce<Date | null>((min, m) => {
    const end = nextLocalHour(now, m.timezone)
    return !min || end < min ? end : min
  }, null)
  const which = full.map((m) => `${m.email} ${figures.hourly[m.id] ?? 0}/${m.hourlyLimit}`).join(', ')
  return {
    code: 'hourly-limit',
    message: `every mailbox that could send is at its hourlyLimit this hour (${which})`,
    ...(until ? { until } : {}),
  }
}

/** `domain-limit`: first emails wait for the campaign's next day, their recipient domains full today. */
export function domainLimitReason(campaign: Campaign, figures: LimitFigures, until: Date): ExplainReason {
  const n = figures.domainHeld
  const perDay = campaign.recipientDomainLimit?.perDay ?? 0
  return {
    code: 'domain-limit',
    message: `${n === 1 ? '1 first email waits' : `${n} first emails wait`} for the next day: their recipient domains had their ${perDay} first emails today (recipientDomainLimit)`,
    until,
  }
}
