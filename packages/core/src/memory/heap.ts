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

/** Whether the item at (`aAt`, `aNum`) goes before the one at (`bAt`, `bNum`). */
function earlier(aAt: number, aNum: number, bAt: number, bNum: number): boolean {
  return aAt < bAt || (aAt === bAt && aNum < bNum)
}

/** Min-heap of pending items; see the module comment for the lazy deletion rule. */
export class PendingHeap<T extends HeapItem> {
  /** The items, in heap order. */
  private items: T[] = []
  /**
   * Each item's `scheduledAt` and `num`, at the item's index: sifting compares only these, so it
   * never visits the item objects themselves, which lie scattered over memory (a large campaign's
   * queue holds hundreds of thousands). Sound because a queued item's `scheduledAt` does not change.
   */
  private ats: number[] = []
  private nums: number[] = []

  push(item: T): void {
    const { items, ats, nums } = this
    const at = item.scheduledAt
    const num = item.num
    let i = items.length
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!earlier(at, num, ats[parent]!, nums[parent]!)) break
      this.put(i, items[parent]!, ats[parent]!, nums[parent]!)
      i = parent
    }
    this.put(i, item, at, num)
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
    const { items, ats, nums } = this
    const n = items.length - 1
    if (n < 0) return
    const last = items.pop()!
    const at = ats.pop()!
    const num = nums.pop()!
    if (n === 0) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && earlier(ats[r]!, nums[r]!, ats[l]!, nums[l]!) ? r : l
      if (!earlier(ats[c]!, nums[c]!, at, num)) break
      this.put(i, items[c]!, ats[c]!, nums[c]!)
      i = c
    }
    this.put(i, last, at, num)
  }

  /**
   * How many pending items are due at `nowMs` (`scheduledAt <= nowMs`). Visits only the due
   * entries and their children: below an entry not due, none is (the heap order).
   */
  countDue(nowMs: number): number {
    const { items, ats } = this
    let count = 0
    const stack = items.length > 0 ? [0] : []
    while (stack.length > 0) {
      const i = stack.pop()!
      if (ats[i]! > nowMs) continue
      if (items[i]!.status === 'pending') count++
      const l = 2 * i + 1
      if (l < items.length) stack.push(l)
      if (l + 1 < items.length) stack.push(l + 1)
    }
    return count
  }

  /**
   * Takes `item` out of the heap (to change its `scheduledAt`, then push it again): rare (an
   * out-of-office answer postponing a lead), so the heap is rebuilt rather than sifted in place.
   */
  remove(item: T): void {
    const rest = this.items.filter((i) => i !== item)
    this.clear()
    for (const i of rest) this.push(i)
  }

  /** Items still pending, in no particular order. */
  pending(): T[] {
    return this.items.filter((item) => item.status === 'pending')
  }

  clear(): void {
    this.items = []
    this.ats = []
    this.nums = []
  }

  /** Puts an item and its keys at index `i` (appending when `i` is the length). */
  private put(i: number, item: T, at: number, num: number): void {
    this.items[i] = item
    this.ats[i] = at
    this.nums[i] = num
  }
}
