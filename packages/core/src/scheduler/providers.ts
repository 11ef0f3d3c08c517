/**
 * Provider matching's lookups: a domain's provider from its MX record (policy/provider.ts decides
 * from the exchanges), through the host's `resolveMx` or `node:dns/promises`, with a timeout and a
 * per-scheduler cache. A lookup never blocks nor fails anything: a failure, a timeout or an odd
 * answer counts as `other` (and is cached for a shorter while, then asked again).
 *
 * Lookups happen only for campaigns with `providerMatching` other than `'off'`: when leads are
 * added to one (their window key takes the provider, policy/zones.ts `windowKeyOf`), and for its
 * mailboxes not looked up yet (`Mailbox.provider` null) when it is created, updated or ticked;
 * a mailbox's answer is kept in the store, so it is looked up once.
 */
import { resolveMx as dnsResolveMx } from 'node:dns/promises'
import { domainOf } from '../message/build.js'
import { describeValue } from '../model/describe.js'
import type { Campaign, EmailProvider, Mailbox } from '../model/types.js'
import { providerOfMx, wellKnownProvider } from '../policy/provider.js'
import { windowKeyOf } from '../policy/zones.js'
import type { NewLead, Store } from '../store.js'
import type { Logger } from './options.js'

/** A host's MX lookup: the domain's exchanges, most preferred first; a rejection counts as `other`. */
export type ResolveMx = (domain: string) => Promise<string[]>

/** Default `resolveMxTimeout` (ms): a lookup not answered by then counts as `other`. */
export const DEFAULT_RESOLVE_MX_TIMEOUT = 3_000
/** How long an answer is kept: MX records rarely change. */
const ANSWER_TTL_MS = 24 * 3_600_000
/** How long a failed lookup counts as `other` before it is tried again. */
const FAILURE_TTL_MS = 5 * 60_000
/** Domains kept per scheduler; the oldest entry goes first. */
const CACHE_LIMIT = 10_000
/** Lookups in flight at once for one batch of leads. */
const LOOKUP_CONCURRENCY = 8

/** A domain's provider and whether it is an answer (true) or a failure counted as `other` (false). */
export interface ProviderAnswer {
  provider: EmailProvider
  known: boolean
}

export interface ProviderResolver {
  /** The provider of one domain: well known, cached, or looked up. Never throws. */
  lookup(domain: string): Promise<ProviderAnswer>
  /** The providers of several domains, each distinct one looked up once, a few at a time. */
  lookupAll(domains: Iterable<string>): Promise<Map<string, EmailProvider>>
}

/**
 * The default `resolveMx`: `node:dns/promises`, exchanges sorted by priority. A domain without MX
 * records (or that does not exist) is an answer, none: `other`.
 */
export async function resolveMxWithDns(domain: string): Promise<string[]> {
  try {
    const records = await dnsResolveMx(domain)
    return records.sort((a, b) => a.priority - b.priority).map((r) => r.exchange)
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'ENODATA' || code === 'ENOTFOUND') return []
    throw error
  }
}

export function createProviderResolver(input: {
  /** `false`: no lookups; only the well-known consumer domains get a provider. */
  resolveMx: ResolveMx | false
  timeoutMs: number
  /** The scheduler's clock (ms), for the cache's ages. */
  now: () => number
  logger: Logger
}): ProviderResolver {
  const { resolveMx, timeoutMs, now, logger } = input
  const cache = new Map<string, ProviderAnswer & { expiresAt: number }>()
  const inFlight = new Map<string, Promise<ProviderAnswer>>()

  async function ask(domain: string): Promise<ProviderAnswer> {
    if (resolveMx === false) return { provider: 'other', known: true }
    try {
      // Through a promise: a host function that throws or answers at once is handled alike.
      const exchanges: unknown = await withTimeout(
        Promise.resolve().then(() => resolveMx(domain)),
        timeoutMs,
      )
      if (!Array.isArray(exchanges) || !exchanges.every((e) => typeof e === 'string'))
        throw new Error(`resolveMx must return an array of host names, got ${describeValue(exchanges)}`)
      return { provider: providerOfMx(exchanges as string[]), known: true }
    } catch (error) {
      logger.warn({ domain, err: error }, 'MX lookup failed: the domain counts as provider other')
      return { provider: 'other', known: false }
    }
  }

  async function lookup(domain: string): Promise<ProviderAnswer> {
    const wellKnown = wellKnownProvider(domain)
    if (wellKnown) return { provider: wellKnown, known: true }
    const cached = cache.get(domain)
    if (cached && cached.expiresAt > now()) return { provider: cached.provider, known: cached.known }
    const pending = inFlight.get(domain)
    if (pending) return pending
    const asked = ask(domain).then((answer) => {
      inFlight.delete(domain)
      cache.delete(domain)
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!)
      cache.set(domain, { ...answer, expiresAt: now() + (answer.known ? ANSWER_TTL_MS : FAILURE_TTL_MS) })
      return answer
    })
    inFlight.set(domain, asked)
    return asked
  }

  return {
    lookup,
    async lookupAll(domains) {
      const distinct = [...new Set(domains)]
      const found = new Map<string, EmailProvider>()
      let next = 0
      const worker = async () => {
        while (next < distinct.length) {
          const domain = distinct[next++]!
          found.set(domain, (await lookup(domain)).provider)
        }
      }
      await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, distinct.length) }, worker))
      return found
    },
  }
}

/** Gives each lead's window key its provider (only for a campaign that matches providers). */
export async function keyLeadsByProvider(
  resolver: ProviderResolver,
  campaign: Campaign,
  leads: readonly NewLead[],
): Promise<void> {
  if ((campaign.providerMatching ?? 'off') === 'off' || leads.length === 0) return
  const providers = await resolver.lookupAll(leads.map((l) => domainOf(l.emailKey)))
  for (const lead of leads) lead.windowKey = windowKeyOf(lead, providers.get(domainOf(lead.emailKey)))
}

/**
 * Looks up the providers of the mailboxes of matching campaigns not looked up yet, and keeps each
 * answer in the store (a failure is not kept: it is asked again once its cache entry ends, and
 * counts as `other` meanwhile). Returns the mailboxes whose provider was stored, as the store
 * returned them. Never throws: a store error is logged, and the mailbox is looked up again later.
 */
export async function resolveMailboxProviders(
  deps: { store: Store; resolver: ProviderResolver; now: () => Date; logger: Logger },
  campaigns: readonly Campaign[],
  mailboxes: Iterable<Mailbox>,
): Promise<Mailbox[]> {
  const wanted = new Set<string>()
  for (const c of campaigns)
    if ((c.providerMatching ?? 'off') !== 'off') for (const id of c.mailboxIds) wanted.add(id)
  if (wanted.size === 0) return []
  const unknown = [...mailboxes].filter((m) => m.provider == null && wanted.has(m.id))
  const updated = await Promise.all(
    unknown.map(async (mailbox) => {
      const answer = await deps.resolver.lookup(domainOf(mailbox.email))
      if (!answer.known) return null
      try {
        return await deps.store.updateMailbox(mailbox.id, { provider: answer.provider }, deps.now())
      } catch (error) {
        deps.logger.warn({ mailboxId: mailbox.id, err: error }, 'could not store the mailbox provider')
        return null
      }
    }),
  )
  return updated.filter((m): m is Mailbox => m !== null)
}

/** The provider a mailbox counts as now: `other` until looked up. */
export function mailboxProvider(mailbox: Mailbox): EmailProvider {
  return mailbox.provider ?? 'other'
}

/** `call`'s answer, or a rejection after `ms` (a real timer that does not keep the process alive). */
function withTimeout<T>(call: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`MX lookup timed out after ${ms} ms`)), ms)
    timer.unref?.()
    call.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/**
 * After a campaign that matches providers is created or updated: looks up its mailboxes not looked
 * up yet. Never throws (the campaign is already written; the tick looks again).
 */
export async function lookUpCampaignMailboxes(
  deps: { store: Store; resolver: ProviderResolver; now: () => Date; logger: Logger },
  campaign: Campaign,
): Promise<void> {
  if ((campaign.providerMatching ?? 'off') === 'off') return
  try {
    await resolveMailboxProviders(deps, [campaign], await deps.store.getMailboxes(campaign.mailboxIds))
  } catch (error) {
    deps.logger.warn({ campaignId: campaign.id, err: error }, 'could not look up the mailbox providers')
  }
}
