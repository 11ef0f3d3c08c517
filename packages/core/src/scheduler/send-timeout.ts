/**
 * How long a delivery waits for `transport.send`: at most `sendTimeout`. A call that never settles
 * (a server that accepted the connection and went silent, a transport with a bug) must not keep
 * its send slot, nor the tick, forever.
 *
 * The wait ends at whichever comes first:
 * - a real timer of `sendTimeout` ms (unref'd: it never keeps the process alive), since a hung
 *   call hangs in real time whatever clock the scheduler reads;
 * - `expire(now)`, called at the start of every tick with the scheduler's clock, for the waits
 *   whose deadline by that clock has passed: with the system clock it changes nothing, with a fake
 *   clock it lets a test end a hung send by moving the clock (a fake clock's `sleep` resolves at
 *   once, so it cannot serve as the timer).
 * One timer per send, cleared as soon as the call settles: a send that answers leaves nothing behind.
 */

/** What a wait resolves to when the call was given up. */
export const TIMED_OUT: unique symbol = Symbol('mailcadence.send-timed-out')

export interface SendTimeouts {
  /** `call`'s result, or {@link TIMED_OUT} once the wait for it is given up; `call` then goes on unobserved. */
  within<T>(itemId: string, call: Promise<T>): Promise<T | typeof TIMED_OUT>
  /** Gives up every wait whose deadline is at or before `now`; returns their items' ids. */
  expire(now: Date): string[]
}

/** The longest delay a Node timer takes (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647

export function createSendTimeouts(timeoutMs: number, clock: { now(): Date }): SendTimeouts {
  const timerMs = Math.min(timeoutMs, MAX_TIMER_MS)
  type Waiting = { itemId: string; deadline: number; giveUp: () => void }
  const waiting = new Set<Waiting>()
  return {
    within<T>(itemId: string, call: Promise<T>) {
      return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
        const entry: Waiting = {
          itemId,
          deadline: clock.now().getTime() + timeoutMs,
          giveUp: () => settle(() => resolve(TIMED_OUT)),
        }
        // Whatever ends the wait first settles it; the others find the entry gone and do nothing.
        const settle = (finish: () => void) => {
          if (!waiting.delete(entry)) return
          clearTimeout(timer)
          finish()
        }
        waiting.add(entry)
        const timer = setTimeout(entry.giveUp, timerMs)
        timer.unref?.()
        // Also observes a late rejection of a given-up call, so it is never an unhandled one.
        Promise.resolve(call).then(
          (value) => settle(() => resolve(value)),
          (error: unknown) => settle(() => reject(error)),
        )
      })
    },
    expire(now) {
      const nowMs = now.getTime()
      const expired: string[] = []
      for (const entry of waiting) {
        if (entry.deadline > nowMs) continue
        expired.push(entry.itemId)
        entry.giveUp()
      }
      return expired
    },
  }
}
