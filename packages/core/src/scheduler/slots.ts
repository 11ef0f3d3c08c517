/**
 * Counting semaphore for send slots. `acquire(max)` waits until one is free and takes up to `max`
 * of the free ones; waiters are served in arrival order.
 *
 * Why not p-limit, which the project's brief names for send concurrency: p-limit bounds how many
 * calls of a function run at once, each holding its slot exactly while its promise is pending.
 * A send slot here is not one call. It is taken before the reservation (so that at most
 * `concurrency` items are reserved and not yet sent: what a crash can strand), held across the
 * store call and the transport call, and given back as soon as the transport returns or is given
 * up at `sendTimeout`, while the delivery still records the outcome; and a round takes several at
 * once, as many as are free now and no more, so that its reservations go to the store as one
 * batch. p-limit can express neither "take what is free, without waiting for more" (its
 * `activeCount`/`pendingCount` can be read, but a queued call starts later, on a microtask) nor
 * a slot released before the function's promise settles; built on it, this would need a
 * placeholder call per slot that settles on release: more code than these lines, not less.
 */
export function createSlots(size: number) {
  let free = size
  const waiting: Array<{ max: number; resolve: (n: number) => void }> = []
  const serve = () => {
    while (free > 0 && waiting.length > 0) {
      const w = waiting.shift()!
      const n = Math.min(w.max, free)
      free -= n
      w.resolve(n)
    }
  }
  return {
    acquire(max: number): Promise<number> {
      if (waiting.length === 0 && free > 0) {
        const n = Math.min(Math.max(1, max), free)
        free -= n
        return Promise.resolve(n)
      }
      return new Promise((resolve) => {
        waiting.push({ max: Math.max(1, max), resolve })
      })
    },
    release(n: number) {
      if (n <= 0) return
      free += n
      serve()
    },
  }
}
