/**
 * Warm-up bookkeeping (the rule is policy/ramp.ts): once per local day of a ramping mailbox, the
 * first tick that meets it moves its `rampLevel` on by the day it last saw (`rampDayKey`), which
 * it reads back from the mailbox's own day count. One process does it per mailbox and day (a
 * counter claimed once); the others keep the level they read, which is never above the true one,
 * so a limit is never passed while the bookkeeping is under way.
 */
import type { Mailbox } from '../model/types.js'
import { dayKey } from '../policy/calendar.js'
import { rampCounterKey } from '../policy/limit-keys.js'
import { isRampDone, rampLevelAfterDay } from '../policy/ramp.js'
import { supportsCounters } from '../store-kit/index.js'
import type { ResolvedOptions } from './options.js'

const DAY_MS = 86_400_000

/** Brings the warm-up level of each ramping mailbox in `mailboxes` up to today, in place. */
export async function advanceRamps(
  options: ResolvedOptions,
  mailboxes: Map<string, Mailbox>,
  /** Any campaign id: `dayCounts` reads mailbox days alongside a campaign's. */
  campaignId: string,
  now: Date,
): Promise<void> {
  const stale: Array<{ mailbox: Mailbox; today: string }> = []
  for (const mailbox of mailboxes.values()) {
    if (isRampDone(mailbox)) continue
    const today = dayKey(now, mailbox.timezone)
    if (mailbox.rampDayKey !== today) stale.push({ mailbox, today })
  }
  if (stale.length === 0) return
  const { store } = options
  const earlier = stale.filter((s) => s.mailbox.rampDayKey !== null)
  const counts =
    earlier.length === 0
      ? { mailboxes: {} as Record<string, number> }
      : await store.dayCounts({
          campaignId,
          campaignDayKey: '',
          mailboxes: earlier.map((s) => ({ mailboxId: s.mailbox.id, dayKey: s.mailbox.rampDayKey! })),
        })
  await Promise.all(
    stale.map(async ({ mailbox, today }) => {
      if (supportsCounters(store)) {
        const claim = {
          key: rampCounterKey(mailbox.id, today),
          limit: 1,
          expiresAt: new Date(now.getTime() + 3 * DAY_MS),
        }
        if (!(await store.claimCounters([claim], now))) return
      }
      const sent = mailbox.rampDayKey === null ? 0 : (counts.mailboxes[mailbox.id] ?? 0)
      const rampLevel = rampLevelAfterDay(mailbox, sent)
      const updated = await store.updateMailbox(mailbox.id, { rampLevel, rampDayKey: today }, now)
      if (updated) mailboxes.set(mailbox.id, updated)
    }),
  )
}
