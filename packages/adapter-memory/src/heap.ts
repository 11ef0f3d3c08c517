/**
 * A binary min-heap of pending queue items ordered by (`scheduledAt`, numeric id).
 *
 * Deletion is lazy: an item cancelled while queued keeps its slot and is dropped when it reaches
 * the top. That is sound because of how items move: one leaves `pending` either by being taken
 * from the top (reserved) or by being cancelled, which is final; so an item is in at most one
 * heap, at most once, and its `scheduledAt` does not change while it is there.
 */

/** What the heap needs to know about an item. */
export interface HeapItem {
  /** Numeric id, the tie-breaker. */
  readonly num: number
  /** Epoch milliseconds. */
  readonly scheduledAt: number
  readonly status: string
}

function before(a: HeapItem, b: HeapItem): boolean {
  return a.scheduledAt < b.scheduledAt || (a.scheduledAt === b.scheduledAt && a.num < b.num)
}

/** Min-heap of pending items; see the module comment for the lazy deletion rule. */
export class PendingHeap<T extends HeapItem> {
  private items: T[] = []

  push(item: T): void {
    const items = this.items
    let i = items.length
    items.push(item)
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent]!
      if (!before(item, p)) break
      items[i] = p
      i = parent
    }
    items[i] = item
  }

  /** The earliest item still pending, dropping cancelled ones on the way; undefined when none. */
  peek(): T | undefined {
    for (;;) {
      const top = this.items[0]
      if (top === undefined || top.status === 'pending') return top
      this.removeTop()
    }
  }

  /** Removes the top item (after `peek()` returned it and it was taken). */
  removeTop(): void {
    const items = this.items
    const last = items.pop()
    if (last === undefined || items.length === 0) return
    const n = items.length
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && before(items[r]!, items[l]!) ? r : l
      const child = items[c]!
      if (!before(child, last)) break
      items[i] = child
      i = c
    }
    items[i] = last
  }

  /** Items still pending, in no particular order. */
  pending(): T[] {
    return this.items.filter((item) => item.status === 'pending')
  }

  clear(): void {
    this.items = []
  }
}
