import { afterEach, describe, expect, it, vi } from 'vitest'
import { createBatcher } from '../src/scheduler/batcher.js'

/** One turn of the event loop. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Turns the event loop until `check` passes (or gives up after `max` turns). */
async function until(check: () => boolean, max = 20): Promise<void> {
  for (let i = 0; i < max && !check(); i++) await turn()
  if (!check()) throw new Error('condition not reached')
}

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('createBatcher', () => {
  it('coalesces calls made in the same turn into one batch call, results in order', async () => {
    const run = vi.fn(async (requests: number[]) => requests.map((n) => n * 10))
    const call = createBatcher(run, { maxBatch: 10, maxInFlight: 1 })
    const results = await Promise.all([call(1), call(2), call(3)])
    expect(results).toEqual([10, 20, 30])
    expect(run).toHaveBeenCalledTimes(1)
    expect(run).toHaveBeenCalledWith([1, 2, 3])
  })

  it('splits a turn of calls into batches of at most maxBatch', async () => {
    const run = vi.fn(async (requests: string[]) => requests.map((s) => s.toUpperCase()))
    const call = createBatcher(run, { maxBatch: 2, maxInFlight: 1 })
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(call))
    expect(results).toEqual(['A', 'B', 'C', 'D', 'E'])
    expect(run.mock.calls.map(([requests]) => requests)).toEqual([['a', 'b'], ['c', 'd'], ['e']])
  })

  it('runs one batch at a time; calls made while one is in flight go together in the next', async () => {
    const gates: Array<ReturnType<typeof deferred<number[]>>> = []
    const run = vi.fn((requests: number[]) => {
      const gate = deferred<number[]>()
      gates.push(gate)
      return gate.promise.then(() => requests.map((n) => -n))
    })
    const call = createBatcher(run, { maxBatch: 10, maxInFlight: 1 })

    const first = call(1)
    await until(() => run.mock.calls.length === 1)
    expect(run).toHaveBeenLastCalledWith([1])

    const second = call(2)
    await turn()
    const third = call(3)
    await turn()
    await turn()
    // Still in flight: nothing else goes out until it returns.
    expect(run).toHaveBeenCalledTimes(1)

    gates[0]?.resolve([])
    expect(await first).toBe(-1)
    await until(() => run.mock.calls.length === 2)
    expect(run).toHaveBeenLastCalledWith([2, 3])
    gates[1]?.resolve([])
    expect(await Promise.all([second, third])).toEqual([-2, -3])
    await turn()
    expect(run).toHaveBeenCalledTimes(2)
  })

  it('sends a lone call at once, without waiting on a timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] })
    const run = vi.fn(async (requests: string[]) => requests.map((s) => `${s}!`))
    const call = createBatcher(run, { maxBatch: 10, maxInFlight: 1 })
    const result = call('only')
    await until(() => run.mock.calls.length === 1, 5)
    expect(run).toHaveBeenCalledWith(['only'])
    expect(await result).toBe('only!')
  })

  it('makes calls of separate turns separate batches when nothing is in flight', async () => {
    const run = vi.fn(async (requests: number[]) => requests)
    const call = createBatcher(run, { maxBatch: 10, maxInFlight: 1 })
    expect(await call(1)).toBe(1)
    expect(await call(2)).toBe(2)
    expect(run.mock.calls).toEqual([[[1]], [[2]]])
  })

  it('rejects every caller of a batch that throws, and only them', async () => {
    const failure = new Error('store down')
    const run = vi.fn(async (requests: string[]) => {
      if (requests.includes('bad')) throw failure
      return requests.map((s) => s.length)
    })
    const call = createBatcher(run, { maxBatch: 2, maxInFlight: 1 })
    const settled = await Promise.allSettled([call('a'), call('bad'), call('ccc'), call('dd')])
    expect(settled).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: 3 },
      { status: 'fulfilled', value: 2 },
    ])
  })

  it('rejects the callers when the batch function throws synchronously', async () => {
    const run = vi.fn((): Promise<number[]> => {
      throw new Error('sync boom')
    })
    const call = createBatcher(run, { maxBatch: 5, maxInFlight: 1 })
    const settled = await Promise.allSettled([call(1), call(2)])
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected'])
    expect((settled[0] as PromiseRejectedResult).reason).toEqual(new Error('sync boom'))
  })

  it('keeps working after a failed batch', async () => {
    let fail = true
    const call = createBatcher(
      async (requests: number[]) => {
        if (fail) throw new Error('once')
        return requests
      },
      { maxBatch: 5, maxInFlight: 1 },
    )
    await expect(call(1)).rejects.toThrow('once')
    fail = false
    await expect(call(2)).resolves.toBe(2)
  })

  it.each([
    [[7], 'batch returned 1 results for 2 requests'],
    [[7, 8, 9], 'batch returned 3 results for 2 requests'],
  ])('rejects every caller when the batch returns %j for two requests', async (results, message) => {
    const call = createBatcher(async () => results, { maxBatch: 5, maxInFlight: 1 })
    const settled = await Promise.allSettled([call(1), call(2)])
    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected')
      expect((outcome as PromiseRejectedResult).reason).toEqual(new Error(message))
    }
  })

  it('a result-count mismatch in one batch does not affect the next', async () => {
    const call = createBatcher(async (requests: number[]) => (requests.length === 2 ? [0] : requests), {
      maxBatch: 2,
      maxInFlight: 1,
    })
    const settled = await Promise.allSettled([call(1), call(2), call(3)])
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled'])
    expect((settled[2] as PromiseFulfilledResult<number>).value).toBe(3)
  })
})

describe('createBatcher arguments', () => {
  it('refuses a batch size below one, which would never drain', () => {
    const run = async (requests: number[]) => requests
    expect(() => createBatcher(run, { maxBatch: 0, maxInFlight: 1 })).toThrow(RangeError)
    expect(() => createBatcher(run, { maxBatch: 1.5, maxInFlight: 1 })).toThrow(RangeError)
    expect(() => createBatcher(run, { maxBatch: 5, maxInFlight: 0 })).toThrow(RangeError)
  })
})

describe('createBatcher with several batches in flight', () => {
  it('starts a new batch while one is in flight, up to maxInFlight, then queues', async () => {
    const gates: Array<ReturnType<typeof deferred<void>>> = []
    const run = vi.fn((requests: number[]) => {
      const gate = deferred<void>()
      gates.push(gate)
      return gate.promise.then(() => requests)
    })
    const call = createBatcher(run, { maxBatch: 10, maxInFlight: 2 })
    const first = call(1)
    await until(() => run.mock.calls.length === 1)
    const second = call(2)
    await until(() => run.mock.calls.length === 2)
    const third = call(3)
    const fourth = call(4)
    await turn()
    await turn()
    // Two in flight: the third and fourth wait, together.
    expect(run).toHaveBeenCalledTimes(2)
    gates[1]?.resolve()
    expect(await second).toBe(2)
    await until(() => run.mock.calls.length === 3)
    expect(run).toHaveBeenLastCalledWith([3, 4])
    gates[0]?.resolve()
    gates[2]?.resolve()
    expect(await Promise.all([first, third, fourth])).toEqual([1, 3, 4])
  })
})
