/**
 * Pacing: how long a campaign waits between two sends, with random jitter so that the gaps do not
 * look machine-made. Pure: the random source is a parameter.
 */
import { invalidInput } from '../errors.js'
import { addMs } from './instant.js'

function checkPacing(delayBetweenEmails: number, jitter: number): void {
  if (!Number.isFinite(delayBetweenEmails) || delayBetweenEmails < 0) {
    throw invalidInput(
      'delayBetweenEmails',
      `must be a number of seconds >= 0, got ${String(delayBetweenEmails)}`,
    )
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw invalidInput('jitter', `must be a number in [0, 1], got ${String(jitter)}`)
  }
}

/** The shortest gap in whole ms: the promised minimum, rounded up so that no gap falls short of it. */
function minGapMs(delayBetweenEmails: number, jitter: number): number {
  return Math.max(0, Math.ceil(delayBetweenEmails * (1 - jitter) * 1000))
}

/**
 * The instant of the campaign's next pacing slot after a send reserved at `now`: now +
 * delayBetweenEmails × (1 + jitter × (2r − 1)) seconds, r = random() in [0, 1). Never before now.
 *
 * The gap is rounded to a whole millisecond (a `Date` holds no less), to the nearest one so that float
 * noise (90 × 1.1 = 99.00000000000001) does not add a millisecond, but never below delayBetweenEmails
 * × (1 − jitter) rounded up: the minimum gap the pacing invariant promises. A slot past year 9999
 * is clamped to the latest instant every store holds (`addMs`), so a huge delay still paces.
 *
 * @throws `invalid-input` for a negative or non-finite delay or a jitter outside [0, 1];
 *   RangeError when `random()` returns something outside [0, 1].
 */
export function nextSlot(now: Date, delayBetweenEmails: number, jitter: number, random: () => number): Date {
  checkPacing(delayBetweenEmails, jitter)
  const r = random()
  // A broken random source would silently break the pacing invariant: refuse it loudly instead.
  if (!(r >= 0 && r <= 1)) throw new RangeError(`random() must return a number in [0, 1), got ${String(r)}`)
  const gapMs = Math.round(delayBetweenEmails * (1 + jitter * (2 * r - 1)) * 1000)
  return addMs(now, Math.max(minGapMs(delayBetweenEmails, jitter), gapMs))
}

/**
 * Smallest and largest gap in ms {@link nextSlot} can produce: [delay × (1 − jitter), delay × (1 +
 * jitter)] × 1000 in whole milliseconds, rounded like nextSlot's gaps: the minimum up, the maximum
 * to the nearest.
 *
 * @throws `invalid-input` for a negative or non-finite delay or a jitter outside [0, 1].
 */
export function gapRange(delayBetweenEmails: number, jitter: number): { minMs: number; maxMs: number } {
  checkPacing(delayBetweenEmails, jitter)
  const minMs = minGapMs(delayBetweenEmails, jitter)
  return { minMs, maxMs: Math.max(minMs, Math.round(delayBetweenEmails * (1 + jitter) * 1000)) }
}
