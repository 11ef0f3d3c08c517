/**
 * Who runs a domain's mail (`EmailProvider`), from its MX record: what provider matching pairs
 * recipients and mailboxes by. Pure: the lookup itself is scheduler/providers.ts.
 *
 * The MX record, not the domain string, decides: a Google Workspace or Microsoft 365 company
 * domain (`acme.com` with `aspmx.l.google.com` as its exchange) is `google` or `microsoft`, which a
 * guess from the domain name alone would call unknown. The large consumer domains are answered
 * without a lookup (their MX would say the same).
 */
import type { EmailProvider } from '../model/types.js'

/** The providers a recipient can be matched to; `other` leaves from any mailbox. */
export type MatchedProvider = Exclude<EmailProvider, 'other'>

export const MATCHED_PROVIDERS: readonly MatchedProvider[] = ['google', 'microsoft', 'yahoo']

/**
 * The MX host suffixes of each provider: an exchange matches when it is a subdomain of one
 * (`aspmx.l.google.com`, `acme-com.mail.protection.outlook.com`, `mta5.am0.yahoodns.net`).
 */
const MX_SUFFIXES: ReadonlyArray<readonly [MatchedProvider, readonly string[]]> = [
  ['google', ['google.com', 'googlemail.com']],
  ['microsoft', ['mail.protection.outlook.com', 'outlook.com', 'hotmail.com']],
  ['yahoo', ['yahoodns.net', 'yahoo.com']],
]

/** Consumer domains whose provider is known without a lookup. */
const WELL_KNOWN_DOMAINS: ReadonlyMap<string, MatchedProvider> = new Map([
  ['gmail.com', 'google'],
  ['googlemail.com', 'google'],
  ['outlook.com', 'microsoft'],
  ['hotmail.com', 'microsoft'],
  ['live.com', 'microsoft'],
  ['msn.com', 'microsoft'],
  ['yahoo.com', 'yahoo'],
  ['ymail.com', 'yahoo'],
  ['rocketmail.com', 'yahoo'],
  ['aol.com', 'yahoo'],
])

/** Whether a provider is one recipients are matched to (not `other`). */
export function isMatchedProvider(provider: unknown): provider is MatchedProvider {
  return (MATCHED_PROVIDERS as readonly unknown[]).includes(provider)
}

/** A host name as DNS may write it (any case, a trailing dot), normalized. */
function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase()
  return lower.endsWith('.') ? lower.slice(0, -1) : lower
}

/** The provider one MX exchange belongs to. */
export function providerOfExchange(exchange: string): EmailProvider {
  const host = normalizeHost(exchange)
  for (const [provider, suffixes] of MX_SUFFIXES)
    if (suffixes.some((suffix) => host.endsWith(`.${suffix}`))) return provider
  return 'other'
}

/**
 * The provider of a domain from its MX exchanges, most preferred first (lowest priority value):
 * the first one decides, since that is where mail goes (a security gateway in front of Google or
 * Microsoft makes the domain `other`, as it receives the mail). No exchange: `other`.
 */
export function providerOfMx(exchanges: readonly string[]): EmailProvider {
  const first = exchanges[0]
  return first === undefined ? 'other' : providerOfExchange(first)
}

/** The provider of a well-known consumer domain (`gmail.com` → google), or null: look up its MX. */
export function wellKnownProvider(domain: string): MatchedProvider | null {
  return WELL_KNOWN_DOMAINS.get(normalizeHost(domain)) ?? null
}
