/**
 * The edge's documented maximums and normal form (issue #12): every value `validateCampaign`,
 * `validateMailbox` and `prepareLead` accept is one every store holds (Postgres `integer` columns,
 * `timestamptz` and text without NUL, MariaDB `DATETIME(3)` up to 9999-12-31), and error
 * messages quote only a short, escaped excerpt of what they refuse.
 */
import { describe, expect, it } from 'vitest'
import { isMailcadenceError, type MailcadenceError } from '../src/errors.js'
import { INPUT_LIMITS } from '../src/index.js'
import { renderTemplate } from '../src/message/template.js'
import { describeValue } from '../src/model/describe.js'
import type { CampaignInput, LeadInput, MailboxInput } from '../src/model/types.js'
import {
  leadValues,
  prepareLead,
  requiredVariables,
  validateCampaign,
  validateMailbox,
} from '../src/model/validate.js'

function refused(fn: () => unknown, field: string): MailcadenceError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(
    isMailcadenceError(caught, 'invalid-input'),
    `expected invalid-input on ${field}, got ${String(caught)}`,
  ).toBe(true)
  const error = caught as MailcadenceError
  expect(error.field).toBe(field)
  expect(error.message.startsWith(`${field}: `)).toBe(true)
  return error
}

function campaign(overrides: Partial<CampaignInput> = {}): CampaignInput {
  return {
    name: 'Q4',
    mailboxIds: ['mb-1'],
    steps: [
      { subject: 'Hi {{firstName|there}}', text: 'Hello' },
      { delayDays: 3, text: 'Bump' },
    ],
    ...overrides,
  }
}
const mailbox = (overrides: Partial<MailboxInput> = {}): MailboxInput => ({
  email: 'anna@acme.test',
  dailyEmailLimit: 50,
  ...overrides,
})

const LONE_HIGH = 'Hi \ud83d there'
const LONE_LOW = 'Hi \ude00 there'

describe('documented maximums', () => {
  it('refuses delays and limits no store can hold or the engine cannot add to a date, naming the field', () => {
    refused(
      () =>
        validateCampaign(
          campaign({
            steps: [
              { subject: 'a', text: 'b' },
              { delayDays: 1e9, text: 'c' },
            ],
          }),
        ),
      'steps[1].delayDays',
    )
    refused(() => validateCampaign(campaign({ delayBetweenEmails: 1e13 })), 'delayBetweenEmails')
    refused(() => validateCampaign(campaign({ maxEmailsPerDay: 2 ** 31 })), 'maxEmailsPerDay')
    refused(() => validateMailbox(mailbox({ dailyEmailLimit: 2 ** 31 })), 'dailyEmailLimit')
  })

  it('accepts every value at its maximum, and refuses one past it', () => {
    const max = validateCampaign(
      campaign({
        maxEmailsPerDay: INPUT_LIMITS.maxEmailsPerDay,
        delayBetweenEmails: INPUT_LIMITS.delayBetweenEmails,
        name: 'n'.repeat(INPUT_LIMITS.nameLength),
        steps: [
          { subject: 's'.repeat(INPUT_LIMITS.nameLength), text: 't'.repeat(INPUT_LIMITS.bodyLength) },
          { delayDays: INPUT_LIMITS.delayDays, html: 'h'.repeat(INPUT_LIMITS.bodyLength) },
        ],
      }),
    )
    expect(max.steps[1]?.delayDays).toBe(3650)
    expect(validateMailbox(mailbox({ dailyEmailLimit: INPUT_LIMITS.dailyEmailLimit })).dailyEmailLimit).toBe(
      1_000_000,
    )
    refused(
      () => validateCampaign(campaign({ maxEmailsPerDay: INPUT_LIMITS.maxEmailsPerDay + 1 })),
      'maxEmailsPerDay',
    )
    refused(
      () => validateCampaign(campaign({ delayBetweenEmails: INPUT_LIMITS.delayBetweenEmails + 1 })),
      'delayBetweenEmails',
    )
    refused(
      () =>
        validateCampaign(
          campaign({
            steps: [
              { subject: 'a', text: 'b' },
              { delayDays: 3650.5, text: 'c' },
            ],
          }),
        ),
      'steps[1].delayDays',
    )
    refused(
      () =>
        validateCampaign(
          campaign({ steps: [{ subject: 'a', text: 'x'.repeat(INPUT_LIMITS.bodyLength + 1) }] }),
        ),
      'steps[0].text',
    )
    refused(
      () =>
        validateCampaign(
          campaign({ steps: [{ subject: 'a', html: 'x'.repeat(INPUT_LIMITS.bodyLength + 1) }] }),
        ),
      'steps[0].html',
    )
    refused(
      () => validateMailbox(mailbox({ dailyEmailLimit: INPUT_LIMITS.dailyEmailLimit + 1 })),
      'dailyEmailLimit',
    )
  })

  it('refuses too many steps, variables or mailboxes', () => {
    const steps = Array.from({ length: INPUT_LIMITS.steps + 1 }, () => ({ subject: 'a', text: 'b' }))
    refused(() => validateCampaign(campaign({ steps })), 'steps')
    const variables = Array.from({ length: INPUT_LIMITS.variables + 1 }, (_, i) => `v${i}`)
    refused(() => validateCampaign(campaign({ variables })), 'variables')
    refused(
      () => validateCampaign(campaign({ variables: [`v${'x'.repeat(INPUT_LIMITS.variableNameLength)}`] })),
      'variables[0]',
    )
    const mailboxIds = Array.from({ length: INPUT_LIMITS.mailboxesPerCampaign + 1 }, (_, i) => `mb-${i}`)
    refused(() => validateCampaign(campaign({ mailboxIds })), 'mailboxIds')
    refused(
      () => validateCampaign(campaign({ mailboxIds: ['x'.repeat(INPUT_LIMITS.idLength + 1)] })),
      'mailboxIds[0]',
    )
  })

  it('refuses a campaign whose templates together pass the maximum, or a template with too many variables', () => {
    const body = 'x'.repeat(INPUT_LIMITS.bodyLength)
    const steps = [
      { subject: 'a', text: body, html: body },
      { text: 'y'.repeat(INPUT_LIMITS.templatesLength - 2 * INPUT_LIMITS.bodyLength) },
    ]
    refused(() => validateCampaign(campaign({ steps })), 'steps')
    const many = '{{firstName|x}}'.repeat(INPUT_LIMITS.variableUsesPerTemplate + 1)
    refused(() => validateCampaign(campaign({ steps: [{ subject: 'a', text: many }] })), 'steps[0].text')
    const enough = '{{firstName|x}}'.repeat(INPUT_LIMITS.variableUsesPerTemplate)
    expect(validateCampaign(campaign({ steps: [{ subject: 'a', text: enough }] })).steps[0]?.text).toBe(
      enough,
    )
  })

  it('cuts a rendered subject at its maximum, never inside an emoji', async () => {
    const { stepSubject } = await import('../src/message/build.js')
    const steps = [{ subject: 'Hi {{plan}}', text: 'b' }]
    const long = stepSubject(steps, { plan: '😀'.repeat(1000) }, 0, null)
    expect(long.length).toBeLessThanOrEqual(INPUT_LIMITS.renderedSubjectLength)
    expect(long.length).toBeGreaterThan(INPUT_LIMITS.renderedSubjectLength - 2)
    expect(/[\ud800-\udbff]$/.test(long)).toBe(false)
    const reply = stepSubject([...steps, { text: 'c' }], { plan: 'x'.repeat(5000) }, 1, null)
    expect(reply).toHaveLength(INPUT_LIMITS.renderedSubjectLength)
    expect(reply.startsWith('Re: Hi xxx')).toBe(true)
  })

  it('refuses leads whose fields or variables pass the documented lengths', () => {
    const none = new Set<string>()
    expect(prepareLead({ email: 'a@b.test', firstName: 'x'.repeat(501) }, none)).toEqual({
      reason: 'firstName is longer than 500 characters (501)',
    })
    expect(prepareLead({ email: 'a@b.test', variables: { plan: 'x'.repeat(10_001) } }, none)).toEqual({
      reason: 'variables.plan is longer than 10000 characters (10001)',
    })
    expect(
      prepareLead({ email: 'a@b.test', variables: { a: 'x'.repeat(6000), b: 'y'.repeat(4000) } }, none),
    ).toEqual({
      reason: 'variables hold 10002 characters together, more than 10000',
    })
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, 'x']))
    expect(prepareLead({ email: 'a@b.test', variables: many }, none)).toEqual({
      reason: 'variables must hold at most 100 names (101)',
    })
  })
})

describe('normal form of strings', () => {
  it.each([LONE_HIGH, LONE_LOW, 'end \ud83d', '\ude00'])(
    'refuses the lone surrogate in %j anywhere',
    (bad) => {
      refused(() => validateCampaign(campaign({ name: bad })), 'name')
      refused(() => validateCampaign(campaign({ steps: [{ subject: bad, text: 'b' }] })), 'steps[0].subject')
      refused(() => validateCampaign(campaign({ steps: [{ subject: 'a', text: bad }] })), 'steps[0].text')
      refused(() => validateCampaign(campaign({ steps: [{ subject: 'a', html: bad }] })), 'steps[0].html')
      refused(() => validateMailbox(mailbox({ name: bad })), 'name')
      const none = new Set<string>()
      for (const key of ['firstName', 'lastName', 'company'] as const) {
        expect(prepareLead({ email: 'a@b.test', [key]: bad }, none)).toMatchObject({
          reason: expect.stringMatching(/well-formed/),
        })
      }
      expect(prepareLead({ email: 'a@b.test', variables: { plan: bad } }, none)).toMatchObject({
        reason: expect.stringMatching(/^variables\.plan .*well-formed/),
      })
      expect(prepareLead({ email: 'a@b.test', variables: { [bad]: 'x' } }, none)).toMatchObject({
        reason: expect.stringMatching(/well-formed/),
      })
    },
  )

  it('keeps surrogate pairs (emoji) and non-ASCII text', () => {
    const text = 'Cześć 😀 — ☃ 日本'
    const c = validateCampaign(campaign({ name: text, steps: [{ subject: text, text, html: text }] }))
    expect(c.steps[0]).toEqual({ subject: text, text, html: text })
    expect(
      prepareLead({ email: 'a@b.test', firstName: text, variables: { x: text } }, new Set()),
    ).toMatchObject({
      firstName: text,
      variables: { x: text },
    })
  })

  it('refuses NUL in a body and in a lead variable or its name (Postgres refuses NUL in text)', () => {
    refused(() => validateCampaign(campaign({ steps: [{ subject: 'a', text: 'b\0c' }] })), 'steps[0].text')
    refused(
      () => validateCampaign(campaign({ steps: [{ subject: 'a', html: '<p>\0</p>' }] })),
      'steps[0].html',
    )
    expect(prepareLead({ email: 'a@b.test', variables: { x: 'a\0' } }, new Set())).toEqual({
      reason: 'variables.x must not contain NUL',
    })
    expect(prepareLead({ email: 'a@b.test', variables: { 'a\0b': 'x' } }, new Set())).toEqual({
      reason: 'the name of variables["a\\0b"] must not contain NUL',
    })
  })
})

describe('variables named like Object.prototype members', () => {
  const names = ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf']

  it.each(names)('adds a lead with a variable named %s, required or with a fallback', (name) => {
    const c = validateCampaign(
      campaign({
        variables: [name],
        steps: [{ subject: `Hi {{${name}}}`, text: `A {{${name}|x}} B` }],
      }),
    )
    const required = requiredVariables(c)
    expect(required.has(name)).toBe(true)
    // JSON.parse makes `__proto__` an own key, as a host reading leads from a file would get.
    const input = JSON.parse(`{"email":"a@b.test","variables":{"${name}":"value of ${name}"}}`) as LeadInput
    const lead = prepareLead(input, required)
    expect(lead).not.toHaveProperty('reason')
    if ('reason' in lead) return
    expect(Object.getPrototypeOf(lead.variables)).toBe(Object.prototype)
    expect(Object.hasOwn(lead.variables, name)).toBe(true)
    const values = leadValues(lead)
    expect(renderTemplate(`Hi {{${name}}}`, values)).toBe(`Hi value of ${name}`)
    expect(renderTemplate(`A {{${name}|x}} B`, values)).toBe(`A value of ${name} B`)
  })

  it.each(names)('refuses a lead missing a required %s, and falls back without it', (name) => {
    const c = validateCampaign(
      campaign({ variables: [name], steps: [{ subject: `Hi {{${name}}}`, text: 'b' }] }),
    )
    expect(prepareLead({ email: 'a@b.test' }, requiredVariables(c))).toEqual({
      reason: `missing {{${name}}}, used without a fallback`,
    })
    const values = leadValues({
      email: 'a@b.test',
      firstName: null,
      lastName: null,
      company: null,
      variables: {},
    })
    expect(renderTemplate(`A {{${name}|x}} B`, values)).toBe('A x B')
    expect(renderTemplate(`A {{${name}}} B`, {})).toBe('A  B')
  })
})

describe('error messages', () => {
  it('quote a short, escaped excerpt of a 1 MB value', () => {
    const huge = `a\r\nb\0c${'x'.repeat(1_000_000)}`
    const error = refused(() => validateCampaign(campaign({ timezone: huge })), 'timezone')
    expect(error.message.length).toBeLessThan(200)
    expect(error.message).not.toMatch(/[\r\n\0]/)
    expect(error.message).toContain('a\\r\\nb\\0c')
    const lead = prepareLead({ email: `${huge}@x.test` }, new Set())
    expect('reason' in lead && lead.reason.length).toBeLessThan(200)
  })

  it('never crash on values without a prototype, Symbols, BigInts or functions', () => {
    for (const value of [
      Object.create(null),
      Symbol('s'),
      10n ** 100n,
      () => 1,
      new Date(Number.NaN),
      [1, 2],
    ]) {
      refused(() => validateCampaign(campaign({ name: value })), 'name')
      refused(() => validateCampaign(campaign({ jitter: value })), 'jitter')
      refused(() => validateCampaign(campaign({ timezone: value })), 'timezone')
      refused(() => validateCampaign(campaign({ allowedDays: value })), 'allowedDays')
      refused(() => validateCampaign(campaign({ variables: [value] })), 'variables[0]')
      refused(() => validateMailbox(mailbox({ dailyEmailLimit: value })), 'dailyEmailLimit')
      refused(() => validateMailbox(mailbox({ email: value })), 'email')
      expect(prepareLead({ email: 'a@b.test', company: value }, new Set())).toHaveProperty('reason')
      expect(prepareLead({ email: 'a@b.test', variables: { x: value } }, new Set())).toHaveProperty('reason')
      expect(prepareLead({ email: value }, new Set())).toHaveProperty('reason')
    }
  })
})

describe('describeValue', () => {
  it('renders any value in at most about 60 characters, control characters visible', () => {
    const cases: Array<[unknown, string]> = [
      ['a\r\nb\0c\t"\\', '"a\\r\\nb\\0c\\t\\"\\\\"'],
      ['\u001b[31m\u2028', '"\\u001b[31m\\u2028"'],
      [LONE_HIGH, '"Hi \\ud83d there"'],
      ['😀', '"😀"'],
      [Object.create(null), 'an object without a prototype'],
      [Symbol('x'.repeat(1000)), 'a symbol'],
      [10n, '10n'],
      [() => 1, 'a function'],
      [null, 'null'],
      [undefined, 'undefined'],
      [Number.NaN, 'NaN'],
      [-0, '-0'],
      [new Date(Number.NaN), 'an invalid Date'],
      [new Date('2026-01-05T00:00:00Z'), 'the Date 2026-01-05T00:00:00.000Z'],
      [[1, 2, 3], 'an array of 3'],
      [{ toString: () => 'evil\r\n' }, 'an object'],
    ]
    for (const [value, expected] of cases) expect(describeValue(value)).toBe(expected)
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    expect(describeValue(proxy)).toBe('an object')
    for (const value of ['x'.repeat(1_000_000), '\0'.repeat(1_000_000), '😀'.repeat(100_000), 10n ** 1000n]) {
      const text = describeValue(value)
      expect(text.length).toBeLessThanOrEqual(70)
      expect(text).not.toMatch(/[\0\r\n]/)
    }
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(40)}…" (100 characters)`)
  })
})
