/**
 * The edge as a property (issue #12): any value put anywhere in a valid campaign, mailbox, lead,
 * import or scheduler options either passes, and then is within the documented maximums and in
 * normal form (and the engine computes with it: `planImport` runs on a passing import), or is
 * refused with an `invalid-input` error naming a field. Never another exception.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../src/errors.js'
import { normalizeImportInput } from '../src/migration/input.js'
import { planImport } from '../src/migration/plan.js'
import { textProblem } from '../src/model/checks.js'
import { EARLIEST_MS, INPUT_LIMITS, LATEST_MS } from '../src/model/limits.js'
import type { Mailbox } from '../src/model/types.js'
import { prepareLead, requiredVariables, validateCampaign, validateMailbox } from '../src/model/validate.js'
import { resolveOptions, type SchedulerOptions } from '../src/scheduler/options.js'

const NOW = new Date('2026-01-05T11:00:00Z')
const RUNS = Number(process.env.FC_RUNS ?? 400)

/** Any value, the nasty ones included. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    withBigInt: true,
    withNullPrototype: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withSparseArray: true,
    withUnicodeString: true,
  }),
  fc.constantFrom<unknown>(
    1e9,
    1e13,
    2 ** 31,
    -1,
    -0,
    0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    ' ',
    '\0',
    'a\r\nb',
    '\ud800',
    'x\udc00',
    '😀',
    'x'.repeat(1_001),
    Symbol('s'),
    () => 1,
    new Date(Number.NaN),
    new Date('+100000-01-01T00:00:00Z'),
    new Date('2026-01-01T00:00:00Z'),
    Object.create(null),
    [],
    null,
    undefined,
    '{{constructor}}',
    'constructor',
    '__proto__',
  ),
  fc.string({ unit: 'binary' }),
)

type Path = ReadonlyArray<string | number>

/** A deep copy of `base` with `value` put at `path` (or the key deleted when `remove`). */
function mutate<T>(base: T, path: Path, value: unknown, remove = false): T {
  const copy = clone(base) as Record<string | number, unknown>
  let target = copy
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>
  const last = path[path.length - 1]!
  if (remove) delete target[last]
  else Object.defineProperty(target, last, { value, enumerable: true, writable: true, configurable: true })
  return copy as T
}

/** A deep copy of arrays and plain objects; functions and Dates as they are. */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone)
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]))
  return value
}

const mutation = (paths: Path[]) =>
  fc.record({
    path: fc.constantFrom(...paths),
    value: weird,
    remove: fc.boolean().map((b) => b && Math.random() < 0.2),
  })

/** Runs `fn`; a throw must be an invalid-input error with a field. Returns the result or undefined. */
function passOrRefuse<R>(fn: () => R): R | undefined {
  try {
    return fn()
  } catch (error) {
    if (!isMailcadenceError(error, 'invalid-input') || typeof error.field !== 'string' || error.field === '')
      throw error
    expect(error.message.length).toBeLessThan(400)
    expect(error.message).not.toMatch(/[\0\r\n]/)
    return undefined
  }
}

function expectNormalText(value: unknown, max: number) {
  expect(typeof value).toBe('string')
  expect(textProblem(value as string, max)).toBeNull()
}

const CAMPAIGN = {
  name: 'Q4',
  timezone: 'Europe/Warsaw',
  startHour: 9,
  endHour: 17,
  allowedDays: 'MON,TUE',
  delayBetweenEmails: 90,
  jitter: 0.2,
  maxEmailsPerDay: 500,
  mailboxIds: ['1', '2'],
  variables: ['plan'],
  steps: [
    { subject: 'Hi {{firstName|there}}', text: 'Hello {{plan|x}}' },
    { delayDays: 3, text: 'Following up', html: '<p>Hi</p>' },
  ],
}
const CAMPAIGN_PATHS: Path[] = [
  ...Object.keys(CAMPAIGN).map((k) => [k]),
  ['startMinute'],
  ['endMinute'],
  ['mailboxIds', 0],
  ['variables', 0],
  ['steps', 0],
  ['steps', 0, 'subject'],
  ['steps', 0, 'text'],
  ['steps', 1, 'delayDays'],
  ['steps', 1, 'html'],
  ['steps', 1, 'subject'],
]

describe('validation holds for any value anywhere (property)', () => {
  it('validateCampaign: within the maximums and in normal form, or invalid-input', () => {
    fc.assert(
      fc.property(mutation(CAMPAIGN_PATHS), ({ path, value, remove }) => {
        const c = passOrRefuse(() => validateCampaign(mutate(CAMPAIGN, path, value, remove) as never))
        if (!c) return
        expectNormalText(c.name, INPUT_LIMITS.nameLength)
        expect(c.delayBetweenEmails).toBeLessThanOrEqual(INPUT_LIMITS.delayBetweenEmails)
        expect(c.maxEmailsPerDay).toBeLessThanOrEqual(INPUT_LIMITS.maxEmailsPerDay)
        expect(c.steps.length).toBeLessThanOrEqual(INPUT_LIMITS.steps)
        for (const step of c.steps) {
          if (step.subject !== undefined) expectNormalText(step.subject, INPUT_LIMITS.nameLength)
          if (step.text !== undefined) expectNormalText(step.text, INPUT_LIMITS.bodyLength)
          if (step.html !== undefined) expectNormalText(step.html, INPUT_LIMITS.bodyLength)
          const delay = step.delayDays ?? 0
          expect(delay >= 0 && delay <= INPUT_LIMITS.delayDays).toBe(true)
        }
        for (const id of c.mailboxIds) expectNormalText(id, INPUT_LIMITS.idLength)
      }),
      { numRuns: RUNS },
    )
  })

  it('validateMailbox: within the maximums and in normal form, or invalid-input', () => {
    const base = {
      email: 'anna@acme.test',
      name: 'Anna',
      dailyEmailLimit: 50,
      hourlyLimit: null,
      rampUp: null,
      rampLevel: 0,
      rampDayKey: null,
      provider: null,
      timezone: 'UTC',
      skipDates: [],
    }
    fc.assert(
      fc.property(
        mutation([['email'], ['name'], ['dailyEmailLimit'], ['timezone']]),
        ({ path, value, remove }) => {
          const m = passOrRefuse(() => validateMailbox(mutate(base, path, value, remove) as never))
          if (!m) return
          expect(
            Number.isInteger(m.dailyEmailLimit) && m.dailyEmailLimit <= INPUT_LIMITS.dailyEmailLimit,
          ).toBe(true)
          if (m.name !== null) expectNormalText(m.name, INPUT_LIMITS.nameLength)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('prepareLead: a lead in normal form or a reason, never a throw', () => {
    const base = {
      email: 'jan@x.test',
      firstName: 'Jan',
      company: 'Acme',
      variables: { plan: 'pro', constructor: 'c' },
    }
    const required = requiredVariables(validateCampaign(CAMPAIGN as never))
    fc.assert(
      fc.property(
        mutation([
          ['email'],
          ['firstName'],
          ['lastName'],
          ['company'],
          ['variables'],
          ['variables', 'plan'],
          ['variables', '__proto__'],
          ['variables', 'toString'],
        ]),
        ({ path, value, remove }) => {
          const lead = prepareLead(mutate(base, path, value, remove) as never, required)
          if ('reason' in lead) {
            expect(typeof lead.reason).toBe('string')
            return
          }
          for (const key of ['firstName', 'lastName', 'company'] as const) {
            if (lead[key] !== null) expectNormalText(lead[key], INPUT_LIMITS.leadFieldLength)
          }
          for (const [name, v] of Object.entries(lead.variables)) {
            expectNormalText(name, INPUT_LIMITS.variableNameLength)
            expectNormalText(v, INPUT_LIMITS.leadVariablesLength)
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('normalizeImportInput: a plan the engine computes with, or invalid-input', () => {
    const base = {
      externalId: 'legacy-1',
      campaign: CAMPAIGN,
      leads: [
        {
          email: 'jan@x.test',
          status: 'active',
          progress: {
            step: 0,
            sentAt: new Date('2026-01-02T10:00:00Z'),
            mailbox: 'anna@acme.test',
            messageId: '<a@acme.test>',
            thread: ['<a@acme.test>'],
            threadSubject: 'Hi',
          },
        },
      ],
      sendLog: [
        {
          id: 'r1',
          to: 'jan@x.test',
          subject: 'Hi',
          sentAt: new Date('2026-01-02T10:00:00Z'),
          mailbox: 'anna@acme.test',
          step: 0,
        },
      ],
      sentToday: { 'anna@acme.test': 3 },
      start: false,
    }
    const paths: Path[] = [
      ['externalId'],
      ['leads'],
      ['leads', 0],
      ['leads', 0, 'email'],
      ['leads', 0, 'status'],
      ['leads', 0, 'progress'],
      ...['step', 'sentAt', 'mailbox', 'messageId', 'thread', 'threadSubject'].map((k) => [
        'leads',
        0,
        'progress',
        k,
      ]),
      ['leads', 0, 'progress', 'thread', 0],
      ['sendLog'],
      ['sendLog', 0],
      ...['id', 'to', 'subject', 'sentAt', 'mailbox', 'step'].map((k) => ['sendLog', 0, k]),
      ['sentToday'],
      ['sentToday', 'anna@acme.test'],
      ['start'],
    ]
    const campaign = validateCampaign(CAMPAIGN as never)
    const mailboxes: Mailbox[] = [
      {
        id: '1',
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
        createdAt: NOW,
        updatedAt: NOW,
      },
    ]
    fc.assert(
      fc.property(mutation(paths), ({ path, value, remove }) => {
        const input = passOrRefuse(() => normalizeImportInput(mutate(base, path, value, remove)))
        if (!input) return
        for (const row of input.sendLog ?? []) {
          expect(row.sentAt.getTime() >= EARLIEST_MS && row.sentAt.getTime() <= LATEST_MS).toBe(true)
        }
        for (const count of Object.values(input.sentToday ?? {}))
          expect(count).toBeLessThanOrEqual(INPUT_LIMITS.dailyEmailLimit)
        const plan = passOrRefuse(() =>
          planImport(input, { campaign, mailboxes, existing: new Map(), now: NOW, random: () => 0.5 }),
        )
        if (!plan) return
        for (const lead of plan.leads) {
          for (const h of lead.history) expect(Number.isNaN(h.sentAt.getTime())).toBe(false)
          if (lead.next) expect(Number.isNaN(lead.next.scheduledAt.getTime())).toBe(false)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('resolveOptions: resolved options within range, or invalid-input', () => {
    const base = {
      store: {},
      transport: { send: () => {} },
      mode: 'live',
      concurrency: 5,
      maxSendsPerCampaignPerTick: 2,
      lookahead: 0,
      lease: 60_000,
      leaseRecovery: 'retry',
      retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 },
      campaignFilter: ['c1'],
      interval: 1000,
    }
    const paths: Path[] = [
      ...Object.keys(base).map((k) => [k]),
      ['retry', 'maxAttempts'],
      ['retry', 'baseDelayMs'],
      ['retry', 'maxDelayMs'],
      ['campaignFilter', 0],
      ['transport', 'send'],
      ['clock'],
      ['random'],
      ['beforeSend'],
      ['onEvent'],
      ['logger'],
      ['unsubscribeUrl'],
    ]
    fc.assert(
      fc.property(mutation(paths), ({ path, value, remove }) => {
        const o = passOrRefuse(() =>
          resolveOptions(mutate(base, path, value, remove) as unknown as SchedulerOptions),
        )
        if (!o) return
        expect(o.lease).toBeLessThanOrEqual(INPUT_LIMITS.lease)
        expect(o.interval).toBeLessThanOrEqual(INPUT_LIMITS.interval)
        expect(o.lookahead).toBeLessThanOrEqual(INPUT_LIMITS.lookahead)
        expect(o.retry.maxDelayMs).toBeLessThanOrEqual(INPUT_LIMITS.retryDelay)
        expect(['fail', 'retry']).toContain(o.leaseRecovery)
        expect(typeof o.clock.now).toBe('function')
      }),
      { numRuns: RUNS },
    )
  })
})
