/**
 * Giving a reservation back untouched, when something decided after it holds the email back (a
 * limit claimed after the reservation, strict provider matching): the item is pending again at
 * `retryAt` with its attempts unchanged, a first email free to leave from another mailbox, and the
 * day counts and pacing slot the reservation took are refunded, since no mail left. A lost lease
 * (recovery took the item) changes nothing.
 */
import type { ReservedSend } from '../../store.js'
import { reservationRefund } from '../deliver.js'
import type { TickEngine } from './engine.js'

export async function giveBack(
  engine: TickEngine,
  send: ReservedSend,
  reservedSlot: Date,
  why: { retryAt: Date; error: string },
): Promise<void> {
  const { item } = send
  await engine.complete({
    itemId: item.id,
    leaseToken: item.leaseToken ?? '',
    kind: 'retry',
    retryAt: why.retryAt,
    attempts: item.attempts,
    error: why.error,
    unassignMailbox: item.references.length === 0,
    refund: { ...reservationRefund(send, item.mailboxId ?? ''), nextSlotAt: reservedSlot },
  })
}
