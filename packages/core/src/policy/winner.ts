/**
 * Which variant of a step is best by reply rate, and when a test may stop: pure functions.
 *
 * Each variant's reply rate gets a Beta–Binomial posterior with a uniform Beta(1, 1) prior:
 * Beta(1 + replied, 1 + sent − replied). The probability that a variant is the best is the share
 * of joint draws from the posteriors in which its rate is the highest, estimated by Monte Carlo
 * with `draws` draws from a seeded generator. The seed is a hash of the counts (and a label such
 * as the campaign and step), so the same counts give the same probabilities in every process and
 * on every call: two workers deciding at once decide alike.
 */

import { hashUnit } from '../message/spintax.js'

export interface Arm {
  sent: number
  replied: number
}

/** Default Monte Carlo draws: the estimate's standard error is at most 0.0035. */
export const BEST_DRAWS = 20_000

/** P(best) of each arm, in order (they sum to 1). An empty list gives an empty list. */
export function probabilityBest(arms: readonly Arm[], seed: string, draws = BEST_DRAWS): number[] {
  if (arms.length === 0) return []
  if (arms.length === 1) return [1]
  const random = seededRandom(`${seed}\u0000${arms.map((a) => `${a.sent}/${a.replied}`).join(',')}`)
  const wins = new Array<number>(arms.length).fill(0)
  for (let d = 0; d < draws; d++) {
    let best = 0
    let bestRate = -1
    for (let i = 0; i < arms.length; i++) {
      const arm = arms[i] as Arm
      const replied = Math.min(arm.replied, arm.sent)
      const rate = betaSample(1 + replied, 1 + arm.sent - replied, random)
      if (rate > bestRate) {
        best = i
        bestRate = rate
      }
    }
    wins[best] = (wins[best] ?? 0) + 1
  }
  return wins.map((w) => w / draws)
}

export interface WinnerRule {
  minSends: number
  confidence: number
}

/**
 * The index of the winner under `rule`, or null: every arm has at least `minSends` sends and one
 * arm's probability of being the best is at least `confidence`.
 */
export function pickWinner(
  arms: readonly Arm[],
  probabilities: readonly number[],
  rule: WinnerRule,
): number | null {
  if (arms.length < 2 || arms.some((a) => a.sent < rule.minSends)) return null
  let best = -1
  for (let i = 0; i < probabilities.length; i++) {
    if (
      (probabilities[i] ?? 0) >= rule.confidence &&
      (best === -1 || (probabilities[i] ?? 0) > (probabilities[best] ?? 0))
    )
      best = i
  }
  return best === -1 ? null : best
}

/** A small fast generator (sfc32) seeded from a string: uniform in [0, 1). */
export function seededRandom(seed: string): () => number {
  let a = Math.floor(hashUnit(`${seed}a`) * 2 ** 32) >>> 0
  let b = Math.floor(hashUnit(`${seed}b`) * 2 ** 32) >>> 0
  let c = Math.floor(hashUnit(`${seed}c`) * 2 ** 32) >>> 0
  let d = 1
  return () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}

/** Beta(a, b) for a, b ≥ 1: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
function betaSample(a: number, b: number, random: () => number): number {
  const x = gammaSample(a, random)
  const y = gammaSample(b, random)
  return x / (x + y)
}

/** Gamma(shape, 1) for shape ≥ 1 (Marsaglia and Tsang, 2000). */
function gammaSample(shape: number, random: () => number): number {
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = normalSample(random)
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = random()
    if (u < 1 - 0.0331 * x ** 4) return d * v
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
  }
}

/** A standard normal draw (Box–Muller; 1 − u keeps the logarithm finite). */
function normalSample(random: () => number): number {
  const u = 1 - random()
  const v = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}
