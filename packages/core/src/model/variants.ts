/** Validation of a step's `variants` and `autoWinner` (the step's own fields: validate.ts). */
import { invalidInput } from '../errors.js'
import { checkArray, checkId, checkInteger, checkNumber, checkObject } from './checks.js'
import { describeValue } from './describe.js'
import type { AutoWinner, Step, StepVariant } from './types.js'

/** Variants one step may have. */
export const MAX_VARIANTS = 26

/** Defaults of `autoWinner`: 100 sends of each variant, 95% probability of being the best. */
export const AUTO_WINNER_DEFAULTS = { minSends: 100, confidence: 0.95 } as const

/**
 * A step's variants: unique ids, weights finite and above zero, each variant's subject and bodies
 * checked by `content` as the step's own are.
 */
export function checkVariants(
  field: string,
  value: unknown,
  content: (field: string, raw: Record<string, unknown>) => Step,
): StepVariant[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidInput(field, 'must list at least one variant')
  const seen = new Set<string>()
  return checkArray(field, value, MAX_VARIANTS).map((raw, j) => {
    const at = `${field}[${j}]`
    const object = checkObject(at, raw)
    const id = checkId(`${at}.id`, object.id)
    if (seen.has(id)) throw invalidInput(`${at}.id`, `repeats the variant id ${describeValue(id)}`)
    seen.add(id)
    const variant: StepVariant = { id, ...content(at, object) }
    if (object.weight !== undefined) {
      const weight = checkNumber(`${at}.weight`, object.weight, 0, 1_000_000)
      if (weight <= 0) throw invalidInput(`${at}.weight`, 'must be above 0')
      variant.weight = weight
    }
    return variant
  })
}

/** `autoWinner`, with its defaults filled in. */
export function checkAutoWinner(field: string, value: unknown): AutoWinner {
  const object = checkObject(field, value)
  if (object.metric !== 'reply')
    throw invalidInput(`${field}.metric`, `must be 'reply', got ${describeValue(object.metric)}`)
  const minSends = checkInteger(
    `${field}.minSends`,
    object.minSends ?? AUTO_WINNER_DEFAULTS.minSends,
    1,
    1_000_000_000,
  )
  const confidence = object.confidence ?? AUTO_WINNER_DEFAULTS.confidence
  if (typeof confidence !== 'number' || !(confidence > 0.5 && confidence < 1))
    throw invalidInput(
      `${field}.confidence`,
      `must be a number in (0.5, 1), got ${describeValue(confidence)}`,
    )
  return { metric: 'reply', minSends, confidence }
}
