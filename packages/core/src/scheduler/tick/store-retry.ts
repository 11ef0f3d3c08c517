import { isMailcadenceError } from '../../errors.js'

/** The waits between attempts: made once, not on every completion. */
const RETRY_DELAYS_MS: readonly number[] = [100, 250, 500, 1_000, 2_000, 4_000]

/**
 * Completing a send must not be lost to a short store outage: the mail has left, and without the
 * record recovery would mark it interrupted. Retries on `store-unavailable` for about eight seconds
 * (a database restart, a pool out of connections), well inside the default lease.
 */
export async function withStoreRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt]
      if (delay === undefined || !isMailcadenceError(error, 'store-unavailable')) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}
