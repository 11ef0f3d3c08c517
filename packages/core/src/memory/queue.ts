/** The memory store's queue methods: reserving and completing sends, leases, external sends. */
import type { Store } from '../index.js'
import { completeOne, recoverExpired } from './complete.js'
import { copyDate } from './copy.js'
import { reserveOne } from './reserve.js'
import { counterKey, increment, type State } from './state.js'

export type QueueMethods = Pick<
  Required<Store>,
  'reserveSends' | 'completeSends' | 'recoverExpiredLeases' | 'recordExternalSends'
>

export function queueMethods(state: State): QueueMethods {
  return {
    async reserveSends(requests, now) {
      return requests.map((req) => reserveOne(state, req, now))
    },

    async completeSends(completions, now) {
      return completions.map((c) => completeOne(state, c, now))
    },

    async recoverExpiredLeases(now, policy) {
      return recoverExpired(state, now, policy)
    },

    async recordExternalSends(sends) {
      let recorded = 0
      for (const send of sends) {
        if (state.externalSends.has(send.key)) continue
        state.externalSends.add(send.key)
        recorded += 1
        if (send.mailbox !== undefined) {
          increment(state.mailboxDayCounts, counterKey(send.mailbox.id, send.mailbox.dayKey))
        }
        const c = send.campaign
        const cs = c === undefined ? undefined : state.campaigns.get(c.id)
        if (c === undefined || cs === undefined) continue
        increment(state.campaignDayCounts, counterKey(c.id, c.dayKey))
        const slot = cs.campaign.nextSlotAt
        if (c.nextSlotAt !== null && (slot === null || c.nextSlotAt > slot)) {
          cs.campaign.nextSlotAt = copyDate(c.nextSlotAt)
        }
      }
      return { recorded }
    },
  }
}
