/**
 * Mailbox rotation: the order in which a campaign tries its mailboxes for a first-step send, so that
 * with room everywhere the sends spread round-robin. The store takes the first mailbox in this order
 * that still has capacity, atomically; this module only decides the order.
 */

/**
 * Round-robin order for a campaign's next first-step send: the campaign's mailboxes starting with
 * the one after `lastMailboxId` (wrapping), or in the given order if `lastMailboxId` is null or no
 * longer in the list. Pure; returns a new array.
 */
export function rotationOrder(mailboxIds: readonly string[], lastMailboxId: string | null): string[] {
  const last = lastMailboxId === null ? -1 : mailboxIds.indexOf(lastMailboxId)
  // indexOf gives -1 for a mailbox removed from the campaign, so the order starts at the first.
  const start = last + 1
  return [...mailboxIds.slice(start), ...mailboxIds.slice(0, start)]
}
