/**
 * The counters the limits beyond the daily ones claim (`CounterStore`): their keys and what each
 * counts. Pure: one place names these keys, so two rules can never count under one name, and a
 * limit's explanation can read back the same counter its claim took. Namespaces: `hour|`,
 * `domain|`, `domain-held|` here, `ramp|` (scheduler/ramp.ts, through {@link rampCounterKey}) and
 * `guard:` (policy/guards.ts).
 */
import { createHash } from 'node:crypto'
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
  if (limit == null || (limit.exemptFreeMail && isFreeMailDomain(domain))) return null
  const scope = limit.scope === 'all' ? 'all' : `c${campaign.id}`
  return fit(`domain|${scope}|${campaignDayKey}|${domain}`)
}

/** A short stable token for a text too long to stand in a key (a long id, a Message-ID). */
export function keyToken(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22)
}

/** A key of at most {@link KEY_LENGTH} characters: a longer one keeps its start and a token of the whole. */
function fit(key: string): string {
  if (key.length <= KEY_LENGTH) return key
  const token = `#${keyToken(key)}`
  return key.slice(0, KEY_LENGTH - token.length) + token
}

/** The counter of first emails of the campaign held back by its recipient-domain limit on its day. */
export function domainHeldCounterKey(campaignId: string, campaignDayKey: string): string {
  return fit(`domain-held|${campaignId}|${campaignDayKey}`)
}

/** The counter that lets one process do a ramping mailbox's bookkeeping of its local day `dayKey`. */
export function rampCounterKey(mailboxId: string, dayKey: string): string {
  return fit(`ramp|${mailboxId}|${dayKey}`)
}
