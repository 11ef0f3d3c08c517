/**
 * Coalesces calls made close together into one call of a batch function, so that a store can
 * reserve or complete many sends in one round trip. Calls made in the same turn of the event loop
 * form one batch; calls made while a batch is in flight form the next. No timer: a lone call
 * goes out at once, so batching never adds latency.
 */
export function createBatcher<Req, Res>(
  run: (requests: Req[]) => Promise<Res[]>,
  maxBatch: number,
): (request: Req) => Promise<Res> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new RangeError(`maxBatch must be an integer >= 1, got ${maxBatch}`)
  type Waiting = { request: Req; resolve: (value: Res) => void; reject: (error: unknown) => void }
  let queue: Waiting[] = []
  let scheduled = false

  const flush = async () => {
    scheduled = false
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch)
      queue = queue.slice(batch.length)
      try {
        const results = await run(batch.map((w) => w.request))
        if (results.length !== batch.length) {
          throw new Error(`batch returned ${results.length} results for ${batch.length} requests`)
        }
        for (const [i, w] of batch.entries()) w.resolve(results[i] as Res)
      } catch (error) {
        for (const w of batch) w.reject(error)
      }
    }
  }

  let running: Promise<void> = Promise.resolve()
  return (request) =>
    new Promise<Res>((resolve, reject) => {
      queue.push({ request, resolve, reject })
      if (scheduled) return
      scheduled = true
      // Chained after the batch in flight: whatever queued meanwhile goes out together.
      running = running.then(() => new Promise<void>((r) => setImmediate(r))).then(flush)
    })
}
