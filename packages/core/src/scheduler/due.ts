/**
 * When can a campaign send next? Pure functions of the campaign, its mailboxes and `now`: the tick
 * uses them to decide whether to reserve, wait or skip, and `explain()` to say until when.
 */
import type { Campaign, Mailbox } from '../model/types.js'
import { nextLocalMidnight, nextWindowDayOpen, nextWindowOpen } from '../policy/calendar.js'

// Dates are compared by getTime(): `>` on Dates converts both through valueOf, many times slower,
// and these run for every send.
const maxDate = (a: Date, b: Date | null) => (b && b.getTime() > a.getTime() ? b : a)

/**
 * The first instant at or after `now` when the campaign's window, pacing slot and earliest pending
 * item all allow a send (limits aside), and which of them holds it back until then.
 */
export function campaignDueAt(
  campaign: Campaign,
  nextItemAt: Date,
  now: Date,
): { at: Date; heldBy: 'outside-window' | 'pacing' | 'not-due' | null } {
  const earliest = maxDate(maxDate(now, campaign.nextSlotAt), nextItemAt)
  const at = nextWindowOpen(campaign, earliest)
  if (at.getTime() <= now.getTime()) return { at: now, heldBy: null }
  if (at.getTime() !== earliest.getTime() || earliest.getTime() === now.getTime())
    return { at, heldBy: 'outside-window' }
  const slot = campaign.nextSlotAt
  return { at, heldBy: slot && slot.getTime() >= nextItemAt.getTime() ? 'pacing' : 'not-due' }
}

/** When a campaign at its daily cap may send again: the opening of its next window day. */
export function campaignLimitClears(campaign: Campaign, now: Date): Date {
  return nextWindowDayOpen(campaign, nextWindowOpen(campaign, now))
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
  return earliest && nextWindowOpen(campaign, earliest)
}

/** Whether a mailbox is paused at `now`. */
export function isPaused(mailbox: Mailbox, now: Date): boolean {
  return mailbox.pausedUntil !== null && mailbox.pausedUntil.getTime() > now.getTime()
}
