/**
 * The index of a campaign's `pending` items: one {@link KeyQueue} per window key, each holding a
 * heap of unassigned items and one heap per mailbox for sticky items (follow-ups).
 *
 * Split by key so that a reservation limited to some keys (`ReserveRequest.windowKeys`) looks only
 * at those keys' heap heads: 10,000 items of a closed zone cost nothing to pass over. Split by
 * mailbox so that an item whose mailbox is full or not a candidate is never scanned either. Every
 * read looks at heap heads only, so it costs O(keys × mailboxes), never O(pending items).
 */
import type { DueCount, WindowKeyStat } from '../index.js'
import { PendingHeap } from './heap.js'
import type { ItemRecord } from './state.js'

/** The pending items of one window key. */
export interface KeyQueue {
  readonly windowKey: string
  /** Items without a mailbox (first emails, retries set loose): they may leave from any. */
  readonly unassigned: PendingHeap<ItemRecord>
  /** Items tied to a mailbox, by mailbox id: they leave only from it. */
  readonly byMailbox: Map<string, PendingHeap<ItemRecord>>
}

/** Whether `a` goes before `b`: earlier `scheduledAt`, then lower id. */
export function isBefore(a: ItemRecord, b: ItemRecord): boolean {
  return a.scheduledAt < b.scheduledAt || (a.scheduledAt === b.scheduledAt && a.num < b.num)
}

/** See the module comment. Deletion is lazy, as in `PendingHeap`. */
export class PendingIndex {
  private readonly queues = new Map<string, KeyQueue>()

  /** Indexes an item that just became `pending` (its status and `scheduledAt` already set). */
  add(item: ItemRecord): void {
    let queue = this.queues.get(item.windowKey)
    if (queue === undefined) {
      queue = { windowKey: item.windowKey, unassigned: new PendingHeap(), byMailbox: new Map() }
      this.queues.set(item.windowKey, queue)
    }
    if (item.mailboxId === null) {
      queue.unassigned.push(item)
      return
    }
    let heap = queue.byMailbox.get(item.mailboxId)
    if (heap === undefined) {
      heap = new PendingHeap()
      queue.byMailbox.set(item.mailboxId, heap)
    }
    heap.push(item)
  }

  /** The queues of the listed keys that have any (every queue when `windowKeys` is undefined). */
  queuesOf(windowKeys: readonly string[] | undefined): KeyQueue[] {
    if (windowKeys === undefined) return [...this.queues.values()]
    // A key listed twice gives its queue twice, which only repeats a look at the same heads.
    const out: KeyQueue[] = []
    for (const key of windowKeys) {
      const queue = this.queues.get(key)
      if (queue !== undefined) out.push(queue)
    }
    return out
  }

  /** The earliest pending item of the given queues (all by default), or undefined. */
  earliest(queues: Iterable<KeyQueue> = this.queues.values()): ItemRecord | undefined {
    let best: ItemRecord | undefined
    for (const queue of queues) {
      const head = this.headOf(queue)
      if (head !== undefined && (best === undefined || isBefore(head, best))) best = head
    }
    return best
  }

  /**
   * The heap a pending item is in: its key's, then its mailbox's or the unassigned one. An item's
   * key, and its mailbox while it is pending, never change, so this is where `add` put it.
   */
  heapOf(item: ItemRecord): PendingHeap<ItemRecord> {
    const queue = this.queues.get(item.windowKey)!
    return item.mailboxId === null ? queue.unassigned : queue.byMailbox.get(item.mailboxId)!
  }

  /**
   * Each window key with pending items and its earliest `scheduledAt` (`Store.listWindowKeys`).
   * A key left without pending items is forgotten here.
   */
  windowKeys(): WindowKeyStat[] {
    const out: WindowKeyStat[] = []
    for (const queue of this.queues.values()) {
      const head = this.headOf(queue)
      if (head !== undefined) out.push({ windowKey: queue.windowKey, nextAt: new Date(head.scheduledAt) })
    }
    return out
  }

  /** Due pending items counted per (mailbox, window key), as `Store.countDueByMailbox` lists them. */
  dueCounts(nowMs: number): DueCount[] {
    const counts: DueCount[] = []
    for (const { windowKey, unassigned, byMailbox } of this.queues.values()) {
      const loose = unassigned.countDue(nowMs)
      if (loose > 0) counts.push({ mailboxId: null, windowKey, count: loose })
      for (const [mailboxId, heap] of byMailbox) {
        const count = heap.countDue(nowMs)
        if (count > 0) counts.push({ mailboxId, windowKey, count })
      }
    }
    return counts
  }

  /** Empties the index and returns the items that were still pending, in no particular order. */
  takeAll(): ItemRecord[] {
    // concat, not push(...): a spread of a long queue would overflow the call stack.
    let items: ItemRecord[] = []
    for (const queue of this.queues.values()) {
      items = items.concat(queue.unassigned.pending())
      for (const heap of queue.byMailbox.values()) items = items.concat(heap.pending())
    }
    this.queues.clear()
    return items
  }

  /**
   * The earliest pending item of one queue. A queue found empty is dropped (a new item of its key
   * makes a new one), so keys whose leads are all done do not pile up.
   */
  private headOf(queue: KeyQueue): ItemRecord | undefined {
    let best = queue.unassigned.peek()
    for (const heap of queue.byMailbox.values()) {
      const top = heap.peek()
      if (top !== undefined && (best === undefined || isBefore(top, best))) best = top
    }
    if (best === undefined) this.queues.delete(queue.windowKey)
    return best
  }
}
