/**
 * Warm-up: a mailbox with a `rampUp` may send `min(dailyEmailLimit, start + step × level)` on a
 * local day, where `level` counts its earlier local days that reached `minUtilization` of their own
 * ramped limit. Only days the mailbox actually used count, so weekends, quiet days, pauses (a guard's
 * too: a paused mailbox sends nothing) never make the limit jump. Pure: core keeps `rampLevel` and
 * `rampDayKey` on the mailbox (scheduler/ramp.ts) and passes the limit into the atomic reservation.
 */
import type { Mailbox } from '../model/types.js'

type RampFields = Pick<Mailbox, 'dailyEmailLimit' | 'rampUp' | 'rampLevel'>

/** The mailbox's daily limit at its current warm-up level: what a reservation may not pass. */
export function dailyLimitOf(mailbox: RampFields): number {
  const { rampUp, dailyEmailLimit } = mailbox
  if (rampUp == null) return dailyEmailLimit
  return Math.min(dailyEmailLimit, rampUp.start + rampUp.step * mailbox.rampLevel)
}

/**
 * The warm-up level after the mailbox's day `rampDayKey` ended having sent `sentThatDay`: one more
 * when that day reached `minUtilization` of its ramped limit (a day with a limit of 0 never counts).
 */
export function rampLevelAfterDay(mailbox: RampFields, sentThatDay: number): number {
  const { rampUp } = mailbox
  if (rampUp == null) return mailbox.rampLevel
  const limit = dailyLimitOf(mailbox)
  // A hair below the product, so 0.8 × 15 (12.000000000000002 in floating point) asks for 12.
  const counts = limit > 0 && sentThatDay >= rampUp.minUtilization * limit - 1e-9
  return counts ? mailbox.rampLevel + 1 : mailbox.rampLevel
}

/** Whether the mailbox has reached its full `dailyEmailLimit`: no more bookkeeping needed. */
export function isRampDone(mailbox: RampFields): boolean {
  return mailbox.rampUp == null || dailyLimitOf(mailbox) >= mailbox.dailyEmailLimit
}
