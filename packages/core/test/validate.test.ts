import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMailcadenceError, type MailcadenceError } from '../src/errors.js'
import type { CampaignInput, LeadInput, MailboxInput, Step } from '../src/model/types.js'
import {
  CAMPAIGN_DEFAULTS,
  emailKey,
  emailProblem,
  prepareLead,
  requiredVariables,
  validateCampaign,
  validateMailbox,
} from '../src/model/validate.js'
import type { NewLead } from '../src/store.js'

/** Runs `fn`, expects an `invalid-input` MailcadenceError on `field` whose message starts with it. */
function invalidError(fn: () => unknown, field: string): MailcadenceError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  if (caught === undefined) throw new Error(`expected an invalid-input error on ${field}, nothing was thrown`)
  expect(isMailcadenceError(caught, 'invalid-input')).toBe(true)
  const error = caught as MailcadenceError
  expect(error.field).toBe(field)
  expect(error.message.startsWith(`${field}: `)).toBe(true)
  return error
}

function campaign(overrides: Partial<CampaignInput> = {}): CampaignInput {
  return {
    name: 'Q4 outreach',
    mailboxIds: ['mb-1'],
    steps: [
      { subject: 'Hi {{firstName|there}}', text: 'Hello {{firstName|there}}' },
      { delayDays: 3, text: 'Bump' },
    ],
    ...overrides,
  }
}

function mailbox(overrides: Partial<MailboxInput> = {}): MailboxInput {
  return { email: 'anna@acme.test', dailyEmailLimit: 50, ...overrides }
}

/** A string that holds at least one of CR, LF, NUL somewhere. */
const headerUnsafe = fc
  .tuple(fc.string(), fc.constantFrom('\r', '\n', '\0', '\r\n'), fc.string())
  .map(([before, bad, after]) => before + bad + after)

function isLead(value: NewLead | { reason: string }): value is NewLead {
  return !('reason' in value)
}

describe('validateMailbox', () => {
  it('returns the normalised mailbox with defaults', () => {
    expect(validateMailbox({ email: '  Anna@Acme.test ', dailyEmailLimit: 50 })).toEqual({
      email: 'Anna@Acme.test',
      name: null,
      dailyEmailLimit: 50,
      hourlyLimit: null,
      rampUp: null,
      timezone: 'UTC',
      skipDates: [],
    })
    expect(
      validateMailbox(mailbox({ name: 'Anna Smith', timezone: 'Europe/Warsaw', dailyEmailLimit: 0 })),
    ).toEqual({
      email: 'anna@acme.test',
      name: 'Anna Smith',
      dailyEmailLimit: 0,
      hourlyLimit: null,
      rampUp: null,
      timezone: 'Europe/Warsaw',
      skipDates: [],
    })
  })

  it('refuses a value that is not an object', () => {
    invalidError(() => validateMailbox(null as unknown as MailboxInput), 'mailbox')
  })

  it.each([
    '',
    'anna',
    'anna@acme',
    'anna@@acme.test',
    'an na@acme.test',
    '.anna@acme.test',
    'a..b@acme.test',
  ])('refuses the address %j', (email) => {
    invalidError(() => validateMailbox(mailbox({ email })), 'email')
  })

  it('refuses a non-string address', () => {
    const error = invalidError(() => validateMailbox(mailbox({ email: 42 as unknown as string })), 'email')
    expect(error.message).toBe('email: must be a string')
  })

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '50' as unknown as number])(
    'refuses dailyEmailLimit %p',
    (dailyEmailLimit) => {
      invalidError(() => validateMailbox(mailbox({ dailyEmailLimit })), 'dailyEmailLimit')
    },
  )

  it('refuses an unknown time zone', () => {
    const error = invalidError(() => validateMailbox(mailbox({ timezone: 'Mars/Olympus' })), 'timezone')
    expect(error.message).toContain('Mars/Olympus')
  })

  it.each(['Anna\r\nBcc: victim@example.com', 'Anna\n', 'An\0na', '\r'])('refuses the name %j', (name) => {
    invalidError(() => validateMailbox(mailbox({ name })), 'name')
  })

  it('refuses a name longer than 500 characters and a non-string name', () => {
    invalidError(() => validateMailbox(mailbox({ name: 'a'.repeat(501) })), 'name')
    expect(validateMailbox(mailbox({ name: 'a'.repeat(500) })).name).toHaveLength(500)
    invalidError(() => validateMailbox(mailbox({ name: 5 as unknown as string })), 'name')
  })

  it('refuses any display name holding CR, LF or NUL (property)', () => {
    fc.assert(
      fc.property(headerUnsafe, (name) => {
        invalidError(() => validateMailbox(mailbox({ name })), 'name')
      }),
    )
  })
})

describe('validateCampaign', () => {
  it('applies the defaults of the in-house sender', () => {
    const result = validateCampaign(campaign())
    expect(result).toEqual({
      name: 'Q4 outreach',
      timezone: 'UTC',
      windowTimezone: 'campaign',
      skipDates: [],
      stopOnReply: 'lead',
      recipientDomainLimit: null,
      providerMatching: 'off',
      startHour: 9,
      startMinute: 0,
      endHour: 17,
      endMinute: 0,
      allowedDays: 'MON,TUE,WED,THU,FRI',
      delayBetweenEmails: 90,
      jitter: 0.2,
      maxEmailsPerDay: 500,
      mailboxIds: ['mb-1'],
      steps: [
        { subject: 'Hi {{firstName|there}}', text: 'Hello {{firstName|there}}' },
        { delayDays: 3, text: 'Bump' },
      ],
      variables: [],
    })
    expect(CAMPAIGN_DEFAULTS).toMatchObject({
      startHour: 9,
      endHour: 17,
      delayBetweenEmails: 90,
      jitter: 0.2,
    })
  })

  it('keeps the values given instead of the defaults', () => {
    const result = validateCampaign(
      campaign({
        timezone: 'Europe/Warsaw',
        startHour: 22,
        startMinute: 30,
        endHour: 2,
        endMinute: 15,
        allowedDays: 'sat,SUN',
        delayBetweenEmails: 0,
        jitter: 0,
        maxEmailsPerDay: 0,
        mailboxIds: ['a', 'b'],
        variables: ['plan'],
      }),
    )
    expect(result).toMatchObject({
      timezone: 'Europe/Warsaw',
      startHour: 22,
      startMinute: 30,
      endHour: 2,
      endMinute: 15,
      allowedDays: 'sat,SUN',
      delayBetweenEmails: 0,
      jitter: 0,
      maxEmailsPerDay: 0,
      mailboxIds: ['a', 'b'],
      variables: ['plan'],
    })
  })

  it('drops unknown keys of a step and keeps a fractional delayDays', () => {
    const step = { subject: 'Hi', html: '<p>Hi</p>', delayDays: 0.5, extra: 'x' } as Step
    expect(validateCampaign(campaign({ steps: [step] })).steps).toEqual([
      { subject: 'Hi', html: '<p>Hi</p>', delayDays: 0.5 },
    ])
  })

  it('refuses a value that is not an object', () => {
    invalidError(() => validateCampaign(undefined as unknown as CampaignInput), 'campaign')
  })

  describe('name', () => {
    it('refuses a missing, empty or blank name', () => {
      invalidError(() => validateCampaign(campaign({ name: undefined as unknown as string })), 'name')
      invalidError(() => validateCampaign(campaign({ name: '' })), 'name')
      invalidError(() => validateCampaign(campaign({ name: '   ' })), 'name')
    })

    it('refuses a name with CR, LF or NUL', () => {
      invalidError(() => validateCampaign(campaign({ name: 'Q4\r\nBcc: x@y.test' })), 'name')
      invalidError(() => validateCampaign(campaign({ name: 'Q4\0' })), 'name')
    })
  })

  describe('time zone', () => {
    it.each(['Mars/Olympus', '', 'Europe/Nowhere', 'GMT+25'])('refuses %j', (timezone) => {
      const error = invalidError(() => validateCampaign(campaign({ timezone })), 'timezone')
      expect(error.message).toContain('unknown time zone')
    })

    it('accepts an IANA zone', () => {
      expect(validateCampaign(campaign({ timezone: 'America/New_York' })).timezone).toBe('America/New_York')
    })
  })

  describe('allowedDays', () => {
    it.each(['MON,FOO', 'Monday', 'MON,TUE,XYZ', '', ' , '])('refuses %j', (allowedDays) => {
      invalidError(() => validateCampaign(campaign({ allowedDays })), 'allowedDays')
    })

    it('names the unknown day in the message', () => {
      const error = invalidError(() => validateCampaign(campaign({ allowedDays: 'MON,FOO' })), 'allowedDays')
      expect(error.message).toContain('"FOO"')
    })

    it('refuses a value that is not a string', () => {
      invalidError(
        () => validateCampaign(campaign({ allowedDays: ['MON'] as unknown as string })),
        'allowedDays',
      )
      invalidError(
        () => validateCampaign(campaign({ allowedDays: null as unknown as string })),
        'allowedDays',
      )
    })

    it('accepts lower case, spaces and every day', () => {
      expect(validateCampaign(campaign({ allowedDays: ' mon , tue ' })).allowedDays).toBe(' mon , tue ')
      expect(validateCampaign(campaign({ allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN' })).allowedDays).toBe(
        'MON,TUE,WED,THU,FRI,SAT,SUN',
      )
    })
  })

  describe('hours and minutes', () => {
    it.each([
      ['startHour', -1],
      ['startHour', 24],
      ['startHour', 9.5],
      ['startMinute', -1],
      ['startMinute', 60],
      ['endHour', -1],
      ['endHour', 25],
      ['endMinute', 60],
      ['endMinute', 0.5],
      ['startHour', Number.NaN],
      ['endHour', '17'],
    ] as const)('refuses %s = %p', (field, value) => {
      invalidError(() => validateCampaign(campaign({ [field]: value as number })), field)
    })

    it('accepts the bounds of each field', () => {
      const edges = validateCampaign(campaign({ startHour: 23, startMinute: 59, endHour: 0, endMinute: 0 }))
      expect(edges).toMatchObject({ startHour: 23, startMinute: 59, endHour: 0, endMinute: 0 })
    })

    it('accepts endHour 24 with endMinute 0 (until the end of the day)', () => {
      const result = validateCampaign(campaign({ startHour: 0, endHour: 24, endMinute: 0 }))
      expect(result).toMatchObject({ startHour: 0, endHour: 24, endMinute: 0 })
    })

    it('refuses endHour 24 with another endMinute, on endMinute', () => {
      const error = invalidError(
        () => validateCampaign(campaign({ endHour: 24, endMinute: 30 })),
        'endMinute',
      )
      expect(error.message).toContain('endHour is 24')
    })

    it.each([
      [9, 0, 9, 0],
      [0, 0, 0, 0],
      [13, 45, 13, 45],
    ])('refuses the zero-length window %i:%i–%i:%i', (startHour, startMinute, endHour, endMinute) => {
      const error = invalidError(
        () => validateCampaign(campaign({ startHour, startMinute, endHour, endMinute })),
        'endHour',
      )
      expect(error.message).toContain('zero length')
    })

    it('accepts a window one minute long and one crossing midnight', () => {
      expect(() =>
        validateCampaign(campaign({ startHour: 9, startMinute: 0, endHour: 9, endMinute: 1 })),
      ).not.toThrow()
      expect(() => validateCampaign(campaign({ startHour: 22, endHour: 2 }))).not.toThrow()
    })
  })

  describe('limits, delays and jitter', () => {
    it.each([
      ['delayBetweenEmails', -1],
      ['delayBetweenEmails', 1.5],
      ['delayBetweenEmails', Number.POSITIVE_INFINITY],
      ['maxEmailsPerDay', -5],
      ['maxEmailsPerDay', 10.2],
      ['maxEmailsPerDay', '500'],
    ] as const)('refuses %s = %p', (field, value) => {
      invalidError(() => validateCampaign(campaign({ [field]: value as number })), field)
    })

    it.each([-0.1, 1, 1.5, Number.NaN, '0.2' as unknown as number])('refuses jitter %p', (jitter) => {
      const error = invalidError(() => validateCampaign(campaign({ jitter })), 'jitter')
      expect(error.message).toContain('[0, 1)')
    })

    it('accepts jitter in [0, 1)', () => {
      expect(validateCampaign(campaign({ jitter: 0 })).jitter).toBe(0)
      expect(validateCampaign(campaign({ jitter: 0.99 })).jitter).toBe(0.99)
    })

    it('refuses any jitter outside [0, 1) (property)', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.double({ max: -Number.MIN_VALUE, noNaN: true }), fc.double({ min: 1, noNaN: true })),
          (jitter) => {
            invalidError(() => validateCampaign(campaign({ jitter })), 'jitter')
          },
        ),
        { numRuns: 200 },
      )
    })

    it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '3' as unknown as number])(
      'refuses delayDays %p on the step',
      (delayDays) => {
        const steps: Step[] = [
          { subject: 'Hi', text: 'a' },
          { delayDays, text: 'b' },
        ]
        invalidError(() => validateCampaign(campaign({ steps })), 'steps[1].delayDays')
      },
    )
  })

  describe('mailboxIds', () => {
    it('refuses an empty or missing list', () => {
      invalidError(() => validateCampaign(campaign({ mailboxIds: [] })), 'mailboxIds')
      invalidError(
        () => validateCampaign(campaign({ mailboxIds: undefined as unknown as string[] })),
        'mailboxIds',
      )
    })

    it('refuses a mailbox listed twice', () => {
      const error = invalidError(
        () => validateCampaign(campaign({ mailboxIds: ['a', 'b', 'a'] })),
        'mailboxIds',
      )
      expect(error.message).toContain('twice')
    })

    it('refuses an empty or non-string id, naming its index', () => {
      invalidError(() => validateCampaign(campaign({ mailboxIds: ['a', ''] })), 'mailboxIds[1]')
      invalidError(
        () => validateCampaign(campaign({ mailboxIds: [7 as unknown as string] })),
        'mailboxIds[0]',
      )
    })
  })

  describe('steps', () => {
    it('refuses no steps', () => {
      invalidError(() => validateCampaign(campaign({ steps: [] })), 'steps')
      invalidError(() => validateCampaign(campaign({ steps: undefined as unknown as Step[] })), 'steps')
    })

    it('refuses a step that is not an object', () => {
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'a', text: 'b' }, null as unknown as Step] })),
        'steps[1]',
      )
    })

    it('requires a subject on the first step only', () => {
      const error = invalidError(
        () => validateCampaign(campaign({ steps: [{ text: 'Hello' }] })),
        'steps[0].subject',
      )
      expect(error.message).toContain('first step')
      const ok = validateCampaign(campaign({ steps: [{ subject: 'Hi', text: 'a' }, { text: 'b' }] }))
      expect(ok.steps[1]).toEqual({ text: 'b' })
    })

    it('refuses an empty or blank subject, and a non-string one', () => {
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: '  ', text: 'a' }] })),
        'steps[0].subject',
      )
      invalidError(
        () =>
          validateCampaign(
            campaign({
              steps: [
                { subject: 'a', text: 'a' },
                { subject: '', text: 'b' },
              ],
            }),
          ),
        'steps[1].subject',
      )
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: null as unknown as string, text: 'a' }] })),
        'steps[0].subject',
      )
    })

    it('refuses a subject longer than 500 characters', () => {
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'x'.repeat(501), text: 'a' }] })),
        'steps[0].subject',
      )
    })

    it('refuses a step without a body', () => {
      const error = invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'a', text: 'b' }, { delayDays: 2 }] })),
        'steps[1]',
      )
      expect(error.message).toContain('text or an html body')
      invalidError(() => validateCampaign(campaign({ steps: [{ subject: 'a' }] })), 'steps[0]')
    })

    it('refuses a body that is not a string', () => {
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'a', text: 5 as unknown as string }] })),
        'steps[0].text',
      )
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'a', html: {} as unknown as string }] })),
        'steps[0].html',
      )
    })

    it('accepts line breaks in a body', () => {
      const steps = [{ subject: 'a', text: 'line 1\r\nline 2', html: '<p>a</p>\n<p>b</p>' }]
      expect(validateCampaign(campaign({ steps })).steps).toEqual(steps)
    })

    it.each(['Hi\r\nBcc: victim@example.com', 'Hi\n', 'Hi\rthere', 'Hi\0'])(
      'refuses the subject %j',
      (subject) => {
        const error = invalidError(
          () =>
            validateCampaign(
              campaign({
                steps: [
                  { subject: 'ok', text: 'a' },
                  { subject, text: 'b' },
                ],
              }),
            ),
          'steps[1].subject',
        )
        expect(error.message).toContain('CR, LF or NUL')
      },
    )

    it('refuses any subject holding CR, LF or NUL (property)', () => {
      fc.assert(
        fc.property(headerUnsafe, (subject) => {
          invalidError(
            () => validateCampaign(campaign({ steps: [{ subject, text: 'a' }] })),
            'steps[0].subject',
          )
        }),
      )
    })

    it('refuses any campaign name holding CR, LF or NUL (property)', () => {
      fc.assert(
        fc.property(headerUnsafe, (name) => {
          invalidError(() => validateCampaign(campaign({ name })), 'name')
        }),
      )
    })

    it.each([
      ['{{firstName', 'steps[0].subject', /without a closing/],
      ['Hi firstName}}', 'steps[0].subject', /without a matching/],
      ['Hi {{first name}}', 'steps[0].subject', /invalid variable name/],
      ['Hi {{}}', 'steps[0].subject', /invalid variable name/],
    ])('refuses the malformed subject template %j', (subject, field, pattern) => {
      const error = invalidError(() => validateCampaign(campaign({ steps: [{ subject, text: 'a' }] })), field)
      expect(error.message).toMatch(pattern)
      expect(error.message).toContain('template')
    })

    it('refuses malformed text and html templates, naming the key', () => {
      invalidError(
        () =>
          validateCampaign(campaign({ steps: [{ subject: 'a', text: 'ok' }, { text: 'Hi {{firstName' }] })),
        'steps[1].text',
      )
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'a', html: '<p>}}</p>' }] })),
        'steps[0].html',
      )
    })

    it('refuses a variable that no lead can fill, in any template', () => {
      const subject = invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'Hi {{frstName}}', text: 'a' }] })),
        'steps[0].subject',
      )
      expect(subject.message).toContain('{{frstName}}')
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'a', text: 'a' }, { text: 'Your {{plan}}' }] })),
        'steps[1].text',
      )
      invalidError(
        () => validateCampaign(campaign({ steps: [{ subject: 'a', html: '{{plan|basic}}' }] })),
        'steps[0].html',
      )
    })

    it('accepts the built-in variables, with or without fallbacks', () => {
      const steps = [
        { subject: '{{firstName}} {{lastName|}}', text: '{{ email }} at {{company|your company}}' },
      ]
      expect(validateCampaign(campaign({ steps })).steps).toEqual(steps)
    })

    it('accepts a custom variable once it is declared in variables', () => {
      const steps = [{ subject: 'About {{plan}}', text: 'Your {{plan}} at {{company}}' }]
      invalidError(() => validateCampaign(campaign({ steps })), 'steps[0].subject')
      const result = validateCampaign(campaign({ steps, variables: ['plan'] }))
      expect(result.variables).toEqual(['plan'])
      expect(result.steps).toEqual(steps)
    })
  })

  describe('variables', () => {
    it('refuses a value that is not an array', () => {
      invalidError(
        () => validateCampaign(campaign({ variables: 'plan' as unknown as string[] })),
        'variables',
      )
    })

    it.each(['', '1st', 'my-var', 'has space', 'x.y'])(
      'refuses the variable name %j, naming its index',
      (name) => {
        invalidError(() => validateCampaign(campaign({ variables: ['ok', name] })), 'variables[1]')
      },
    )

    it('refuses a non-string name', () => {
      invalidError(() => validateCampaign(campaign({ variables: [3 as unknown as string] })), 'variables[0]')
    })
  })
})

describe('requiredVariables', () => {
  it('lists variables used without a fallback in any template of any step', () => {
    const required = requiredVariables({
      steps: [
        { subject: 'Hi {{firstName}}', text: '{{company|you}}' },
        { text: 'plain', html: '<b>{{plan}}</b> {{lastName|}}' },
      ],
    })
    expect([...required].sort()).toEqual(['firstName', 'plan'])
  })

  it('counts a variable as required when one use has no fallback, even if another has one', () => {
    const required = requiredVariables({ steps: [{ subject: '{{company|you}}', text: 'at {{company}}' }] })
    expect([...required]).toEqual(['company'])
  })

  it('never requires email, which every lead has', () => {
    expect(requiredVariables({ steps: [{ subject: '{{email}}', text: '{{ email }}' }] }).size).toBe(0)
  })

  it('is empty when every variable has a fallback', () => {
    expect(requiredVariables({ steps: [{ subject: 'Hi {{firstName|there}}', text: 'x' }] }).size).toBe(0)
  })
})

describe('prepareLead', () => {
  const none = new Set<string>()

  it('normalises a valid lead', () => {
    const input: LeadInput = {
      email: '  Jan.Kowalski@Example.COM ',
      firstName: 'Jan',
      lastName: ' ',
      company: null,
      variables: { plan: 'Pro', note: 'line 1\nline 2' },
    }
    expect(prepareLead(input, none)).toEqual({
      email: 'Jan.Kowalski@Example.COM',
      emailKey: 'jan.kowalski@example.com',
      firstName: 'Jan',
      lastName: null,
      company: null,
      variables: { plan: 'Pro', note: 'line 1\nline 2' },
      timezone: null,
      country: null,
      windowKey: '',
    })
  })

  it('defaults missing fields to null and an empty variables object', () => {
    expect(prepareLead({ email: 'a@b.test' }, none)).toEqual({
      email: 'a@b.test',
      emailKey: 'a@b.test',
      firstName: null,
      lastName: null,
      company: null,
      variables: {},
      timezone: null,
      country: null,
      windowKey: '',
    })
  })

  it.each(['nope', '', 'jan@', '@example.com', 'jan@example'])('refuses the address %j', (email) => {
    const result = prepareLead({ email }, none)
    expect(result).toHaveProperty('reason')
    expect((result as { reason: string }).reason).toMatch(/^email /)
  })

  it('refuses a lead that is not an object', () => {
    expect(prepareLead(null as unknown as LeadInput, none)).toEqual({
      reason: 'lead must be an object, got null',
    })
  })

  it.each(['firstName', 'lastName', 'company'] as const)('refuses CR, LF or NUL in %s', (key) => {
    for (const bad of ['Jan\r\nBcc: victim@example.com', 'Jan\n', 'J\0']) {
      const result = prepareLead({ email: 'a@b.test', [key]: bad }, none)
      expect(result).toEqual({ reason: `${key} must not contain CR, LF or NUL` })
    }
  })

  it('refuses any first name holding CR, LF or NUL (property)', () => {
    fc.assert(
      fc.property(headerUnsafe, (firstName) => {
        const result = prepareLead({ email: 'a@b.test', firstName }, none)
        expect(isLead(result)).toBe(false)
      }),
    )
  })

  it('refuses non-string names and variables', () => {
    expect(prepareLead({ email: 'a@b.test', company: 5 as unknown as string }, none)).toEqual({
      reason: 'company must be a string, got 5',
    })
    expect(prepareLead({ email: 'a@b.test', variables: { plan: 3 as unknown as string } }, none)).toEqual({
      reason: 'variables.plan must be a string, got 3',
    })
    expect(
      prepareLead({ email: 'a@b.test', variables: 'x' as unknown as Record<string, string> }, none),
    ).toEqual({
      reason: 'variables must be an object of strings, got "x"',
    })
  })

  it('refuses NUL in a custom variable but keeps line breaks', () => {
    expect(prepareLead({ email: 'a@b.test', variables: { plan: 'P\0' } }, none)).toEqual({
      reason: 'variables.plan must not contain NUL',
    })
    const ok = prepareLead({ email: 'a@b.test', variables: { plan: 'P\r\nQ' } }, none)
    expect(isLead(ok) && ok.variables.plan).toBe('P\r\nQ')
  })

  it('refuses a lead missing a required variable, and accepts it when supplied', () => {
    const required = requiredVariables({ steps: [{ subject: 'Hi {{firstName}}', text: 'About {{plan}}' }] })
    expect(prepareLead({ email: 'a@b.test', variables: { plan: 'Pro' } }, required)).toEqual({
      reason: 'missing {{firstName}}, used without a fallback',
    })
    expect(prepareLead({ email: 'a@b.test', firstName: '  ', variables: { plan: 'Pro' } }, required)).toEqual(
      {
        reason: 'missing {{firstName}}, used without a fallback',
      },
    )
    expect(prepareLead({ email: 'a@b.test', firstName: 'Jan', variables: { plan: ' ' } }, required)).toEqual({
      reason: 'missing {{plan}}, used without a fallback',
    })
    expect(
      isLead(prepareLead({ email: 'a@b.test', firstName: 'Jan', variables: { plan: 'Pro' } }, required)),
    ).toBe(true)
  })

  it('does not let a custom variable stand in for a missing built-in one', () => {
    const required = new Set(['firstName'])
    const result = prepareLead({ email: 'a@b.test', variables: { firstName: 'Jan' } }, required)
    expect(result).toEqual({ reason: 'missing {{firstName}}, used without a fallback' })
  })

  it('does not require a variable that has a fallback everywhere', () => {
    const required = requiredVariables({ steps: [{ subject: 'Hi {{firstName|there}}', text: '{{plan|}}' }] })
    expect(isLead(prepareLead({ email: 'a@b.test' }, required))).toBe(true)
  })

  it('keys the lead by its trimmed, lower-cased address (property)', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.constantFrom('', ' ', '\t', '  '), (email, pad) => {
        fc.pre(email.length <= 254 && emailProblem(email) === null)
        const mixed = `${pad}${email.toUpperCase()}${pad}`
        const result = prepareLead({ email: mixed }, none)
        if (!isLead(result)) throw new Error(result.reason)
        expect(result.emailKey).toBe(email.toLowerCase())
        expect(result.email).toBe(email.toUpperCase())
      }),
      { numRuns: 200 },
    )
  })
})

describe('emailProblem', () => {
  it.each([
    'jan@example.com',
    'Jan.K+tag@sub.example.co.uk',
    "o'brien@example.ie",
    '  jan@example.com  ',
    'a@b.cd',
  ])('accepts %j', (email) => {
    expect(emailProblem(email)).toBeNull()
  })

  it.each([
    ['', 'is empty'],
    ['   ', 'is empty'],
    [42, 'must be a string'],
    [null, 'must be a string'],
    ['jan', 'is not an email address'],
    ['jan@example', 'is not an email address'],
    ['jan@-example.com', 'is not an email address'],
    ['jan@example-.com', 'is not an email address'],
    ['"jan"@example.com', 'is not an email address'],
    ['jan@[127.0.0.1]', 'is not an email address'],
    ['jan.@example.com', 'is not an email address'],
    ['.jan@example.com', 'is not an email address'],
    ['ja..n@example.com', 'is not an email address'],
    [`${'a'.repeat(65)}@example.com`, 'is not an email address'],
    [`a@${'b'.repeat(64)}.com`, 'is not an email address'],
    [`a@${`${'b'.repeat(60)}.`.repeat(5)}com`, 'is longer than 254'],
    ['jan@example.com\r\nBcc: x@y.test', 'is not an email address'],
  ])('refuses %j', (email, problem) => {
    expect(emailProblem(email)).toContain(problem)
  })

  it('accepts a 64-character local part', () => {
    expect(emailProblem(`${'a'.repeat(64)}@example.com`)).toBeNull()
  })

  it('shows control characters escaped in the message', () => {
    const problem = emailProblem('a\nb@example.com')
    expect(problem).toContain('a\\nb@example.com')
    expect(problem).not.toContain('\n')
  })
})

describe('emailKey', () => {
  it('trims and lower-cases', () => {
    expect(emailKey('  Jan@Example.COM\t')).toBe('jan@example.com')
  })

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (value) => {
        expect(emailKey(emailKey(value))).toBe(emailKey(value))
      }),
    )
  })

  it('does not depend on case or surrounding spaces (property)', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        expect(emailKey(` ${email.toUpperCase()} `)).toBe(emailKey(email.toLowerCase()))
      }),
    )
  })
})
