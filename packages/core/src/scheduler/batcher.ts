/**
 * Coalesces calls made close together into one call of a batch function, so that a store can
 * reserve or complete many sends in one round trip. Calls made in the same turn of the event loop
 * form one batch (it goes out once the promise continuations running now have settled). Up to
 * `maxInFlight` batches run at once, so a slow batch does not hold up the calls behind it; past
 * that, calls wait and go together in the next batch. No timer, so batching never adds latency
 * worth counting.
 */
/** How long a batcher flushes without giving the event loop a turn. */
const YIELD_EVERY_MS = 10

export function createBatcher<Req, Res>(
  run: (requests: Req[]) => Promise<Res[]>,
  options: { maxBatch: number; maxInFlight: number },
): (request: Req) => Promise<Res> {
  const { maxBatch, maxInFlight } = options
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be an integer >= 1, got ${value}`)
  }
  type Waiting = { request: Req; resolve: (value: Res) => void; reject: (error: unknown) => void }
  const queue: Waiting[] = []
  let inFlight = 0
  let scheduled = false
  let yieldedAt = performance.now()

  const schedule = () => {
    if (scheduled || queue.length === 0 || inFlight >= maxInFlight) return
    scheduled = true
    // After the current cascade of promise continuations (every call made "now" is queued by
    // then); every few milliseconds after the event loop's other work instead, so that a long run
    // of store calls that answer at once (an in-memory store) does not hold up the process's I/O.
    if (performance.now() - yieldedAt < YIELD_EVERY_MS) process.nextTick(flush)
    else {
      yieldedAt = Number.POSITIVE_INFINITY
      setImmediate(() => {
        yieldedAt = performance.now()
        flush()
      })
    }
  }

  const flush = async () => {
    scheduled = false
    if (queue.length === 0 || inFlight >= maxInFlight) return
    const batch = queue.splice(0, maxBatch)
    inFlight++
    schedule()
    try {
      const results = await run(batch.map((w) => w.request))
      if (results.length !== batch.length) {
        throw new Error(`batch returned ${results.length} results for ${batch.length} requests`)
      }
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i] as Res)
    } catch (error) {
      for (const w of batch) w.reject(error)
    } finally {
      inFlight--
      schedule()
    }
  }

  return (request) =>
    new Promise<Res>((resolve, reject) => {
      queue.push({ request, resolve, reject })
      schedule()
    })
}
