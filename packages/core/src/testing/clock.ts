import type { Clock } from '../scheduler/options.js'

/** A clock that moves only when told to. Pass it as the scheduler's `clock`. */
export interface FakeClock extends Clock {
  now(): Date
  /** Moves time forward by `ms`. */
  advance(ms: number): void
  /** Moves time to `date` (backwards too: an NTP step). */
  set(date: Date): void
  /**
   * Simulated wait: time jumps to `now + ms` at once. Waits started together overlap, as real
   * ones would: two concurrent `sleep(10_000)` move the clock by 10 s, not 20 s.
   */
  sleep(ms: number): Promise<void>
}

export function createFakeClock(start: Date = new Date('2026-01-05T08:00:00.000Z')): FakeClock {
  let time = start.getTime()
  if (Number.isNaN(time)) throw new TypeError('createFakeClock: start is an invalid date')
  return {
    now: () => new Date(time),
    advance(ms) {
      time += ms
    },
    set(date) {
      time = date.getTime()
    },
    async sleep(ms) {
      const target = time + Math.max(0, ms)
      // Let other waits started in the same turn compute their targets from the same instant.
      await Promise.resolve()
      if (target > time) time = target
    },
  }
}
