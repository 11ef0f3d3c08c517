/**
 * When can a campaign send next, and what holds it back? Pure functions of the campaign, its
 * mailboxes and `now`: the tick uses them to decide whether to reserve, wait or skip, and
 * `explain()` to say why and until when, so that both give the same answer.
 */
import type { Campaign, Mailbox } from '../model/types.js'
import {
  dayKey,
  isInWindow,
  nextLocalMidnight,
  nextWindowDayOpen,
  nextWindowOpen,
  type WindowSpec,
  windowDayKey,
} from '../policy/calendar.js'
import { dailyLimitOf } from '../policy/ramp.js'
import type { KeyCalendars } from '../policy/zones.js'
import type { DueCount, WindowKeyStat } from '../store.js'

// Dates are compared by getTime(): `>` on Dates converts both through valueOf, many times slower,
// and these run for every send.
const maxDate = (a: Date, b: Date | null) => (b && b.getTime() > a.getTime() ? b : a)

/**
 * The first instant at or after `now` when the campaign's window, pacing slot and earliest pending
 * item all allow a send (limits aside), and which of them holds it back: always a condition that
 * holds at `now`, as `explain()` lists it. The pacing slot or the item when the later of them
 * falls inside a window (`at` is then that instant), else the window if it is closed now; a window
 * that is open now but closes before the slot or the item leaves `pacing` or `not-due`, with `at`
 * the next opening after it.
 */
export function campaignDueAt(
  campaign: Campaign,
  nextItemAt: Date,
  now: Date,
): { at: Date; heldBy: 'outside-window' | 'pacing' | 'not-due' | null } {
  const earliest = maxDate(maxDate(now, campaign.nextSlotAt), nextItemAt)
  const at = nextWindowOpen(campaign, earliest)
  const nowMs = now.getTime()
  if (at.getTime() <= nowMs) return { at: now, heldBy: null }
  if (earliest.getTime() === nowMs || (at.getTime() !== earliest.getTime() && !isInWindow(campaign, now)))
    return { at, heldBy: 'outside-window' }
  const slot = campaign.nextSlotAt
  return { at, heldBy: slot && slot.getTime() >= nextItemAt.getTime() ? 'pacing' : 'not-due' }
}

/** What holds a campaign back now: its window, a skip date, its leads' windows, pacing or no item due. */
export type HeldBy = 'outside-window' | 'skip-date' | 'lead-window' | 'pacing' | 'not-due'

/**
 * Whether a window closed at `now` is closed by one of its skip dates: its hours and days alone
 * would have it open. Only asked once the window is known closed (it compiles another spec).
 */
export function closedBySkipDate(spec: WindowSpec, now: Date): boolean {
  return (
    spec.skipDates !== undefined &&
    spec.skipDates.length > 0 &&
    windowDayKey({ ...spec, skipDates: [] }, now) !== null
  )
}

/**
 * {@link campaignDueAt} for a keyed campaign (`KeyCalendars.isKeyed`), from its pending window keys
 * (`Store.listWindowKeys`): `open` lists the keys whose items may leave now. In `'campaign'` mode
 * the campaign's own window gates first (holidays only narrow it per key); in `'lead'` mode only
 * each key's window counts. Then pacing; then, with no key open, `not-due` when no item is due at
 * all, else the due keys are closed: `skip-date` when every one of them is closed by a skip date or
 * holiday (its hours would be open), `lead-window` otherwise; `at` is the first instant a key opens
 * with an item due (`now` when `keys` is empty).
 */
export function keyedDueAt(
  calendars: KeyCalendars,
  campaign: Campaign,
  keys: readonly WindowKeyStat[],
  now: Date,
): { at: Date; heldBy: HeldBy | null; open: string[] } {
  const nowMs = now.getTime()
  const slot = campaign.nextSlotAt
  if (campaign.windowTimezone !== 'lead' && !isInWindow(campaign, now)) {
    const at = nextWindowOpen(campaign, maxDate(now, slot))
    return { at, heldBy: closedBySkipDate(campaign, now) ? 'skip-date' : 'outside-window', open: [] }
  }
  if (slot && slot.getTime() > nowMs) {
    const atSlot = calendars.openKeys(campaign, keys, slot)
    return { at: atSlot.open.length > 0 ? slot : (atSlot.nextAt ?? slot), heldBy: 'pacing', open: [] }
  }
  const { open, nextAt } = calendars.openKeys(campaign, keys, now)
  if (open.length > 0) return { at: now, heldBy: null, open }
  let earliestItem = Number.POSITIVE_INFINITY
  let everyDueOnSkipDate = true
  for (const key of keys) {
    const itemMs = key.nextAt.getTime()
    earliestItem = Math.min(earliestItem, itemMs)
    if (itemMs <= nowMs && calendars.keyState(campaign, key.windowKey, now).skipDate === null)
      everyDueOnSkipDate = false
  }
  const at = nextAt ?? new Date(Number.isFinite(earliestItem) ? Math.max(earliestItem, nowMs) : nowMs)
  if (earliestItem > nowMs) return { at, heldBy: 'not-due', open }
  return { at, heldBy: everyDueOnSkipDate ? 'skip-date' : 'lead-window', open }
}

/**
 * When no key of a keyed campaign can open before: the first opening of any of its keys' windows
 * after `now`, from the settings and the clock alone (not the items' due times, which a retry or a
 * recovered lease may bring forward). A key added later comes with `addLeads`, which makes the
 * store forget the deferral. Null when a key's window is open now.
 */
export function keyedDeferralUntil(
  calendars: KeyCalendars,
  campaign: Campaign,
  keys: readonly WindowKeyStat[],
  now: Date,
): Date | null {
  if (campaign.windowTimezone !== 'lead' && !isInWindow(campaign, now)) return nextWindowOpen(campaign, now)
  const { open, nextAt } = calendars.openKeys(
    campaign,
    keys.map((k) => ({ windowKey: k.windowKey, nextAt: now })),
    now,
  )
  return open.length > 0 ? null : nextAt
}

/** When a campaign at its daily cap may send again: the opening of its next window day. */
export function campaignLimitClears(campaign: Campaign, now: Date): Date {
  return nextWindowDayOpen(campaign, nextWindowOpen(campaign, now))
}

/**
 * {@link campaignLimitClears} for a campaign sending in its leads' hours: its count is kept per
 * calendar day of its `timezone`, and its cap in force rises when another zone opens
 * (`KeyCalendars.dailyCap`), so the earlier of the next local midnight and the next key opening.
 */
export function leadCampaignLimitClears(
  calendars: KeyCalendars,
  campaign: Campaign,
  keys: readonly WindowKeyStat[],
  now: Date,
): Date {
  const midnight = nextLocalMidnight(now, campaign.timezone)
  const { nextAt } = calendars.openKeys(campaign, keys, now)
  return nextAt && nextAt.getTime() < midnight.getTime() ? nextAt : midnight
}

/** The local day of a mailbox on one of its skip dates, or null. */
export function mailboxSkipDate(mailbox: Mailbox, now: Date): string | null {
  if (mailbox.skipDates.length === 0) return null
  const today = dayKey(now, mailbox.timezone)
  return mailbox.skipDates.includes(today) ? today : null
}

/**
 * When a campaign whose usable mailboxes are all full may send again: at the first local midnight
 * of a full mailbox, or when a paused one comes back if that is sooner; inside the window.
 */
export function mailboxLimitClears(
  campaign: Campaign,
  mailboxes: readonly Mailbox[],
  now: Date,
): Date | null {
  let earliest: Date | null = null
  for (const mailbox of mailboxes) {
    const clears = isPaused(mailbox, now) ? mailbox.pausedUntil! : nextLocalMidnight(now, mailbox.timezone)
    if (!earliest || clears < earliest) earliest = clears
  }
  // In its leads' hours the campaign's own window does not gate.
  if (campaign.windowTimezone === 'lead') return earliest
  return earliest && nextWindowOpen(campaign, earliest)
}

/** Whether a mailbox is paused at `now`. */
export function isPaused(mailbox: Mailbox, now: Date): boolean {
  return mailbox.pausedUntil !== null && mailbox.pausedUntil.getTime() > now.getTime()
}

/**
 * Why a mailbox cannot take a due item of a campaign now, or `room` when it can: a tick offers the
 * campaign's `mailboxIds` that exist and are not paused (`Store.reserveSends` gets them as
 * candidates), and a candidate has room while its count for its day is below `dailyEmailLimit`.
 */
export type MailboxStanding = 'room' | 'full' | 'paused' | 'skip-date' | 'not-in-campaign'

export function mailboxStanding(
  campaign: Campaign,
  mailboxId: string,
  mailbox: Mailbox | undefined,
  sentToday: number,
  now: Date,
): MailboxStanding {
  if (mailbox === undefined || !campaign.mailboxIds.includes(mailboxId)) return 'not-in-campaign'
  if (isPaused(mailbox, now)) return 'paused'
  if (mailboxSkipDate(mailbox, now) !== null) return 'skip-date'
  return sentToday < dailyLimitOf(mailbox) ? 'room' : 'full'
}

/** Due items tied to one mailbox that cannot take them now. */
export interface HeldItems {
  mailbox: Mailbox
  count: number
}

export interface DueItemsVerdict {
  /** The mailboxes, in campaign order, that some due item can leave from now; empty when none can. */
  from: Mailbox[]
  /** Due items without a mailbox that no mailbox can take now (no candidate has room). */
  unassignedHeld: number
  /** Due items tied to a mailbox at its limit, or paused, per mailbox. */
  full: HeldItems[]
  paused: HeldItems[]
  /** Due items tied to a mailbox on one of its skip dates (left out of the candidates today). */
  skipDate: HeldItems[]
  /** Due items tied to a mailbox that is not among the campaign's (`mailbox` undefined: none such exists). */
  removed: Array<{ mailboxId: string; mailbox: Mailbox | undefined; count: number }>
}

/**
 * Whether any of a campaign's due items can leave now, and from where, by the rule of
 * `Store.reserveSends` (step 2): an item tied to a mailbox leaves only from that mailbox, an
 * unassigned one from any candidate; either needs the mailbox to stand at `room`
 * ({@link mailboxStanding}). An item no mailbox can take is passed over, so the campaign sends as
 * long as one due item can leave. `mailboxes` holds the campaign's mailboxes and those the due items
 * are tied to (missing ones do not exist); `sent` their counts for their current day.
 */
export function whereDueItemsLeave(input: {
  campaign: Campaign
  due: readonly DueCount[]
  mailboxes: ReadonlyMap<string, Mailbox>
  sent: Readonly<Record<string, number>>
  now: Date
}): DueItemsVerdict {
  const { campaign, due, mailboxes, sent, now } = input
  const standing = (id: string) => mailboxStanding(campaign, id, mailboxes.get(id), sent[id] ?? 0, now)
  const withRoom = campaign.mailboxIds.filter((id) => standing(id) === 'room')
  const leaveFrom = new Set<string>()
  const verdict: DueItemsVerdict = {
    from: [],
    unassignedHeld: 0,
    full: [],
    paused: [],
    skipDate: [],
    removed: [],
  }
  for (const { mailboxId, count } of due) {
    if (count <= 0) continue
    if (mailboxId === null) {
      if (withRoom.length === 0) verdict.unassignedHeld += count
      for (const id of withRoom) leaveFrom.add(id)
      continue
    }
    const mailbox = mailboxes.get(mailboxId)
    const s = standing(mailboxId)
    if (s === 'room') leaveFrom.add(mailboxId)
    else if (s === 'not-in-campaign' || mailbox === undefined)
      verdict.removed.push({ mailboxId, mailbox, count })
    else verdict[s === 'skip-date' ? 'skipDate' : s].push({ mailbox, count })
  }
  for (const id of withRoom) if (leaveFrom.has(id)) verdict.from.push(mailboxes.get(id)!)
  return verdict
}
