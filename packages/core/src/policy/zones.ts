/**
 * Lead time zones, skip dates and holidays: which of a campaign's pending emails may leave now.
 *
 * Every lead has a **window key** (`windowKeyOf`): its time zone and country, the two things that
 * decide when its emails may leave (and, under provider matching, its provider: which mailboxes
 * it may leave from). Items carry their lead's key, and a reservation lists the keys
 * that may leave now (`ReserveRequest.windowKeys`): the store filters on membership, and every rule
 * of *which* keys may leave lives here, pure, as functions of the campaign, the key and `now`.
 */
import { invalidInput, isMailcadenceError } from '../errors.js'
import { describeValue } from '../model/describe.js'
import type { Campaign, EmailProvider } from '../model/types.js'
import type { WindowKeyStat } from '../store.js'
import {
  dayKey,
  dayOfKey,
  isInWindow,
  nextLocalMidnight,
  nextWindowOpen,
  type WindowSpec,
  windowDayKey,
} from './calendar.js'
import { isMatchedProvider } from './provider.js'

/**
 * A host's holiday calendar: the public holidays of `country` (ISO 3166-1 alpha-2) in `year`, as
 * `YYYY-MM-DD` local dates. Called once per country and year, then cached.
 */
export type HolidayCalendar = (country: string, year: number) => readonly string[]

/**
 * The window key of a lead: `''` when it has neither zone nor country, else `zone|country`; with
 * a matched `provider` (google, microsoft, yahoo: provider matching, policy/provider.ts) a third
 * part, `zone|country|provider`. A lead of provider `other` or unknown keeps the two-part key, so
 * keys made before provider matching existed read the same. At most 80 characters (the store's
 * bound): an IANA zone, a 2-letter country and a provider name are far shorter.
 */
export function windowKeyOf(
  lead: { timezone: string | null; country: string | null },
  provider?: EmailProvider | null,
): string {
  if (isMatchedProvider(provider)) return `${lead.timezone ?? ''}|${lead.country ?? ''}|${provider}`
  if (lead.timezone === null && lead.country === null) return ''
  return `${lead.timezone ?? ''}|${lead.country ?? ''}`
}

/** The zone, country and provider a window key was made of ({@link windowKeyOf} in reverse). */
export function parseWindowKey(key: string): {
  timezone: string | null
  country: string | null
  provider: EmailProvider
} {
  if (!key.includes('|')) return { timezone: null, country: null, provider: 'other' }
  const [timezone = '', country = '', provider] = key.split('|')
  return {
    timezone: timezone || null,
    country: country || null,
    provider: isMatchedProvider(provider) ? provider : 'other',
  }
}

/** Where a key stands at an instant, for `explain()`. */
export interface KeyState {
  open: boolean
  /** The first instant at or after `now` the key's window is open. */
  opensAt: Date
  /** The key's window would be open now but for this skip date or holiday (`YYYY-MM-DD`). */
  skipDate: string | null
  /** The zone the key's window is read in. */
  timezone: string
}

export interface KeyCalendars {
  /**
   * Whether the campaign's keys matter: it sends in its leads' hours, holidays are on, or it
   * matches providers (the keys carry the recipients' providers).
   */
  isKeyed(campaign: Campaign): boolean
  /**
   * The window a key's items leave in, around instant `at`: the campaign's hours and days, read in
   * the lead's zone in `'lead'` mode (the campaign's when the key has none, and always in
   * `'campaign'` mode), skipping the campaign's skip dates and the holidays of the key's country
   * (the year of `at`, the one before and the one after).
   */
  specFor(campaign: Campaign, windowKey: string, at: Date): WindowSpec
  /**
   * The keys whose items may leave now (window open, an item due), and the first instant after
   * `now` at which another key may (its window open and an item due), or null when none can.
   */
  openKeys(
    campaign: Campaign,
    keys: readonly WindowKeyStat[],
    now: Date,
  ): { open: string[]; nextAt: Date | null }
  /** Where one key stands now. */
  keyState(campaign: Campaign, windowKey: string, now: Date): KeyState
  /**
   * The campaign's daily cap in force now, shared by the zones that open during its day: see
   * {@link spreadDailyCap}. The campaign's own `maxEmailsPerDay` unless it sends in its leads' hours.
   */
  dailyCap(campaign: Campaign, keys: readonly WindowKeyStat[], now: Date): number
  /**
   * The day the campaign's count is kept for: the window day in `'campaign'` mode (null outside the
   * window), the calendar day of its `timezone` in `'lead'` mode.
   */
  campaignDayKey(campaign: Campaign, now: Date): string | null
}

/** Specs kept per calendar set; a tick asks for the same few over and over. */
const SPEC_CACHE_LIMIT = 4096
const HOLIDAY_CACHE_LIMIT = 2048

export function createKeyCalendars(holidays?: HolidayCalendar): KeyCalendars {
  const specs = new Map<string, WindowSpec>()
  const holidayYears = new Map<string, readonly string[]>()

  function holidaysOf(country: string, year: number): readonly string[] {
    const cacheKey = `${country}|${year}`
    let dates = holidayYears.get(cacheKey)
    if (dates === undefined) {
      dates = checkHolidays(holidays!, country, year)
      if (holidayYears.size >= HOLIDAY_CACHE_LIMIT) holidayYears.clear()
      holidayYears.set(cacheKey, dates)
    }
    return dates
  }

  function specFor(campaign: Campaign, windowKey: string, at: Date): WindowSpec {
    const year = at.getUTCFullYear()
    const cacheKey = `${settingsFingerprint(campaign)}\0${windowKey}\0${year}`
    const cached = specs.get(cacheKey)
    if (cached !== undefined) return cached
    const { timezone: leadZone, country } = parseWindowKey(windowKey)
    const timezone = campaign.windowTimezone === 'lead' && leadZone !== null ? leadZone : campaign.timezone
    let skipDates: readonly string[] = campaign.skipDates
    if (holidays !== undefined && country !== null) {
      skipDates = [
        ...campaign.skipDates,
        ...holidaysOf(country, year - 1),
        ...holidaysOf(country, year),
        ...holidaysOf(country, year + 1),
      ]
    }
    const spec: WindowSpec = {
      timezone,
      startHour: campaign.startHour,
      startMinute: campaign.startMinute,
      endHour: campaign.endHour,
      endMinute: campaign.endMinute,
      allowedDays: campaign.allowedDays,
      skipDates,
    }
    if (specs.size >= SPEC_CACHE_LIMIT) specs.clear()
    specs.set(cacheKey, spec)
    return spec
  }

  const calendars: KeyCalendars = {
    isKeyed: (campaign) =>
      campaign.windowTimezone === 'lead' ||
      holidays !== undefined ||
      (campaign.providerMatching ?? 'off') !== 'off',
    specFor,

    openKeys(campaign, keys, now) {
      const open: string[] = []
      let nextAt: Date | null = null
      const nowMs = now.getTime()
      for (const { windowKey, nextAt: itemAt } of keys) {
        const from = itemAt.getTime() > nowMs ? itemAt : now
        const opens = nextWindowOpen(specFor(campaign, windowKey, from), from)
        if (opens.getTime() <= nowMs) open.push(windowKey)
        else if (nextAt === null || opens.getTime() < nextAt.getTime()) nextAt = opens
      }
      return { open, nextAt }
    },

    keyState(campaign, windowKey, now) {
      const spec = specFor(campaign, windowKey, now)
      const open = isInWindow(spec, now)
      let skipDate: string | null = null
      if (!open && spec.skipDates !== undefined && spec.skipDates.length > 0) {
        skipDate = windowDayKey({ ...spec, skipDates: [] }, now)
      }
      return { open, opensAt: open ? now : nextWindowOpen(spec, now), skipDate, timezone: spec.timezone }
    },

    dailyCap(campaign, keys, now) {
      if (campaign.windowTimezone !== 'lead' || keys.length < 2) return campaign.maxEmailsPerDay
      const dayEnd = nextLocalMidnight(now, campaign.timezone)
      const dayStart = localDayStart(now, campaign.timezone)
      const openings: number[] = []
      for (const { windowKey, nextAt } of keys) {
        if (nextAt.getTime() >= dayEnd.getTime()) continue
        const from = nextAt.getTime() > dayStart.getTime() ? nextAt : dayStart
        const opens = nextWindowOpen(specFor(campaign, windowKey, from), from)
        if (opens.getTime() < dayEnd.getTime()) openings.push(opens.getTime())
      }
      return spreadDailyCap(campaign.maxEmailsPerDay, openings, now.getTime())
    },

    campaignDayKey(campaign, now) {
      return campaign.windowTimezone === 'lead' ? dayKey(now, campaign.timezone) : windowDayKey(campaign, now)
    },
  }
  return calendars
}

/**
 * The cap spread over zones. `openings` are the instants (ms) at which each key with pending
 * emails first opens during the campaign's day; keys opening at the same instant form one group.
 * With `n` groups, of which `k` have opened by `now`, the cap in force is ⌈max × k / n⌉: the zones
 * that open first cannot use up the day before the others open, a share a zone leaves unused
 * carries on to the zones after it, and once the last group opens the whole cap is available. A
 * key whose emails are all sent leaves the count, so the shares are those of the zones still
 * waiting. With one group (or none) the cap is `max`.
 */
export function spreadDailyCap(max: number, openings: readonly number[], nowMs: number): number {
  const groups = new Set(openings)
  if (groups.size < 2) return max
  let opened = 0
  for (const at of groups) if (at <= nowMs) opened++
  return Math.ceil((max * opened) / groups.size)
}

/** The first instant of the local day holding `instant` in `timeZone`. */
function localDayStart(instant: Date, timeZone: string): Date {
  // The next midnight, minus a day and a half, lands in the previous day; its next midnight is
  // the start of this one (whatever DST did in between).
  const next = nextLocalMidnight(instant, timeZone)
  return nextLocalMidnight(new Date(next.getTime() - 36 * 3_600_000), timeZone)
}

/** The campaign settings a window spec depends on, as one string. */
function settingsFingerprint(c: Campaign): string {
  return `${c.timezone}\0${c.windowTimezone}\0${c.startHour}:${c.startMinute}-${c.endHour}:${c.endMinute}\0${c.allowedDays}\0${c.skipDates.join(',')}`
}

/** A host's holiday answer, checked: a list of real `YYYY-MM-DD` dates, else `invalid-input` naming `holidays`. */
function checkHolidays(holidays: HolidayCalendar, country: string, year: number): readonly string[] {
  let dates: unknown[] | null
  try {
    const answer: unknown = holidays(country, year)
    // Copied once, inside the try: a Proxy or a getter in the answer runs the host's code here.
    dates = Array.isArray(answer) ? Array.from(answer as unknown[]) : null
    if (dates === null)
      throw invalidInput(
        'holidays',
        `must return an array of YYYY-MM-DD dates for ${country} ${year}, got ${describeValue(answer)}`,
      )
  } catch (error) {
    if (isMailcadenceError(error, 'invalid-input') && error.field === 'holidays') throw error
    throw invalidInput('holidays', `threw for ${country} ${year}: ${describeValue(error)}`)
  }
  for (const date of dates) {
    if (typeof date !== 'string' || dayOfKey(date) === null)
      throw invalidInput(
        'holidays',
        `returned ${describeValue(date)} for ${country} ${year}: not a YYYY-MM-DD date`,
      )
  }
  return Object.freeze(dates as string[])
}
