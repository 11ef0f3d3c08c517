/**
 * The counters the limits beyond the daily ones claim (`CounterStore`): their keys and what each
 * counts. Pure: one place names every key, so two rules can never count under one name, and a
 * limit's explanation can read back the same counter its claim took.
 */
import type { Campaign, Mailbox } from '../model/types.js'
import { hourKey } from './calendar.js'
import { isFreeMailDomain } from './free-mail.js'

/** Keys are at most this long (the `CounterStore` contract). */
const KEY_LENGTH = 200

/** The counter of a mailbox's sends in the local clock hour of `now` (its `hourlyLimit`). */
export function hourlyCounterKey(mailbox: Pick<Mailbox, 'id' | 'timezone'>, now: Date): string {
  return fit(`hour|${mailbox.id}|${hourKey(now, mailbox.timezone)}`)
}

/**
 * The counter of first emails to `domain` on the campaign's day `campaignDayKey` under the
 * campaign's `recipientDomainLimit`, or null when the domain is not limited (no limit, or a
 * free-mail domain exempt from it). With `scope: 'all'` every campaign counts on one key per
 * domain and day key (each campaign's own day: campaigns in other zones count their own dates).
 */
export function domainCounterKey(
  campaign: Pick<Campaign, 'id' | 'recipientDomainLimit'>,
  domain: string,
  campaignDayKey: string,
): string | null {
  const limit = campaign.recipientDomainLimit
  if (limit === null || (limit.exemptFreeMail && isFreeMailDomain(domain))) return null
  const scope = limit.scope === 'all' ? 'all' : `c${campaign.id}`
  return fit(`domain|${scope}|${campaignDayKey}|${domain}`)
}

/** A key of at most {@link KEY_LENGTH} characters: a longer one keeps its start and a hash of the whole. */
function fit(key: string): string {
  if (key.length <= KEY_LENGTH) return key
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 ^ c, 0x5bd1e995)
  }
  const hash = `#${(h1 >>> 0).toString(36)}${(h2 >>> 0).toString(36)}`
  return key.slice(0, KEY_LENGTH - hash.length) + hash
}

/** The counter of first emails of the campaign held back by its recipient-domain limit on its day. */
export function domainHeldCounterKey(campaignId: string, campaignDayKey: string): string {
  return fit(`domain-held|${campaignId}|${campaignDayKey}`)
}
