import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../src/errors.js'
import { stepContent, variantFor, weightedVariant } from '../src/message/variants.js'
import type { CampaignInput } from '../src/model/types.js'
import { validateCampaign } from '../src/model/validate.js'
import { pickWinner, probabilityBest } from '../src/policy/winner.js'

describe('weighted variant choice', () => {
  it('follows the weights within statistical bounds over 10,000 leads (fixed seed: the leads)', () => {
    const variants = [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 2 },
      { id: 'c', weight: 7 },
    ]
    const n = 10_000
    const counts = new Map<string, number>()
    for (let i = 0; i < n; i++) {
      const id = weightedVariant(variants, 'campaign-7', `lead${i}@example.com`, 0) as string
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    for (const [id, p] of [
      ['a', 0.1],
      ['b', 0.2],
      ['c', 0.7],
    ] as const) {
      // Four standard deviations: the leads are fixed, so the run is the same every time.
      expect(Math.abs((counts.get(id) ?? 0) - n * p)).toBeLessThan(4 * Math.sqrt(n * p * (1 - p)))
    }
  })

  it('is the same on every call (every process) and differs by step', () => {
    const variants = Array.from({ length: 8 }, (_, i) => ({ id: `v${i}` }))
    const once = weightedVariant(variants, 'c', 'jan@example.com', 1)
    expect(weightedVariant(variants, 'c', 'jan@example.com', 1)).toBe(once)
    const steps = Array.from({ length: 10 }, (_, s) => weightedVariant(variants, 'c', 'jan@example.com', s))
    expect(new Set(steps).size).toBeGreaterThan(1)
  })

  it('keeps a variant already fixed, else takes the winner, else the weighted choice', () => {
    const step = { subject: 's', text: 't', variants: [{ id: 'a' }, { id: 'b', text: 'B' }] }
    expect(variantFor(step, 'a', 'c', 'k', 0)).toBe('a')
    expect(variantFor({ ...step, winner: 'b' }, 'a', 'c', 'k', 0)).toBe('a')
    expect(variantFor({ ...step, winner: 'b' }, null, 'c', 'k', 0)).toBe('b')
    expect(variantFor({ subject: 's', text: 't' }, null, 'c', 'k', 0)).toBeNull()
    expect(stepContent(step, 'b')).toEqual({ subject: 's', text: 'B' })
  })
})

describe('probability of being best and the winner rule', () => {
  it('is deterministic for the same counts, and sums to 1', () => {
    const arms = [
      { sent: 120, replied: 9 },
      { sent: 130, replied: 17 },
    ]
    const p = probabilityBest(arms, 'c\u00000')
    expect(probabilityBest(arms, 'c\u00000')).toEqual(p)
    expect((p[0] ?? 0) + (p[1] ?? 0)).toBeCloseTo(1, 10)
  })

  it('matches the exact answer for two arms (numeric check)', () => {
    // P(B > A) for A ~ Beta(11, 91), B ~ Beta(26, 76), by summation on a grid.
    const arms = [
      { sent: 100, replied: 10 },
      { sent: 100, replied: 25 },
    ]
    const grid = 4000
    const logBeta = (a: number, b: number) => lgamma(a) + lgamma(b) - lgamma(a + b)
    const pdf = (x: number, a: number, b: number) =>
      Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log(1 - x) - logBeta(a, b))
    let cdfA = 0
    let exact = 0
    for (let i = 1; i < grid; i++) {
      const x = i / grid
      cdfA += pdf(x, 11, 91) / grid
      exact += (pdf(x, 26, 76) * cdfA) / grid
    }
    const [, pb] = probabilityBest(arms, 'seed')
    expect(Math.abs((pb ?? 0) - exact)).toBeLessThan(0.01)
  })

  it('switches only past the threshold, and only with minSends on every variant', () => {
    const rule = { minSends: 100, confidence: 0.95 }
    let switched: number | null = null
    for (let replied = 10; replied <= 40; replied++) {
      const arms = [
        { sent: 100, replied: 10 },
        { sent: 100, replied },
      ]
      const p = probabilityBest(arms, `step\u0000${replied}`)
      const winner = pickWinner(arms, p, rule)
      if ((p[1] ?? 0) >= 0.95) expect(winner).toBe(1)
      else expect(winner).toBeNull()
      if (winner !== null && switched === null) switched = replied
      // Below the sends, never, however clear the difference.
      expect(pickWinner(arms, p, { ...rule, minSends: 101 })).toBeNull()
    }
    // 10% against about 17%: the first rate past 95% with these counts.
    expect(switched).toBeGreaterThan(14)
    expect(switched).toBeLessThan(21)
    const even = [
      { sent: 1000, replied: 100 },
      { sent: 1000, replied: 100 },
    ]
    expect(pickWinner(even, probabilityBest(even, 'x'), rule)).toBeNull()
  })
})

function lgamma(z: number): number {
  // Lanczos approximation, enough for a test's reference value.
  const g = 7
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  const x = z - 1
  let a = c[0] as number
  const t = x + g + 0.5
  for (let i = 1; i < g + 2; i++) a += (c[i] as number) / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

describe('variant validation', () => {
  const base = (steps: unknown): CampaignInput =>
    ({ name: 'x', mailboxIds: ['mb'], steps }) as unknown as CampaignInput
  const field = (steps: unknown): string | undefined => {
    try {
      validateCampaign(base(steps))
    } catch (error) {
      if (isMailcadenceError(error, 'invalid-input')) return error.field
      throw error
    }
    return undefined
  }

  it('names the field at fault', () => {
    const v = (variants: unknown, extra: object = {}) => [{ subject: 's', text: 't', variants, ...extra }]
    expect(field(v([{ id: 'a' }, { id: 'a' }]))).toBe('steps[0].variants[1].id')
    expect(field(v([{ id: 'a', weight: 0 }]))).toBe('steps[0].variants[0].weight')
    expect(field(v([{ id: 'a', weight: Number.POSITIVE_INFINITY }]))).toBe('steps[0].variants[0].weight')
    expect(field(v([{ id: 'a', subject: '{Hi|Hello' }]))).toBe('steps[0].variants[0].subject')
    expect(field(v([{ id: 'a', text: 'x {{nope}}' }]))).toBe('steps[0].variants[0].text')
    expect(field(v([{ id: 'a' }], { autoWinner: { metric: 'reply' } }))).toBe('steps[0].autoWinner')
    expect(field(v([{ id: 'a' }, { id: 'b' }], { autoWinner: { metric: 'open' } }))).toBe(
      'steps[0].autoWinner.metric',
    )
    expect(field(v([{ id: 'a' }, { id: 'b' }], { autoWinner: { metric: 'reply', confidence: 1 } }))).toBe(
      'steps[0].autoWinner.confidence',
    )
    expect(field(v([{ id: 'a' }, { id: 'b' }], { winner: 'c' }))).toBe('steps[0].winner')
    expect(field([{ text: 't', variants: [{ id: 'a', subject: 's' }, { id: 'b' }] }])).toBe(
      'steps[0].variants[1].subject',
    )
  })

  it('lets every variant carry what the step lacks, and fills autoWinner defaults', () => {
    const campaign = validateCampaign(
      base([
        {
          variants: [
            { id: 'a', subject: 'A', text: 'a' },
            { id: 'b', subject: 'B', html: '<p>b</p>', weight: 3 },
          ],
          autoWinner: { metric: 'reply' },
        },
      ]),
    )
    expect(campaign.steps[0]?.autoWinner).toEqual({ metric: 'reply', minSends: 100, confidence: 0.95 })
  })
})
