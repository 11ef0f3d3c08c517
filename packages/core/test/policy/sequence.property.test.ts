import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nextStepAfter } from '../../src/policy/sequence.js'

const steps = fc.array(
  fc.record({ delayDays: fc.option(fc.double({ min: 0, max: 365, noNaN: true }), { nil: undefined }) }),
  {
    minLength: 1,
    maxLength: 8,
  },
)
const instant = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
})

describe('nextStepAfter', () => {
  it('is the following step, due delayDays (default 0) after the send; nothing after the last', () => {
    fc.assert(
      fc.property(steps, fc.nat(), instant, (sequence, pick, sentAt) => {
        const step = pick % sequence.length
        const next = nextStepAfter(sequence, step, sentAt)
        if (step === sequence.length - 1) {
          expect(next).toBeUndefined()
          return
        }
        const days = sequence[step + 1]!.delayDays ?? 0
        expect(next?.step).toBe(step + 1)
        // Within the millisecond: a Date holds whole milliseconds.
        expect(Math.abs(next!.scheduledAt.getTime() - sentAt.getTime() - days * 86_400_000)).toBeLessThan(1)
      }),
    )
  })
})
