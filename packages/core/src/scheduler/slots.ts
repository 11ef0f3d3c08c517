/**
 * Counting semaphore for send slots. `acquire(max)` waits until one is free and takes up to `max`
 * of the free ones; waiters are served in arrival order.
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
