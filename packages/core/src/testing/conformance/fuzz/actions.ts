/**
 * The fuzz model's actions, as plain data fast-check can generate, shrink and print: a call of a
 * public method with valid arguments and at most one hostile mutation, a tick (some sends set to
 * fail, sometimes two schedulers at once), or a move of the clock. Ids are references (`Ref`)
 * resolved when the action runs, against what the run has created so far.
 */
import type * as FastCheck from 'fast-check'
import type { SendErrorLike } from '../../../transport.js'
import { type Fc, type FuzzFamily, type Mutation, mutationArb, PROTOTYPE_NAMES } from './values.js'

/**
 * A value known only when the action runs: the n-th mailbox or campaign created (an unknown id
 * when there is none, or for n = −1), the ids of `n` distinct mailboxes, the n-th mailbox's
 * address, or the instant `n` ms from the clock's now.
 */
export interface Ref {
  $ref: 'mailbox' | 'campaign' | 'mailboxes' | 'mailboxEmail' | 'at'
  n: number
}

export type ApiMethod =
  | 'createMailbox'
  | 'updateMailbox'
  | 'pauseMailbox'
  | 'resumeMailbox'
  | 'createCampaign'
  | 'updateCampaign'
  | 'addLeads'
  | 'startCampaign'
  | 'pauseCampaign'
  | 'resumeCampaign'
  | 'stopCampaign'
  | 'markReplied'
  | 'suppress'
  | 'explain'
  | 'queueStats'
  | 'sendLog'
  | 'analyzeImport'
  | 'importCampaign'
  | 'recordExternalSends'
  | 'exportProgress'

export type FailureKind = 'temporary' | 'permanent' | 'bounce' | 'policy' | 'network'

export type Action =
  | { kind: 'call'; method: ApiMethod; args: unknown[]; mutation: Mutation | null }
  | { kind: 'tick'; failures: FailureKind[]; concurrent: boolean; hang: boolean }
  | { kind: 'clock'; ms: number }

/** The transport errors a tick's failures stand for (see `classifySendError`). */
export const FAILURES: Record<FailureKind, SendErrorLike> = {
  temporary: { responseCode: 451, response: '451 4.3.0 Try again later' },
  permanent: { responseCode: 554, response: '554 5.0.0 Message rejected' },
  bounce: { responseCode: 550, response: '550 5.1.1 User unknown' },
  policy: { responseCode: 550, response: '550 5.7.1 Sender blocked by policy' },
  network: { code: 'ECONNRESET', message: 'connection reset by peer' },
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const ZONES = ['UTC', 'Europe/Warsaw', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe']
const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN']
/** Few enough addresses that replies, suppressions and imports meet the leads added. */
const LEAD_POOL = 8

const limit = (fc: Fc) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 3, 5, 10) },
    { weight: 2, arbitrary: fc.constant(1000) },
  )
const ref = (fc: Fc, kind: Ref['$ref']) =>
  fc
    .oneof({ weight: 9, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: fc.constant(-1) })
    .map((n): Ref => ({ $ref: kind, n }))
const at = (fc: Fc, min: number, max: number) => fc.integer({ min, max }).map((n): Ref => ({ $ref: 'at', n }))

function leadEmail(fc: Fc) {
  return fc
    .tuple(fc.nat(LEAD_POOL - 1), fc.boolean())
    .map(([n, upper]) => (upper ? `Lead${n}@Example.COM` : `lead${n}@example.com`))
}

function inputs(fc: Fc, families: readonly FuzzFamily[]) {
  // With `names`, custom variables are named like Object.prototype members.
  const variableNames = families.includes('names') ? PROTOTYPE_NAMES : ['city', 'role']
  const mailbox = fc.record({
    email: fc.nat(20).map((n) => `box${n}@mail${n}.test`),
    name: fc.constantFrom('Sales', null, 'Ann from Acme'),
    dailyEmailLimit: limit(fc),
    timezone: fc.constantFrom(...ZONES),
  })
  const mailboxPatch = fc.record(
    {
      name: fc.constantFrom('Renamed', null),
      dailyEmailLimit: limit(fc),
      timezone: fc.constantFrom(...ZONES),
    },
    { requiredKeys: [] },
  )
  const variable = fc.constantFrom(...variableNames)
  const template = fc.constantFrom(
    'Hi {{firstName|there}}',
    'Note for {{company|your team}}',
    'About {{company}}',
    ...variableNames.flatMap((v) => [`From {{${v}|here}}`, `In {{${v}}}`]),
  )
  const randomSchedule = fc
    .record({
      timezone: fc.constantFrom(...ZONES),
      startHour: fc.nat(23),
      startMinute: fc.constantFrom(0, 30),
      endHour: fc.nat(24),
      endMinute: fc.constantFrom(0, 30),
      allowedDays: fc.subarray(DAYS, { minLength: 1 }).map((d) => d.join(',')),
      delayBetweenEmails: fc.constantFrom(0, 0, 30, 90, 600, 3600),
      jitter: fc.constantFrom(0, 0.2, 0.5),
      maxEmailsPerDay: limit(fc),
    })
    .map((s) => {
      const endMinute = s.endHour === 24 ? 0 : s.endMinute
      // A zero-length window is refused: keep the valid input valid.
      const same = s.endHour % 24 === s.startHour && endMinute === s.startMinute
      return { ...s, endMinute, endHour: same ? (s.startHour + 8) % 24 : s.endHour }
    })
  // Mostly a window open around the clock, so that ticks have something to send.
  const schedule = fc.oneof(
    { weight: 1, arbitrary: randomSchedule },
    {
      weight: 2,
      arbitrary: fc.tuple(randomSchedule, fc.constantFrom(0, 0, 30)).map(([s, delayBetweenEmails]) => ({
        ...s,
        startHour: 0,
        startMinute: 0,
        endHour: 24,
        endMinute: 0,
        allowedDays: DAYS.join(','),
        delayBetweenEmails,
      })),
    },
  )
  const steps = fc
    .tuple(
      fc.record({ subject: template, text: template }),
      fc.array(fc.record({ text: template, delayDays: fc.constantFrom(0, 0.01, 0.5, 1, 2) }), {
        maxLength: 2,
      }),
    )
    .map(([first, rest]) => [first, ...rest])
  const campaign = fc.tuple(schedule, steps, fc.integer({ min: 1, max: 3 })).map(([s, st, boxes]) => ({
    name: 'Fuzz campaign',
    ...s,
    steps: st,
    variables: variableNames,
    mailboxIds: { $ref: 'mailboxes', n: boxes } satisfies Ref,
  }))
  const lead = fc.record(
    {
      email: leadEmail(fc),
      firstName: fc.constantFrom('Ann', null, '  '),
      company: fc.constantFrom('Acme', 'Initech'),
      variables: fc.dictionary(variable, fc.constantFrom('Warsaw', 'CTO', '')),
    },
    { requiredKeys: ['email'] },
  )
  const progress = fc.record(
    {
      step: fc.nat(2),
      sentAt: at(fc, -10 * DAY, -MINUTE),
      mailbox: fc.nat(3).map((n): Ref => ({ $ref: 'mailboxEmail', n })),
      messageId: fc.nat(50).map((n) => `<m${n}@legacy.test>`),
      threadSubject: fc.constantFrom('Hello', 'Quick question'),
    },
    { requiredKeys: ['step', 'sentAt', 'mailbox', 'messageId'] },
  )
  const importLead = fc
    .tuple(
      lead,
      fc.option(progress, { nil: undefined }),
      fc.constantFrom(undefined, 'active', 'replied', 'bounced'),
    )
    .map(([l, p, status]) => ({ ...l, ...(p ? { progress: p } : {}), ...(status ? { status } : {}) }))
  const legacySend = fc.record(
    {
      id: fc.nat(30).map((n) => `row${n}`),
      to: leadEmail(fc),
      subject: fc.constant('Hello'),
      sentAt: at(fc, -3 * DAY, 0),
      mailbox: fc.nat(3).map((n): Ref => ({ $ref: 'mailboxEmail', n })),
      step: fc.nat(2),
    },
    { requiredKeys: ['id', 'to', 'sentAt'] },
  )
  const importInput = fc.record(
    {
      externalId: fc.constantFrom('legacy-1', 'legacy-2'),
      campaign,
      leads: fc.array(importLead, { maxLength: 6 }),
      sendLog: fc.array(legacySend, { maxLength: 5 }),
      // `$mailbox` becomes the first mailbox's address when the action runs (after any mutation).
      sentToday: fc.nat(20).map((n) => ({ $mailbox: n })),
      start: fc.boolean(),
    },
    { requiredKeys: ['externalId', 'campaign', 'leads'] },
  )
  const externalSend = fc.record(
    {
      id: fc.nat(30).map((n) => `ext${n}`),
      sentAt: at(fc, -DAY, 0),
      mailboxId: ref(fc, 'mailbox'),
      campaignId: ref(fc, 'campaign'),
    },
    { requiredKeys: ['id', 'sentAt'] },
  )
  return { mailbox, mailboxPatch, campaign, lead, importInput, externalSend, schedule, steps }
}

const SCHEDULE_PATHS = [
  'timezone',
  'startHour',
  'startMinute',
  'endHour',
  'endMinute',
  'allowedDays',
  'delayBetweenEmails',
  'jitter',
  'maxEmailsPerDay',
]
const CAMPAIGN_PATHS: Array<Array<string | number>> = [
  [],
  ['name'],
  ['mailboxIds'],
  ['mailboxIds', 0],
  ['steps'],
  ['steps', 0],
  ['steps', 0, 'subject'],
  ['steps', 0, 'text'],
  ['steps', 0, 'html'],
  ['steps', 1, 'delayDays'],
  ['steps', 1, 'text'],
  ['variables'],
  ['variables', 0],
  ...SCHEDULE_PATHS.map((p) => [p]),
]
const prefixed = (prefix: Array<string | number>, paths: Array<Array<string | number>>) =>
  paths.map((p) => [...prefix, ...p])
const LEAD_PATHS: Array<Array<string | number>> = [
  [],
  ['email'],
  ['firstName'],
  ['lastName'],
  ['company'],
  ['variables'],
  ['variables', 'city'],
  ['variables', 'constructor'],
  ['variables', '__proto__'],
]

/** Every action, each with the argument paths a mutation may hit. */
export function actionArb(
  fc: Fc,
  families: readonly FuzzFamily[],
  hungSends = false,
): FastCheck.Arbitrary<Action> {
  const i = inputs(fc, families)
  const call = (
    method: ApiMethod,
    args: FastCheck.Arbitrary<unknown[]>,
    paths: Array<Array<string | number>>,
  ): FastCheck.Arbitrary<Action> =>
    fc
      .tuple(args, mutationArb(fc, families, paths))
      .map(([a, mutation]): Action => ({ kind: 'call', method, args: a, mutation }))
  const onCampaign = (method: ApiMethod) => call(method, fc.tuple(ref(fc, 'campaign')), [[0]])
  const tick = fc
    .record({
      // Mostly none: a policy answer pauses the mailbox for hours, and failures wait for sends.
      failures: fc.oneof(
        { weight: 3, arbitrary: fc.constant<FailureKind[]>([]) },
        {
          weight: 1,
          arbitrary: fc.array(
            fc.constantFrom<FailureKind>(
              'temporary',
              'temporary',
              'permanent',
              'bounce',
              'network',
              'policy',
            ),
            { maxLength: 2 },
          ),
        },
      ),
      concurrent: fc.boolean(),
      // From this tick on, sends never settle (a stalled server), until the run ends.
      hang: hungSends
        ? fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true))
        : fc.constant(false),
    })
    .map((t): Action => ({ kind: 'tick', ...t }))
  const clock = fc
    .oneof(
      fc.integer({ min: 1, max: 59 }).map((m) => m * MINUTE),
      fc.integer({ min: 1, max: 23 }).map((h) => h * HOUR),
      fc.integer({ min: 1, max: 3 }).map((d) => d * DAY),
    )
    .map((ms): Action => ({ kind: 'clock', ms }))
  return fc.oneof(
    {
      weight: 3,
      arbitrary: call(
        'createMailbox',
        fc.tuple(i.mailbox),
        prefixed([0], [[], ['email'], ['name'], ['dailyEmailLimit'], ['timezone']]),
      ),
    },
    {
      weight: 1,
      arbitrary: call('updateMailbox', fc.tuple(ref(fc, 'mailbox'), i.mailboxPatch), [
        [0],
        [1],
        [1, 'name'],
        [1, 'dailyEmailLimit'],
        [1, 'timezone'],
        [1, 'email'],
      ]),
    },
    {
      weight: 1,
      arbitrary: call(
        'pauseMailbox',
        fc.tuple(
          ref(fc, 'mailbox'),
          fc.record({ until: at(fc, -HOUR, 2 * DAY), reason: fc.constant('fuzz') }, { requiredKeys: [] }),
        ),
        [[0], [1], [1, 'until'], [1, 'reason']],
      ),
    },
    { weight: 1, arbitrary: call('resumeMailbox', fc.tuple(ref(fc, 'mailbox')), [[0]]) },
    { weight: 3, arbitrary: call('createCampaign', fc.tuple(i.campaign), prefixed([0], CAMPAIGN_PATHS)) },
    {
      weight: 1,
      arbitrary: call(
        'updateCampaign',
        fc.tuple(
          ref(fc, 'campaign'),
          fc.oneof(
            i.schedule.map((s) => ({ ...s })),
            i.steps.map((steps) => ({ steps })),
          ),
        ),
        [[0], [1], ...prefixed([1], CAMPAIGN_PATHS.slice(1))],
      ),
    },
    {
      weight: 4,
      arbitrary: call(
        'addLeads',
        fc.tuple(ref(fc, 'campaign'), fc.array(i.lead, { minLength: 1, maxLength: 8, size: 'max' })),
        [[0], [1], ...prefixed([1, 0], LEAD_PATHS)],
      ),
    },
    { weight: 3, arbitrary: onCampaign('startCampaign') },
    { weight: 1, arbitrary: onCampaign('pauseCampaign') },
    { weight: 1, arbitrary: onCampaign('resumeCampaign') },
    { weight: 1, arbitrary: onCampaign('stopCampaign') },
    { weight: 1, arbitrary: call('markReplied', fc.tuple(ref(fc, 'campaign'), leadEmail(fc)), [[0], [1]]) },
    {
      weight: 1,
      arbitrary: call('suppress', fc.tuple(leadEmail(fc), fc.constant('unsubscribed')), [[0], [1]]),
    },
    { weight: 1, arbitrary: onCampaign('explain') },
    { weight: 1, arbitrary: onCampaign('queueStats') },
    { weight: 1, arbitrary: onCampaign('sendLog') },
    {
      weight: 1,
      arbitrary: call('exportProgress', fc.tuple(ref(fc, 'campaign'), fc.constant({ timeoutMs: MINUTE })), [
        [0],
        [1],
      ]),
    },
    ...(['analyzeImport', 'importCampaign'] as const).map((method) => ({
      weight: 2,
      arbitrary: call(method, fc.tuple(i.importInput), [
        [0],
        [0, 'externalId'],
        [0, 'leads'],
        [0, 'sendLog'],
        [0, 'sentToday'],
        [0, 'sentToday', '$mailbox'],
        [0, 'start'],
        ...prefixed([0, 'campaign'], CAMPAIGN_PATHS),
        ...prefixed([0, 'leads', 0], [...LEAD_PATHS, ['status'], ['progress']]),
        ...prefixed(
          [0, 'leads', 0, 'progress'],
          [['step'], ['sentAt'], ['mailbox'], ['messageId'], ['thread'], ['threadSubject']],
        ),
        ...prefixed([0, 'sendLog', 0], [[], ['id'], ['to'], ['subject'], ['sentAt'], ['mailbox'], ['step']]),
      ]),
    })),
    {
      weight: 1,
      arbitrary: call('recordExternalSends', fc.tuple(fc.array(i.externalSend, { maxLength: 4 })), [
        [0],
        [0, 0],
        [0, 0, 'id'],
        [0, 0, 'sentAt'],
        [0, 0, 'mailboxId'],
        [0, 0, 'campaignId'],
      ]),
    },
    { weight: 15, arbitrary: tick },
    { weight: 6, arbitrary: clock },
  )
}
