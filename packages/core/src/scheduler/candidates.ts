/**
 * A tick's view of the mailboxes: for a campaign at an instant, its mailboxes in its own order,
 * those not paused nor on one of their skip dates nor at their hourly cap, and the fields a reservation offers for each (day
 * key, limit, sender domain). Every reservation round needs them and they rarely change, so a set
 * is kept until a paused mailbox comes back, a mailbox's day ends, or a send pauses one (`update`).
 */

import { domainOf } from '../message/build.js'
import type { Campaign, Mailbox } from '../model/types.js'
import { dayKey as localDayKey, nextLocalMidnight } from '../policy/calendar.js'
import { dailyLimitOf } from '../policy/ramp.js'
import { isPaused } from './due.js'
import type { TickSkipReason } from './events.js'

export interface CandidateSet {
  /** The mailboxes' version it was made from; `update` bumps it. */
  version: number
  /** The instants between which it holds. */
  from: number
  until: number
  ordered: Mailbox[]
  usable: Mailbox[]
  /** When the first paused mailbox comes back, if any is paused. */
  pausedUntil: Date | null
  /**
   * When the first mailbox on one of its skip dates comes back (its next local midnight), if any
   * is: like a paused one, it is no candidate on that local day.
   */
  skipDateUntil: Date | null
  /** When the first mailbox at its hourly cap comes back (its next local hour), if any is. */
  hourFullUntil: Date | null
  /** The usable mailboxes' candidate fields and sender domain. */
  entries: Array<{ id: string; dayKey: string; limit: number; email: string; domain: string }>
}

/**
 * `hourFull`: mailboxes this process saw at their hourly cap, until when (ms): no candidate until
 * then (tick/limit-claims.ts).
 */
export function createCandidates(
  mailboxes: Map<string, Mailbox>,
  hourFull: ReadonlyMap<string, number> = new Map(),
) {
  const dayKeys = createDayKeyCache()
  let version = 0
  return {
    /** The campaign's candidate set at `now`: `last` when it still holds, else a fresh one. */
    at(campaign: Campaign, now: Date, last?: CandidateSet): CandidateSet {
      const nowMs = now.getTime()
      if (last && last.version === version && nowMs >= last.from && nowMs < last.until) return last
      const ordered: Mailbox[] = []
      const usable: Mailbox[] = []
      const entries: CandidateSet['entries'] = []
      let pausedUntil: Date | null = null
      let skipDateUntil: Date | null = null
      let hourFullUntil: Date | null = null
      let until = Number.POSITIVE_INFINITY
      for (const id of campaign.mailboxIds) {
        const m = mailboxes.get(id)
        if (m === undefined) continue
        ordered.push(m)
        if (isPaused(m, now)) {
          if (!pausedUntil || m.pausedUntil! < pausedUntil) pausedUntil = m.pausedUntil
          until = Math.min(until, m.pausedUntil!.getTime())
          continue
        }
        const fullUntil = hourFull.get(m.id)
        if (fullUntil !== undefined && fullUntil > nowMs) {
          until = Math.min(until, fullUntil)
          if (!hourFullUntil || fullUntil < hourFullUntil.getTime()) hourFullUntil = new Date(fullUntil)
          continue
        }
        const dayKey = dayKeys.at(m.timezone, nowMs)
        until = Math.min(until, dayKeys.until(m.timezone))
        if (m.skipDates.length > 0 && m.skipDates.includes(dayKey)) {
          const back = dayKeys.until(m.timezone)
          if (!skipDateUntil || back < skipDateUntil.getTime()) skipDateUntil = new Date(back)
          continue
        }
        usable.push(m)
        entries.push({
          id: m.id,
          dayKey,
          // The warm-up's limit of the day when it ramps: the reservation never passes it.
          limit: dailyLimitOf(m),
          email: m.email,
          domain: domainOf(m.email),
        })
      }
      return {
        version,
        from: nowMs,
        until,
        ordered,
        usable,
        pausedUntil,
        skipDateUntil,
        hourFullUntil,
        entries,
      }
    },
    /** A mailbox changed (a send paused it): every set made before is stale. */
    update(mailbox: Mailbox): void {
      mailboxes.set(mailbox.id, mailbox)
      version++
    },
  }
}

/**
 * Why a campaign with no usable mailbox skips, and until when: `hourly-limit` when only hourly caps
 * hold its mailboxes, `skip-date` when one of its mailboxes is out for a skip date (explain() then
 * names it), else `mailbox-paused`; until the first mailbox
 * comes back, whichever way it is out.
 */
export function noUsableMailbox(set: CandidateSet): { reason: TickSkipReason; until: Date | null } {
  const { pausedUntil, skipDateUntil, hourFullUntil } = set
  // Only hourly caps hold it: back within the hour.
  if (hourFullUntil && !pausedUntil && !skipDateUntil) return { reason: 'hourly-limit', until: hourFullUntil }
  const until =
    pausedUntil && (!skipDateUntil || pausedUntil.getTime() < skipDateUntil.getTime())
      ? pausedUntil
      : skipDateUntil
  return { reason: skipDateUntil ? 'skip-date' : 'mailbox-paused', until }
}

/**
 * Local day keys per time zone, computed once per day rather than once per mailbox per
 * reservation: a tick offers every campaign mailbox as a candidate, which adds up.
 */
function createDayKeyCache() {
  const days = new Map<string, { key: string; from: number; until: number }>()
  return {
    at(timeZone: string, nowMs: number): string {
      const day = days.get(timeZone)
      if (day && nowMs >= day.from && nowMs < day.until) return day.key
      const now = new Date(nowMs)
      const key = localDayKey(now, timeZone)
      days.set(timeZone, { key, from: nowMs, until: nextLocalMidnight(now, timeZone).getTime() })
      return key
    },
    /** Until when the key last given for this zone holds. */
    until(timeZone: string): number {
      return days.get(timeZone)?.until ?? 0
    },
  }
}
