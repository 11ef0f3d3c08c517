/**
 * Validation of the limits that protect mailboxes (warm-up, hourly caps, recipient domains,
 * provider matching): each setting is checked when it enters, with an `invalid-input` error
 * naming its field, and comes out with its defaults applied.
 */
import { invalidInput } from '../errors.js'
import { checkInteger, checkNumber, checkObject } from './checks.js'
import { describeValue } from './describe.js'
import { INPUT_LIMITS } from './limits.js'
import type { ProviderMatching, RampUp, RecipientDomainLimit } from './types.js'

/** `minUtilization` of a ramp when not given: a day counts once 80% of its ramped limit went out. */
export const DEFAULT_MIN_UTILIZATION = 0.8

export function checkHourlyLimit(value: unknown): number | null {
  if (value === undefined || value === null) return null
  return checkInteger('hourlyLimit', value, 1, INPUT_LIMITS.dailyEmailLimit)
}

export function checkRampUp(value: unknown): RampUp | null {
  if (value === undefined || value === null) return null
  const input = checkObject('rampUp', value)
  const start = checkInteger('rampUp.start', input.start, 1, INPUT_LIMITS.dailyEmailLimit)
  const step = checkInteger('rampUp.step', input.step, 0, INPUT_LIMITS.dailyEmailLimit)
  const minUtilization =
    input.minUtilization === undefined
      ? DEFAULT_MIN_UTILIZATION
      : checkNumber('rampUp.minUtilization', input.minUtilization, 0, 1)
  if (minUtilization === 0) throw invalidInput('rampUp.minUtilization', 'must be above 0 (at most 1)')
  return { start, step, minUtilization }
}

export function checkRecipientDomainLimit(value: unknown): RecipientDomainLimit | null {
  if (value === undefined || value === null) return null
  const input = checkObject('recipientDomainLimit', value)
  const perDay = checkInteger('recipientDomainLimit.perDay', input.perDay, 1, INPUT_LIMITS.maxEmailsPerDay)
  const scope = input.scope ?? 'campaign'
  if (scope !== 'campaign' && scope !== 'all')
    throw invalidInput(
      'recipientDomainLimit.scope',
      `must be 'campaign' or 'all', got ${describeValue(scope)}`,
    )
  const exemptFreeMail = input.exemptFreeMail ?? true
  if (typeof exemptFreeMail !== 'boolean')
    throw invalidInput(
      'recipientDomainLimit.exemptFreeMail',
      `must be true or false, got ${describeValue(exemptFreeMail)}`,
    )
  return { perDay, scope, exemptFreeMail }
}

export function checkProviderMatching(value: unknown): ProviderMatching {
  if (value === undefined) return 'off'
  if (value !== 'off' && value !== 'prefer' && value !== 'strict')
    throw invalidInput('providerMatching', `must be 'off', 'prefer' or 'strict', got ${describeValue(value)}`)
  return value
}
