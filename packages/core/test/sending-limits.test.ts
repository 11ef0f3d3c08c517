/** The limits that protect mailboxes, validated when they enter: defaults applied, bad values named. */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../src/errors.js'
import { validateCampaign, validateMailbox } from '../src/model/validate.js'

const campaign = { name: 'Q1', mailboxIds: ['1'], steps: [{ subject: 'Hi', text: 'Hello' }] }
const mailbox = { email: 'anna@acme.test', dailyEmailLimit: 50 }

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (isMailcadenceError(error) && error.code === 'invalid-input') return error.field
    throw error
  }
  return undefined
}

describe('limits that protect mailboxes, as they enter', () => {
  it('applies the defaults', () => {
    expect(validateMailbox(mailbox)).toMatchObject({ hourlyLimit: null, rampUp: null })
    expect(validateMailbox({ ...mailbox, hourlyLimit: 10, rampUp: { start: 10, step: 5 } })).toMatchObject({
      hourlyLimit: 10,
      rampUp: { start: 10, step: 5, minUtilization: 0.8 },
    })
    expect(validateCampaign(campaign)).toMatchObject({ recipientDomainLimit: null, providerMatching: 'off' })
    expect(validateCampaign({ ...campaign, recipientDomainLimit: { perDay: 2 } })).toMatchObject({
      recipientDomainLimit: { perDay: 2, scope: 'campaign', exemptFreeMail: true },
    })
  })

  it('names the field of a bad value', () => {
    expect(fieldOf(() => validateMailbox({ ...mailbox, hourlyLimit: 0 }))).toBe('hourlyLimit')
    expect(fieldOf(() => validateMailbox({ ...mailbox, hourlyLimit: 2.5 }))).toBe('hourlyLimit')
    expect(fieldOf(() => validateMailbox({ ...mailbox, rampUp: 'fast' as never }))).toBe('rampUp')
    expect(fieldOf(() => validateMailbox({ ...mailbox, rampUp: { start: 0, step: 5 } }))).toBe('rampUp.start')
    expect(fieldOf(() => validateMailbox({ ...mailbox, rampUp: { start: 5, step: -1 } }))).toBe('rampUp.step')
    expect(
      fieldOf(() => validateMailbox({ ...mailbox, rampUp: { start: 5, step: 1, minUtilization: 0 } })),
    ).toBe('rampUp.minUtilization')
    expect(
      fieldOf(() => validateMailbox({ ...mailbox, rampUp: { start: 5, step: 1, minUtilization: 1.5 } })),
    ).toBe('rampUp.minUtilization')
    expect(fieldOf(() => validateCampaign({ ...campaign, recipientDomainLimit: { perDay: 0 } }))).toBe(
      'recipientDomainLimit.perDay',
    )
    expect(
      fieldOf(() =>
        validateCampaign({ ...campaign, recipientDomainLimit: { perDay: 2, scope: 'global' as never } }),
      ),
    ).toBe('recipientDomainLimit.scope')
    expect(
      fieldOf(() =>
        validateCampaign({
          ...campaign,
          recipientDomainLimit: { perDay: 2, exemptFreeMail: 'yes' as never },
        }),
      ),
    ).toBe('recipientDomainLimit.exemptFreeMail')
    expect(fieldOf(() => validateCampaign({ ...campaign, providerMatching: 'always' as never }))).toBe(
      'providerMatching',
    )
  })
})
