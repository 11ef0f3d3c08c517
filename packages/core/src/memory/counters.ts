/** The memory store's counters (`CounterStore`): a map of key → count and expiry. */
import type { CounterStore } from '../index.js'
import type { State } from './state.js'

/** Claims between two sweeps of expired counters. */
const SWEEP_EVERY = 1_000

export function counterMethods(state: State): CounterStore {
  let claimsSinceSweep = 0
  return {
    async claimCounters(claims, now) {
      // Every check before any write: the call is synchronous, so nothing interleaves with it.
      for (const claim of claims) {
        if (claim.limit === null) continue
        const count = state.counters.get(claim.key)?.count ?? 0
        if (count + (claim.by ?? 1) > claim.limit) return false
      }
      const nowMs = now.getTime()
      for (const claim of claims) {
        const counter = state.counters.get(claim.key)
        const expiresAt = claim.expiresAt.getTime()
        if (counter === undefined) state.counters.set(claim.key, { count: claim.by ?? 1, expiresAt })
        else {
          counter.count += claim.by ?? 1
          counter.expiresAt = Math.max(counter.expiresAt, expiresAt)
        }
      }
      if (++claimsSinceSweep >= SWEEP_EVERY) {
        claimsSinceSweep = 0
        for (const [key, counter] of state.counters)
          if (counter.expiresAt <= nowMs) state.counters.delete(key)
      }
      return true
    },

    async releaseCounters(keys) {
      for (const key of keys) {
        const counter = state.counters.get(key)
        if (counter !== undefined && counter.count > 0) counter.count -= 1
      }
    },

    async readCounters(keys) {
      const out: Record<string, number> = {}
      for (const key of keys) out[key] = state.counters.get(key)?.count ?? 0
      return out
    },
  }
}
