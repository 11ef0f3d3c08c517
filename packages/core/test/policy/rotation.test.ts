import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rotationOrder } from '../../src/policy/rotation.js'

const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 400)

describe('rotationOrder', () => {
  it('starts after the last mailbox used, wrapping', () => {
    expect(rotationOrder(['a', 'b', 'c'], 'a')).toEqual(['b', 'c', 'a'])
    expect(rotationOrder(['a', 'b', 'c'], 'b')).toEqual(['c', 'a', 'b'])
    expect(rotationOrder(['a', 'b', 'c'], 'c')).toEqual(['a', 'b', 'c'])
    expect(rotationOrder(['a'], 'a')).toEqual(['a'])
  })

  it('keeps the given order with no last mailbox or one no longer in the list', () => {
    expect(rotationOrder(['a', 'b', 'c'], null)).toEqual(['a', 'b', 'c'])
    expect(rotationOrder(['a', 'b', 'c'], 'gone')).toEqual(['a', 'b', 'c'])
    expect(rotationOrder([], null)).toEqual([])
    expect(rotationOrder([], 'a')).toEqual([])
  })

  it('returns a new array and leaves its input alone', () => {
    const ids = ['a', 'b']
    const order = rotationOrder(ids, null)
    expect(order).not.toBe(ids)
    order.reverse()
    expect(ids).toEqual(['a', 'b'])
  })

  const idsArb = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 0, maxLength: 12 })
  const caseArb = idsArb.chain((ids) =>
    fc.record({
      ids: fc.constant(ids),
      last:
        ids.length === 0 ? fc.option(fc.string()) : fc.oneof(fc.constantFrom(...ids), fc.option(fc.string())),
    }),
  )

  it('is a permutation that starts right after the last mailbox', () => {
    fc.assert(
      fc.property(caseArb, ({ ids, last }) => {
        const order = rotationOrder(ids, last)
        expect([...order].sort()).toEqual([...ids].sort())
        const index = last === null ? -1 : ids.indexOf(last)
        if (index < 0) {
          expect(order).toEqual(ids)
          return
        }
        // The rotation keeps the cyclic order and puts the last one used at the end.
        expect(order[order.length - 1]).toBe(last)
        for (let i = 0; i < order.length; i++) expect(order[i]).toBe(ids[(index + 1 + i) % ids.length])
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('visits every mailbox once per round when the first choice is always taken', () => {
    fc.assert(
      fc.property(idsArb, fc.integer({ min: 1, max: 3 }), (ids, rounds) => {
        fc.pre(ids.length > 0)
        let last: string | null = null
        const counts = new Map<string, number>()
        for (let i = 0; i < ids.length * rounds; i++) {
          const chosen: string = rotationOrder(ids, last)[0]!
          counts.set(chosen, (counts.get(chosen) ?? 0) + 1)
          last = chosen
        }
        for (const id of ids) expect(counts.get(id)).toBe(rounds)
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
