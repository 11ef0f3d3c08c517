/**
 * Whether a campaign may send at an instant, and with what: its window day, its daily cap in force
 * and, for a keyed campaign (lead time zones, holidays), the window keys that may leave. One rule
 * for the two kinds of campaign, so the loop in run-campaign.ts does not branch on them.
 */
import type { Campaign } from '../../model/types.js'
import { nextWindowOpen, type WindowSpec, windowCloseAt, windowDayKey } from '../../policy/calendar.js'
import type { KeyCalendars } from '../../policy/zones.js'
import type { Store, WindowKeyStat } from '../../store.js'
import {
  campaignDueAt,
  campaignLimitClears,
  closedBySkipDate,
  type HeldBy,
  keyedDeferralUntil,
  keyedDueAt,
  leadCampaignLimitClears,
} from '../due.js'

export interface Gate {
  /** The first instant the campaign may send (`now` when it may now). */
  at: Date
  heldBy: HeldBy | null
  /** When it may send: the request's `campaignDayKey` (null: the window closed meanwhile, look again). */
  campaignDayKey: string | null
  /** The request's `maxEmailsPerDay`: the cap in force now. */
  maxEmailsPerDay: number
  /** Keyed campaigns: the request's `windowKeys`. */
  windowKeys?: string[]
  /**
   * In its leads' hours, when the open keys' windows opened at different instants: those that
   * opened last. Asked for first, so that the share of the cap a zone's opening adds goes to that
   * zone rather than to the older emails of zones open since earlier (see `spreadDailyCap`).
   */
  newestKeys?: string[]
  /**
   * Provider matching: the request's `rotation` for the keys asked for (tick/provider-routing.ts).
   * Absent: the campaign's `mailboxIds`.
   */
  rotation?: readonly string[]
}

export interface CampaignGate {
  /**
   * Keyed campaigns: reads the window keys from the store, unless still fresh. Absent otherwise, so
   * that a campaign whose keys do not matter costs no extra await per round.
   */
  refresh?(): Promise<void>
  /** Keyed campaigns: the window keys last read, with the earliest item of each. */
  keyStats?(): readonly WindowKeyStat[]
  /** Whether a keyed campaign's keys read empty: it has nothing pending. */
  readonly drained: boolean
  /** The queue may have changed (a round sent, a reservation was refused): read the keys again. */
  stale(): void
  look(nextItemAt: Date, now: Date): Gate
  /** Holds closed past the horizon: until when the store may leave the campaign out, or null. */
  deferUntil(now: Date): Date | null
  /** When a campaign at its daily cap may send again. */
  limitClears(now: Date): Date
}

/** Holds that close the campaign for a while whatever its queue: reported even after sends, deferred. */
export function isWindowHold(heldBy: HeldBy): boolean {
  return heldBy === 'outside-window' || heldBy === 'skip-date' || heldBy === 'lead-window'
}

export function createGate(calendars: KeyCalendars, store: Store, campaign: Campaign): CampaignGate {
  return calendars.isKeyed(campaign) ? keyedGate(calendars, store, campaign) : plainGate(campaign)
}

/** A campaign whose leads' keys do not matter: today's rules, no store call. */
function plainGate(campaign: Campaign): CampaignGate {
  return {
    drained: false,
    stale() {},
    look(nextItemAt, now) {
      const due = campaignDueAt(campaign, nextItemAt, now)
      let heldBy: HeldBy | null = due.heldBy
      // Cheap: asked only with the window closed now, and only for a campaign with skip dates.
      if (heldBy === 'outside-window' && closedBySkipDate(campaign, now)) heldBy = 'skip-date'
      return {
        at: due.at,
        heldBy,
        // A send starts only inside the window: a wait that overshot its end looks again.
        campaignDayKey: heldBy ? null : windowDayKey(campaign, now),
        maxEmailsPerDay: campaign.maxEmailsPerDay,
      }
    },
    // From the settings and the clock alone, not the queue: an item added later changes nothing.
    deferUntil: (now) => nextWindowOpen(campaign, now),
    limitClears: (now) => campaignLimitClears(campaign, now),
  }
}

/**
 * A keyed campaign: its pending window keys are read once per tick, and again once the queue may
 * have changed; each look computes the keys open now, the cap spread over the zones of the day,
 * and the campaign's day key (policy/zones.ts).
 */
function keyedGate(calendars: KeyCalendars, store: Store, campaign: Campaign): CampaignGate {
  // The keys last read, and whether they still hold: stale ones are read again before the next
  // round, but still answer the look at the end of the tick (a lower bound of the next due time,
  // without a store call).
  let keys: WindowKeyStat[] = []
  let fresh = false
  const read = () => keys
  return {
    async refresh() {
      if (fresh) return
      keys = await store.listWindowKeys(campaign.id)
      fresh = true
    },
    keyStats: read,
    get drained() {
      return fresh && keys.length === 0
    },
    stale() {
      fresh = false
    },
    look(_nextItemAt, now) {
      const due = keyedDueAt(calendars, campaign, read(), now)
      if (due.heldBy) return { at: due.at, heldBy: due.heldBy, campaignDayKey: null, maxEmailsPerDay: 0 }
      const newestKeys =
        campaign.windowTimezone === 'lead' && due.open.length > 1
          ? openedLast(calendars, campaign, due.open, now)
          : null
      return {
        at: due.at,
        heldBy: null,
        campaignDayKey: calendars.campaignDayKey(campaign, now),
        maxEmailsPerDay: calendars.dailyCap(campaign, read(), now),
        windowKeys: due.open,
        ...(newestKeys ? { newestKeys } : {}),
      }
    },
    deferUntil: (now) => keyedDeferralUntil(calendars, campaign, read(), now),
    limitClears: (now) =>
      campaign.windowTimezone === 'lead'
        ? leadCampaignLimitClears(calendars, campaign, read(), now)
        : campaignLimitClears(campaign, now),
  }
}

/** The keys, open at `now`, whose window opened last; null when they all opened together. */
function openedLast(
  calendars: KeyCalendars,
  campaign: Campaign,
  open: readonly string[],
  now: Date,
): string[] | null {
  let latest = Number.NEGATIVE_INFINITY
  let newest: string[] = []
  for (const key of open) {
    const opened = openedAt(calendars.specFor(campaign, key, now), now)
    if (opened > latest) {
      latest = opened
      newest = [key]
    } else if (opened === latest) newest.push(key)
  }
  return newest.length < open.length ? newest : null
}

/**
 * When the window open at `now` opened (ms): the first opening after two days back whose window
 * still holds `now` (touching windows count as one, as `windowCloseAt` has them).
 */
function openedAt(spec: WindowSpec, now: Date): number {
  let opens = nextWindowOpen(spec, new Date(now.getTime() - 2 * DAY_MS))
  for (let i = 0; i < 8 && opens.getTime() < now.getTime(); i++) {
    const closes = windowCloseAt(spec, opens)
    if (closes.getTime() > now.getTime()) break
    opens = nextWindowOpen(spec, closes)
  }
  return opens.getTime()
}

const DAY_MS = 86_400_000
