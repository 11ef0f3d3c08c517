/**
 * Input of issue #13 checked where it enters: a campaign's `windowTimezone` and `skipDates`, a
 * mailbox's `skipDates`, a lead's `timezone` and `country` (by `addLeads` and by an import), and
 * the window key a lead gets from them.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMailcadenceError, type MailcadenceError } from '../src/errors.js'
import { planImport } from '../src/migration/plan.js'
import type { ImportInput } from '../src/migration/types.js'
import { INPUT_LIMITS } from '../src/model/limits.js'
import type { CampaignInput, LeadInput, MailboxInput } from '../src/model/types.js'
import { prepareLead, validateCampaign, validateMailbox } from '../src/model/validate.js'
import { isValidTimeZone } from '../src/policy/calendar.js'

function invalid(fn: () => unknown, field: string): MailcadenceError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(isMailcadenceError(caught, 'invalid-input'), `${field}: got ${String(caught)}`).toBe(true)
  const error = caught as MailcadenceError
  expect(error.field).toBe(field)
  expect(error.message.startsWith(`${field}: `)).toBe(true)
  return error
}

const campaign = (overrides: Partial<CampaignInput> = {}): CampaignInput => ({
  name: 'Q4 outreach',
  mailboxIds: ['mb-1'],
  steps: [{ subject: 'Hi', text: 'Hello' }],
  ...overrides,
})
const mailbox = (overrides: Partial<MailboxInput> = {}): MailboxInput => ({
  email: 'anna@acme.test',
  dailyEmailLimit: 50,
  ...overrides,
})
const none = new Set<string>()
const lead = (overrides: Partial<LeadInput>) => prepareLead({ email: 'jan@x.test', ...overrides }, none)

describe('windowTimezone', () => {
  it("defaults to 'campaign' and takes 'lead'", () => {
    expect(validateCampaign(campaign()).windowTimezone).toBe('campaign')
    expect(validateCampaign(campaign({ windowTimezone: 'lead' })).windowTimezone).toBe('lead')
  })

  it.each<unknown>(['Lead', 'lead ', 'utc', '', null, 1, {}])('refuses %p', (value) => {
    invalid(() => validateCampaign(campaign({ windowTimezone: value as 'lead' })), 'windowTimezone')
  })
})

describe('skipDates of campaigns and mailboxes', () => {
  const validators = [
    [
      'campaign',
      (skipDates: unknown) => validateCampaign(campaign({ skipDates: skipDates as string[] })).skipDates,
    ],
    [
      'mailbox',
      (skipDates: unknown) => validateMailbox(mailbox({ skipDates: skipDates as string[] })).skipDates,
    ],
  ] as const

  it.each(validators)('%s: default none, deduplicated and sorted', (_, skipDates) => {
    expect(skipDates(undefined)).toEqual([])
    expect(skipDates([])).toEqual([])
    expect(skipDates(['2026-12-25', '2026-01-01', '2026-12-25', '2024-02-29'])).toEqual([
      '2024-02-29',
      '2026-01-01',
      '2026-12-25',
    ])
    expect(skipDates(['1970-01-01', '8999-12-31'])).toEqual(['1970-01-01', '8999-12-31'])
  })

  it.each(validators)(
    '%s: refuses a date that is not a real YYYY-MM-DD in 1970–8999, naming it',
    (_, skipDates) => {
      for (const bad of [
        '2026-02-30',
        '2025-02-29',
        '2026-13-01',
        '2026-1-1',
        '2026-01-01T00:00:00Z',
        ' 2026-01-01',
        '1969-12-31',
        '9000-01-01',
        '0000-01-01',
        20260101,
        null,
        new Date(),
      ]) {
        const error = invalid(() => skipDates(['2026-01-01', bad]), 'skipDates[1]')
        expect(error.message).not.toMatch(/[\r\n]/)
      }
    },
  )

  it.each(validators)(
    '%s: refuses a value that is not an array, and more than INPUT_LIMITS.skipDates dates',
    (_, skipDates) => {
      invalid(() => skipDates('2026-01-01'), 'skipDates')
      invalid(() => skipDates({ 0: '2026-01-01', length: 1 }), 'skipDates')
      expect(INPUT_LIMITS.skipDates).toBe(1000)
      const days = (n: number) =>
        Array.from({ length: n }, (_, i) =>
          new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
        )
      expect(skipDates(days(1000))).toHaveLength(1000)
      invalid(() => skipDates(days(1001)), 'skipDates')
    },
  )

  it('checks an update the same way: the merged settings are validated again', () => {
    const current = validateCampaign(campaign({ skipDates: ['2026-12-25'] }))
    expect(validateCampaign({ ...current, skipDates: ['2026-12-24', '2026-12-24'] }).skipDates).toEqual([
      '2026-12-24',
    ])
    invalid(() => validateCampaign({ ...current, skipDates: ['24.12.2026'] }), 'skipDates[0]')
    invalid(() => validateCampaign({ ...current, windowTimezone: 'zone' as 'lead' }), 'windowTimezone')
    const box = validateMailbox(mailbox())
    invalid(() => validateMailbox({ ...box, skipDates: ['2026-02-29'] }), 'skipDates[0]')
  })

  it('accepts every real date of the accepted years and refuses every impossible day (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(8999, 11, 31) / 86_400_000 }), (day) => {
        const date = new Date(day * 86_400_000).toISOString().slice(0, 10)
        expect(validateMailbox(mailbox({ skipDates: [date] })).skipDates).toEqual([date])
      }),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 1970, max: 8999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 29, max: 40 }),
        (y, m, d) => {
          const date = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
          const real = new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d
          if (real) expect(validateMailbox(mailbox({ skipDates: [date] })).skipDates).toEqual([date])
          else invalid(() => validateMailbox(mailbox({ skipDates: [date] })), 'skipDates[0]')
        },
      ),
    )
  })
})

describe('a lead’s time zone and country', () => {
  it('keeps neither when none is given, and keys the lead by what is', () => {
    expect(lead({})).toMatchObject({ timezone: null, country: null, windowKey: '' })
    expect(lead({ timezone: null, country: '' })).toMatchObject({
      timezone: null,
      country: null,
      windowKey: '',
    })
    expect(lead({ timezone: 'Asia/Tokyo', country: 'JP' })).toMatchObject({
      timezone: 'Asia/Tokyo',
      country: 'JP',
      windowKey: 'Asia/Tokyo|JP',
    })
    expect(lead({ timezone: 'Europe/Warsaw' })).toMatchObject({ windowKey: 'Europe/Warsaw|' })
    expect(lead({ country: 'pl' })).toMatchObject({ country: 'PL', windowKey: '|PL' })
  })

  it('writes a zone one way however the lead cased it, so equal zones share a key', () => {
    expect(lead({ timezone: 'asia/tokyo' })).toMatchObject({ timezone: 'Asia/Tokyo' })
    expect(lead({ timezone: 'AMERICA/NEW_YORK' })).toMatchObject({ timezone: 'America/New_York' })
    // Which of a zone's aliases Intl writes (Asia/Calcutta or Asia/Kolkata) depends on the runtime's ICU.
    expect(lead({ timezone: 'asia/kolkata' })).toEqual(lead({ timezone: 'Asia/Kolkata' }))
  })

  it.each<unknown>(['Mars/Olympus', 'Asia/Tokyo ', 'x'.repeat(65), 42, {}, ['Asia/Tokyo']])(
    'makes a lead with the time zone %p invalid, with a reason',
    (timezone) => {
      const result = lead({ timezone: timezone as string })
      expect(result).toEqual({ reason: expect.stringMatching(/^timezone: unknown time zone /) })
      expect((result as { reason: string }).reason).not.toContain('x'.repeat(50))
    },
  )

  it.each<unknown>([
    'POL',
    'P1',
    'Poland',
    'EU',
    'UN',
    'UK',
    'SU',
    'YU',
    'ZZ',
    'AA',
    'XX',
    'AC',
    'IC',
    'EA',
    ' PL',
    5,
    {},
  ])('makes a lead with the country %p invalid, with a reason', (country) => {
    expect(lead({ country: country as string })).toEqual({ reason: expect.stringMatching(/^country /) })
  })

  it.each(['PL', 'US', 'JP', 'IN', 'GB', 'DE', 'AQ', 'XK', 'SS', 'ax'])(
    'accepts the country %s',
    (country) => {
      expect(lead({ country })).toMatchObject({ country: country.toUpperCase() })
    },
  )
})

describe('any lead time zone and country (property)', () => {
  it('never throw: the lead is valid with a known zone and an upper-case code, or invalid with a reason', () => {
    const zoneArb = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.constantFrom('UTC', 'Asia/Tokyo', 'europe/WARSAW', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires'),
      fc.anything(),
    )
    const countryArb = fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.stringMatching(/^[A-Za-z]{2}$/),
      fc.anything(),
    )
    fc.assert(
      fc.property(zoneArb, countryArb, (timezone, country) => {
        const result = lead({ timezone: timezone as string, country: country as string })
        if ('reason' in result) {
          expect(result.reason).toMatch(/^(timezone|country)[: ]/)
          expect(result.reason).not.toMatch(/[\r\n\0]/)
          return
        }
        if (result.timezone !== null) expect(isValidTimeZone(result.timezone)).toBe(true)
        if (result.country !== null) expect(result.country).toMatch(/^[A-Z]{2}$/)
        expect(result.windowKey).toBe(
          result.timezone === null && result.country === null
            ? ''
            : `${result.timezone ?? ''}|${result.country ?? ''}`,
        )
      }),
      { numRuns: 500 },
    )
  })
})

describe('an imported lead’s time zone and country', () => {
  const input = (leads: ImportInput['leads']): ImportInput => ({
    externalId: 'legacy-1',
    campaign: campaign(),
    leads,
  })
  const NOW = new Date('2026-01-05T11:00:00Z')
  const plan = (i: ImportInput) =>
    planImport(i, {
      campaign: validateCampaign(i.campaign),
      mailboxes: [],
      existing: new Map(),
      now: NOW,
      random: () => 0.5,
    })

  it('takes them as addLeads does, and refuses a lead with a bad one as an issue', () => {
    const { leads, report } = plan(
      input([
        { email: 'jan@x.test', timezone: 'europe/warsaw', country: 'pl' },
        { email: 'ann@x.test', timezone: 'Atlantis/Capital' },
        { email: 'bob@x.test', country: 'EU' },
      ]),
    )
    expect(leads.map((l) => [l.emailKey, l.timezone, l.country, l.windowKey])).toEqual([
      ['jan@x.test', 'Europe/Warsaw', 'PL', 'Europe/Warsaw|PL'],
    ])
    expect(report.issues.map((i) => [i.code, i.email])).toEqual([
      ['invalid-lead', 'ann@x.test'],
      ['invalid-lead', 'bob@x.test'],
    ])
  })
})
