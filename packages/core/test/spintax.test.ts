import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../src/errors.js'
import { buildMessage } from '../src/message/build.js'
import {
  enumerateSpintax,
  parseSpintax,
  printSpintax,
  type SpinNode,
  spin,
  spinSeed,
} from '../src/message/spintax.js'
import type { TemplatePart } from '../src/message/template.js'
import type { Campaign, Lead, Mailbox, QueueItem } from '../src/model/types.js'
import { CAMPAIGN_DEFAULTS, validateCampaign } from '../src/model/validate.js'

/** Template source of spun parts, in the form `enumerateSpintax` lists them. */
function source(parts: readonly TemplatePart[]): string {
  return parts
    .map((p) =>
      typeof p === 'string' ? p : `{{${p.name}${p.fallback === undefined ? '' : `|${p.fallback}`}}}`,
    )
    .join('')
}

/** Nodes without the group indexes (compared separately) and with adjacent literals merged. */
function shape(nodes: readonly SpinNode[]): unknown[] {
  const out: unknown[] = []
  for (const node of nodes) {
    if (typeof node === 'string') {
      if (node === '') continue
      if (typeof out.at(-1) === 'string') out[out.length - 1] += node
      else out.push(node)
    } else if ('variable' in node) out.push({ variable: node.variable })
    else out.push({ choices: node.choices.map(shape) })
  }
  return out
}

// Literal text with every special character, never ending in a backslash (a backslash right
// before a brace or bar is an escape, so such a literal has no printed form).
const literal = fc
  .array(fc.constantFrom('a', 'b', ' ', '{', '}', '|', '\\', '{{', '}}', 'é', '😀'), { maxLength: 5 })
  .map((xs) => xs.join(''))
  .filter((s) => !s.endsWith('\\'))
const variable = fc.constantFrom('firstName', 'company|there', 'plan|a b')

const { nodes: nodesArb } = fc.letrec<{ nodes: SpinNode[]; node: SpinNode }>((tie) => ({
  nodes: fc.array(tie('node'), { maxLength: 4 }),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literal,
    variable.map((v) => ({ variable: v })),
    fc
      .array(tie('nodes'), { minLength: 1, maxLength: 3 })
      .map((choices) => ({ choices, index: 0 }) as SpinNode),
  ),
}))

/** `{{…}}` with no brace inside is always a variable: a brace pair around exactly one brace-free group prints so. */
function printable(nodes: readonly SpinNode[]): boolean {
  return nodes.every((node) => {
    if (typeof node === 'string' || 'variable' in node) return true
    const only = (node.choices[0] ?? []).filter((n) => n !== '')
    if (node.choices.length === 1 && only.length === 1 && typeof only[0] === 'object' && 'choices' in only[0])
      return false
    return node.choices.every(printable)
  })
}

function groupIndexes(nodes: readonly SpinNode[], out: number[] = []): number[] {
  for (const node of nodes) {
    if (typeof node === 'string' || 'variable' in node) continue
    out.push(node.index)
    for (const choice of node.choices) groupIndexes(choice, out)
  }
  return out
}

describe('spintax parsing', () => {
  it('round-trips: parse(print(nodes)) gives the nodes back (property)', () => {
    fc.assert(
      fc.property(nodesArb, (nodes) => {
        fc.pre(printable(nodes))
        const parsed = parseSpintax(printSpintax(nodes))
        expect(shape(parsed)).toEqual(shape(nodes))
        const indexes = groupIndexes(parsed)
        expect(indexes).toEqual(indexes.map((_, i) => i))
      }),
      { numRuns: 500 },
    )
  })

  it('every spin is one of the enumerated outputs, and the same seed spins the same (property)', () => {
    fc.assert(
      fc.property(nodesArb, fc.string(), (nodes, seed) => {
        fc.pre(printable(nodes))
        const parsed = parseSpintax(printSpintax(nodes))
        const all = enumerateSpintax(parsed, 100_000)
        fc.pre(all.length < 100_000)
        const once = source(spin(parsed, seed))
        expect(all).toContain(once)
        expect(source(spin(parsed, seed))).toBe(once)
      }),
      { numRuns: 300 },
    )
  })

  it('"}}" closing two groups is not a variable; "{{name}}" and "{{name|fallback}}" are', () => {
    const nested = parseSpintax('{Hi|Hello {there|friend}}')
    expect(enumerateSpintax(nested).sort()).toEqual(['Hello friend', 'Hello there', 'Hi'])
    expect(parseSpintax('{{firstName}}')).toEqual([{ variable: 'firstName' }])
    expect(parseSpintax('{{firstName|there}}')).toEqual([{ variable: 'firstName|there' }])
    expect(enumerateSpintax(parseSpintax('{{{firstName}}|friend}!')).sort()).toEqual([
      'friend!',
      '{{firstName}}!',
    ])
    // A pair with no bar is literal text, braces included (CSS in an html body).
    expect(enumerateSpintax(parseSpintax('p { color: red }'))).toEqual(['p { color: red }'])
  })

  it('escapes \\{, \\| and \\} write the characters; other backslashes are literal', () => {
    expect(parseSpintax('\\{a\\|b\\} c:\\d')).toEqual(['{a|b} c:\\d'])
    expect(enumerateSpintax(parseSpintax('{x\\|y|z}')).sort()).toEqual(['x|y', 'z'])
  })

  it('refuses unbalanced braces, saying where', () => {
    expect(() => parseSpintax('{a|b')).toThrow(/without a closing/)
    expect(() => parseSpintax('a|b}')).toThrow(/without a matching/)
    expect(() => parseSpintax('{Hi|Hello {there|friend}')).toThrow(/without a closing/)
  })
})

describe('spintax choice', () => {
  it('is uniform over each group: top-level alternatives, then nested ones (10,000 seeds)', () => {
    const nodes = parseSpintax('{Hi|Hello {there|friend}}')
    const counts = new Map<string, number>()
    const n = 10_000
    for (let i = 0; i < n; i++) {
      const out = source(spin(nodes, spinSeed('c-1', `lead${i}@example.com`, 0, 'subject')))
      counts.set(out, (counts.get(out) ?? 0) + 1)
    }
    // Within 4 standard deviations of the expected share: a false alarm about once in 16,000 runs,
    // and the seeds are fixed, so this run is the same every time.
    const near = (count: number | undefined, p: number) =>
      expect(Math.abs((count ?? 0) - n * p)).toBeLessThan(4 * Math.sqrt(n * p * (1 - p)))
    near(counts.get('Hi'), 1 / 2)
    near(counts.get('Hello there'), 1 / 4)
    near(counts.get('Hello friend'), 1 / 4)
  })

  it('depends on campaign, lead, step and field', () => {
    const nodes = parseSpintax('{a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p}')
    const pick = (...args: Parameters<typeof spinSeed>) => source(spin(nodes, spinSeed(...args)))
    const base = ['c-1', 'jan@example.com', 0, 'subject'] as const
    const variations = [
      pick('c-2', base[1], base[2], base[3]),
      pick(base[0], 'eva@example.com', base[2], base[3]),
      pick(base[0], base[1], 1, base[3]),
      pick(base[0], base[1], base[2], 'text'),
    ]
    // With 16 alternatives each variation matches by chance 1 time in 16; all four, 1 in 65,536.
    expect(variations.some((v) => v !== pick(...base))).toBe(true)
  })
})

const T0 = new Date('2026-03-02T10:00:00Z')
function campaignOf(steps: Campaign['steps'], id = 'c-1'): Campaign {
  return {
    id,
    name: 'Spin',
    status: 'IN_PROGRESS',
    ...CAMPAIGN_DEFAULTS,
    mailboxIds: ['mb-1'],
    steps,
    variables: [],
    createdAt: T0,
    updatedAt: T0,
    settingsVersion: 1,
    nextSlotAt: null,
    lastMailboxId: null,
    externalId: null,
  }
}
const mailbox: Mailbox = {
  id: 'mb-1',
  email: 'anna@acme.test',
  name: null,
  dailyEmailLimit: 50,
  hourlyLimit: null,
  rampUp: null,
  rampLevel: 0,
  rampDayKey: null,
  provider: null,
  timezone: 'UTC',
  pausedUntil: null,
  pauseReason: null,
  skipDates: [],
  createdAt: T0,
  updatedAt: T0,
}
function leadOf(firstName: string, email = 'jan@example.com'): Lead {
  return {
    id: 'l-1',
    campaignId: 'c-1',
    email,
    firstName,
    lastName: null,
    company: null,
    variables: {},
    timezone: null,
    country: null,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
  }
}
function itemOf(step: number, attempts = 0): QueueItem & { messageId: string } {
  return {
    id: 'q-1',
    campaignId: 'c-1',
    leadId: 'l-1',
    step,
    status: 'sending',
    scheduledAt: T0,
    attempts,
    mailboxId: 'mb-1',
    windowKey: '',
    references: [],
    messageId: '<m1@acme.test>',
    threadSubject: null,
    leaseToken: 't',
    leaseUntil: T0,
    lastError: null,
    sentAt: null,
    createdAt: T0,
    updatedAt: T0,
  }
}

describe('spintax in messages', () => {
  it("never spins a lead's own data, and spins subject, text and html before filling variables (property)", () => {
    const campaign = campaignOf([
      {
        subject: '{Hi|Hello} {{firstName}}',
        text: '{Hi|Hey} {{firstName}}',
        html: '<p>{Hi|Hey} {{firstName}}</p>',
      },
    ])
    fc.assert(
      fc.property(
        fc.constantFrom('{A|B}', '{{x}}', '\\{', '{|}', 'a|b}'),
        fc.emailAddress(),
        (name, email) => {
          const message = buildMessage({ campaign, mailbox, lead: leadOf(name, email), item: itemOf(0) })
          expect(message.subject).toMatch(/^(Hi|Hello) /)
          expect(message.subject.endsWith(name)).toBe(true)
          expect(message.text?.endsWith(name)).toBe(true)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('a retry (another attempt) builds the identical message', () => {
    const campaign = campaignOf([{ subject: '{a|b|c|d} {e|f|g}', text: '{1|2|3} {{firstName}}' }])
    const lead = leadOf('Jan')
    const first = buildMessage({ campaign, mailbox, lead, item: itemOf(0, 0) })
    const retry = buildMessage({ campaign, mailbox, lead, item: itemOf(0, 3) })
    expect(retry).toEqual(first)
  })

  it('a follow-up with no subject replies to the spun subject of step 0', () => {
    const campaign = campaignOf([{ subject: '{a|b|c|d} x', text: 't' }, { text: 'again' }])
    const lead = leadOf('Jan')
    const first = buildMessage({ campaign, mailbox, lead, item: itemOf(0) })
    const follow = buildMessage({ campaign, mailbox, lead, item: itemOf(1) })
    expect(follow.subject).toBe(`Re: ${first.subject}`)
  })
})

describe('spintax validation', () => {
  const input = (steps: unknown) =>
    ({ name: 'x', mailboxIds: ['mb-1'], steps }) as unknown as Parameters<typeof validateCampaign>[0]

  it('names the step and field of unbalanced braces (property)', () => {
    const fields = fc.constantFrom('subject', 'text', 'html')
    const broken = fc.constantFrom('{Hi|Hello', 'Hi}', '{a|{b|c}', '{{firstName}', 'a {b|c}}}')
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fields, broken, (at, field, text) => {
        const steps = Array.from({ length: 4 }, () => ({ subject: 's', text: 't', html: 'h' }))
        steps[at] = { ...steps[at], [field]: text } as (typeof steps)[number]
        let error: unknown
        try {
          validateCampaign(input(steps))
        } catch (e) {
          error = e
        }
        expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
        expect((error as { field?: string }).field).toBe(`steps[${at}].${field}`)
      }),
      { numRuns: 100 },
    )
  })

  it('accepts nested groups next to variables, and checks the variables of every alternative', () => {
    expect(() =>
      validateCampaign(input([{ subject: '{Hi|Hello {there|friend}} {{firstName|you}}', text: 'x' }])),
    ).not.toThrow()
    expect(() => validateCampaign(input([{ subject: '{Hi|Hello {{nope}}}', text: 'x' }]))).toThrow(/nope/)
  })
})
