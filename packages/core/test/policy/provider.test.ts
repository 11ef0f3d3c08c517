/**
 * Provider matching's pure policy (policy/provider.ts): a domain's provider from its MX exchanges,
 * the well-known consumer domains, and the provider part of window keys (policy/zones.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Campaign } from '../../src/model/types.js'
import { CAMPAIGN_DEFAULTS } from '../../src/model/validate.js'
import {
  isMatchedProvider,
  providerOfExchange,
  providerOfMx,
  wellKnownProvider,
} from '../../src/policy/provider.js'
import { createKeyCalendars, parseWindowKey, windowKeyOf } from '../../src/policy/zones.js'

describe('providerOfMx', () => {
  it('reads Google, Microsoft and Yahoo from their MX hosts, whatever the case or trailing dot', () => {
    expect(providerOfMx(['aspmx.l.google.com', 'alt1.aspmx.l.google.com'])).toBe('google')
    expect(providerOfMx(['ASPMX.L.GOOGLE.COM.'])).toBe('google')
    expect(providerOfMx(['smtp.google.com'])).toBe('google')
    expect(providerOfMx(['gmail-smtp-in.l.google.com'])).toBe('google')
    expect(providerOfMx(['mx.googlemail.com'])).toBe('google')
    expect(providerOfMx(['contoso-com.mail.protection.outlook.com'])).toBe('microsoft')
    expect(providerOfMx(['outlook-com.olc.protection.outlook.com'])).toBe('microsoft')
    expect(providerOfMx(['mx1.hotmail.com'])).toBe('microsoft')
    expect(providerOfMx(['mta5.am0.yahoodns.net'])).toBe('yahoo')
    expect(providerOfMx(['mx-aol.mail.gm0.yahoodns.net'])).toBe('yahoo')
    expect(providerOfMx(['mx.yahoo.com'])).toBe('yahoo')
  })

  it('a custom domain is read by its MX, not its name: Google Workspace and Microsoft 365 domains are matched', () => {
    // What a guess from the domain string calls unknown: acme.com with Google's or Microsoft's MX.
    expect(wellKnownProvider('acme.com')).toBeNull()
    expect(providerOfMx(['aspmx.l.google.com', 'alt2.aspmx.l.google.com'])).toBe('google')
    expect(providerOfMx(['acme-com.mail.protection.outlook.com'])).toBe('microsoft')
  })

  it('the most preferred exchange decides; no exchange, look-alikes and other hosts are other', () => {
    expect(providerOfMx([])).toBe('other')
    expect(providerOfMx(['mx.acme.com', 'aspmx.l.google.com'])).toBe('other')
    expect(providerOfMx(['eu-smtp-inbound-1.mimecast.com'])).toBe('other')
    expect(providerOfExchange('google.com.evil.test')).toBe('other')
    expect(providerOfExchange('notgoogle.com')).toBe('other')
    expect(providerOfExchange('fakeoutlook.com')).toBe('other')
    expect(providerOfExchange('google.com')).toBe('other')
  })

  it('any host under a provider suffix is that provider; any other host is other', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/)
    const suffix = fc.constantFrom(
      ['google', 'google.com'],
      ['google', 'googlemail.com'],
      ['microsoft', 'mail.protection.outlook.com'],
      ['microsoft', 'outlook.com'],
      ['microsoft', 'hotmail.com'],
      ['yahoo', 'yahoodns.net'],
      ['yahoo', 'yahoo.com'],
    )
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 3 }), suffix, (labels, [provider, s]) => {
        expect(providerOfMx([`${labels.join('.')}.${s}`, 'mx.other.test'])).toBe(provider)
        expect(providerOfMx([`${labels.join('.')}.example.net`, `mx.${s}`])).toBe('other')
      }),
    )
  })
})

describe('wellKnownProvider', () => {
  it('answers the large consumer domains without a lookup', () => {
    for (const d of ['gmail.com', 'googlemail.com']) expect(wellKnownProvider(d)).toBe('google')
    for (const d of ['outlook.com', 'hotmail.com', 'live.com', 'msn.com'])
      expect(wellKnownProvider(d)).toBe('microsoft')
    for (const d of ['yahoo.com', 'ymail.com', 'rocketmail.com', 'aol.com'])
      expect(wellKnownProvider(d)).toBe('yahoo')
    expect(wellKnownProvider('GMAIL.COM')).toBe('google')
    expect(wellKnownProvider('mail.gmail.com')).toBeNull()
    expect(wellKnownProvider('example.com')).toBeNull()
  })
})

describe('window keys with a provider', () => {
  it('adds a third part for matched providers only, so other keys are as before', () => {
    expect(windowKeyOf({ timezone: null, country: null })).toBe('')
    expect(windowKeyOf({ timezone: null, country: null }, 'other')).toBe('')
    expect(windowKeyOf({ timezone: null, country: null }, null)).toBe('')
    expect(windowKeyOf({ timezone: null, country: null }, 'google')).toBe('||google')
    expect(windowKeyOf({ timezone: 'Europe/Warsaw', country: 'PL' }, 'microsoft')).toBe(
      'Europe/Warsaw|PL|microsoft',
    )
    expect(windowKeyOf({ timezone: 'Europe/Warsaw', country: null }, 'other')).toBe('Europe/Warsaw|')
    expect(parseWindowKey('')).toEqual({ timezone: null, country: null, provider: 'other' })
    expect(parseWindowKey('|US')).toEqual({ timezone: null, country: 'US', provider: 'other' })
    expect(parseWindowKey('Asia/Tokyo|JP|yahoo')).toEqual({
      timezone: 'Asia/Tokyo',
      country: 'JP',
      provider: 'yahoo',
    })
    for (const p of ['google', 'microsoft', 'yahoo']) expect(isMatchedProvider(p)).toBe(true)
    for (const p of ['other', null, undefined, 'GOOGLE']) expect(isMatchedProvider(p)).toBe(false)
  })

  it('a campaign that matches providers is keyed, one that does not is as before', () => {
    const calendars = createKeyCalendars()
    const base = { ...CAMPAIGN_DEFAULTS } as unknown as Campaign
    expect(calendars.isKeyed({ ...base, providerMatching: 'off' })).toBe(false)
    expect(calendars.isKeyed({ ...base, providerMatching: 'prefer' })).toBe(true)
    expect(calendars.isKeyed({ ...base, providerMatching: 'strict' })).toBe(true)
  })
})
