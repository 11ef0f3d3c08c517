import { afterEach, describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../../errors.js'
import type { Campaign, QueueItem } from '../../model/types.js'
import { dayKey } from '../../policy/calendar.js'
import type { Completion, ImportedLead, NewLead, Store } from '../../store.js'
import { DAY, leads, MINUTE } from './harness.js'
import { migrating } from './migrating.js'
import {
  createRaceEnv,
  type MakeRaceStores,
  type RaceEnv,
  type RaceOptions,
  type RaceStores,
} from './race-env.js'

export type { MakeRaceStores, RaceOptions, RaceStores }

type Race = (env: RaceEnv, round: number) => Promise<void>

/**
 * The multi-connection race suite: what the `Store` contract promises when two connections race,
 * checked on a real backend. Call it from a vitest test file with two stores over separate
 * connections (pools, clients) to one empty backend:
 *
 * ```ts
 * runStoreRaces('postgres', async () => {
 *   const schema = await freshSchema()
 *   const [poolA, poolB] = [new pg.Pool(), new pg.Pool()]
 *   return {
 *     a: createPostgresStore({ pool: poolA, schema }),
 *     b: createPostgresStore({ pool: poolB, schema }),
 *     cleanup: async () => { await dropSchema(schema); await Promise.all([poolA.end(), poolB.end()]) },
 *   }
 * })
 * ```
 *
 * `makeStores` is called once per race (each race is a vitest test) and must give two stores on
 * the same empty backend; the suite closes both after the race and then calls `cleanup`. Each race
 * runs `rounds` rounds (default 20) on fresh campaigns. In a round, a scheduler on each store (one
 * fake clock, one recording transport), or direct store calls, race with `Promise.all`, one side
 * starting a moment after the other (at once, after an I/O turn, or 1–5 ms later; which side goes
 * second alternates every two rounds), so that either may win; then the
 * outcome is checked against the contract (`store.ts`) and invariant 7 of docs/invariants.md, "Stops hold". Store
 * calls of both sides are ordered in real time (a store call that starts after another returned
 * must see its effects), so "a reservation that started after the stop returned" is checked
 * exactly. The races:
 *
 * - `suppress` vs `addLeads` of that address (then a tick), in a new campaign and in one that
 *   already has it: the address is refused or its lead is `suppressed` with nothing pending, and
 *   no reservation for it started after `suppress` returned succeeds;
 * - `stopCampaign` and `pauseCampaign` vs a tick on the other store: no reservation that started
 *   after the call returned succeeds, a send completing after a stop enqueues no follow-up, and a
 *   paused campaign, resumed, sends every step once;
 * - `markReplied` vs a tick reserving follow-ups: no reservation for the lead after it returned,
 *   and nothing left pending for the lead (a follow-up in flight may complete, but enqueues none);
 * - `addLeads` then `startCampaign` (the documented way to add leads to a campaign that may have
 *   completed) vs a tick completing the drained campaign: the new lead is sent;
 * - `stopCampaign` vs `addLeads`: a stopped campaign holds no pending item;
 * - `updateCampaign` vs a tick and `pauseCampaign`: the settings change, the status and the pacing
 *   slot the tick took do not;
 * - a late completion vs lease recovery: exactly one of them applies;
 * - `importLeads` vs `importLeads`, `addLeads` or `suppress` of the same address: one lead, each
 *   step queued at most once, history logged once, and suppression holds.
 *
 * Every round runs even after one breaks, and the test then fails listing each broken round, so a
 * rare failure shows how rare it is. Ticks that fail with `store-unavailable` are run again, as a
 * host would, and reported on the console.
 */
export function runStoreRaces(name: string, makeStores: MakeRaceStores, options: RaceOptions = {}): void {
  const rounds = options.rounds ?? 20
  describe(`store races: ${name}`, { timeout: options.timeout ?? 60_000 }, () => {
    let open: RaceStores | undefined
    afterEach(async () => {
      const stores = open
      open = undefined
      if (!stores) return
      await Promise.all([stores.a.close(), stores.b.close()])
      await stores.cleanup?.()
    })
    const race = (title: string, seed: number, run: Race) =>
      it(title, async () => {
        open = await makeStores()
        const env = await createRaceEnv(open, seed)
        for (let round = 0; round < rounds; round++) await run(env, round)
        if (env.outages.length > 0)
          console.info(`[store races: ${name}] ${title}: ticks run again after ${env.outages.join('; ')}`)
        expect(env.violations).toEqual([])
      })

    race(
      'suppress vs addLeads: a suppressed address is never mailed after suppress returned',
      11,
      suppressVsAddLeads,
    )
    race('stop and pause vs a tick on the other store: stops hold', 12, stopVsTick)
    race(
      'markReplied vs follow-up reservations: no send to the lead after it returned',
      13,
      repliedVsFollowUp,
    )
    race('addLeads and startCampaign vs auto-completion: the new lead is sent', 14, addVsCompletion)
    race('stopCampaign vs addLeads: a stopped campaign holds no pending item', 15, stopVsAddLeads)
    race('updateCampaign vs a tick and a pause: settings change, status and pacing do not', 16, updateVsTick)
    race('a late completion vs lease recovery: exactly one applies', 17, completionVsRecovery)
    race('importLeads vs importLeads, addLeads and suppress of one address', 18, importVsIntake)
  })
}

// -- helpers ---------------------------------------------------------------------------------------

const TWO_STEPS = [
  { subject: 'One', text: 'a' },
  { text: 'two', delayDays: 0 },
]

const sentTo = (env: RaceEnv, campaignId: string, email: string): number =>
  env.transport.sent.filter((s) => s.campaignId === campaignId && s.to === email).length

const sentIn = (env: RaceEnv, campaignId: string): number =>
  env.transport.sent.filter((s) => s.campaignId === campaignId).length

async function itemsOf(store: Store, campaignId: string, leadId: string): Promise<QueueItem[]> {
  return (await store.listQueueItems(campaignId)).filter((item) => item.leadId === leadId)
}

const brief = (items: readonly QueueItem[]): string =>
  items.map((i) => `step ${i.step} ${i.status}`).join(', ')

/** Stops what the round started, so that later rounds' ticks do not see it. */
async function stopAll(env: RaceEnv, campaigns: ReadonlyArray<Campaign | null>): Promise<void> {
  for (const c of campaigns) if (c) await env.a.stopCampaign(c.id)
}

// -- the races -------------------------------------------------------------------------------------

async function suppressVsAddLeads(env: RaceEnv, round: number): Promise<void> {
  const address = `r${round}@suppress.test`
  const bystander = `r${round}-other@suppress.test`
  // Odd rounds: the address is already queued in another running campaign, which the tick serves too.
  const elsewhere = round % 2 === 1 ? await env.campaign({}, [{ email: address }]) : null
  const target = await env.campaign({}, [], false)
  let suppressedAt = Number.POSITIVE_INFINITY
  const [intake] = await Promise.all([
    env.side(round, 'a', async () => {
      const result = await env.a.addLeads(target.id, [{ email: address }, { email: bystander }])
      await env.a.startCampaign(target.id)
      await env.tick(env.a)
      return result
    }),
    env.side(round, 'b', async () => {
      await env.b.suppress(address, 'unsubscribed')
      suppressedAt = env.log.mark()
    }),
  ])
  for (const late of env.log.reservedAfter(suppressedAt, (s) => s.lead.email === address)) {
    env.violation(
      round,
      `step ${late.outcome.ok && late.outcome.send.item.step} to ${address} reserved after suppress returned`,
    )
  }
  for (const c of [target, elsewhere]) {
    if (!c) continue
    const lead = await env.storeB.getLead(c.id, address)
    if (!lead) {
      const refused = intake.invalid.some((i) => i.email === address && i.reason === 'suppressed')
      if (c !== target || !refused) env.violation(round, `${address} neither added nor refused in ${c.id}`)
      continue
    }
    const pending = (await itemsOf(env.storeB, c.id, lead.id)).filter((i) => i.status === 'pending')
    // `completed`: its only step was reserved before the suppression (checked above) and sent.
    const fine =
      lead.status === 'suppressed' || (lead.status === 'completed' && sentTo(env, c.id, address) === 1)
    if (!fine || pending.length > 0)
      env.violation(
        round,
        `${address} in campaign ${c.id}: lead ${lead.status}, ${brief(pending)} after suppress`,
      )
  }
  const before = env.transport.sent.filter((s) => s.to === address).length
  await env.drain()
  const after = env.transport.sent.filter((s) => s.to === address).length
  if (after > before) env.violation(round, `${after - before} email(s) to ${address} after suppress returned`)
  if (sentTo(env, target.id, bystander) !== 1)
    env.violation(round, `the bystander ${bystander} was not sent once`)
  await stopAll(env, [target, elsewhere])
}

async function stopVsTick(env: RaceEnv, round: number): Promise<void> {
  const pause = round % 2 === 1
  const c = await env.campaign({ steps: TWO_STEPS }, leads(4, `r${round}-stop`))
  let stoppedAt = Number.POSITIVE_INFINITY
  await Promise.all([
    env.side(round, 'a', () => env.tick(env.a)),
    env.side(round, 'b', async () => {
      // A pause that comes after the tick sent everything finds the campaign COMPLETED: refused.
      await (pause ? env.b.pauseCampaign(c.id) : env.b.stopCampaign(c.id)).catch((error: unknown) => {
        if (!pause || !isMailcadenceError(error, 'invalid-state')) throw error
      })
      stoppedAt = env.log.mark()
      await env.tick(env.b) // a tick started after the stop returned
    }),
  ])
  const verb = pause ? 'pause' : 'stop'
  for (const late of env.log.reservedAfter(stoppedAt, (s) => s.item.campaignId === c.id)) {
    const send = late.outcome.ok ? late.outcome.send : null
    env.violation(round, `step ${send?.item.step} to ${send?.lead.email} reserved after ${verb} returned`)
  }
  const stats = await env.storeB.queueStats(c.id)
  if (stats.sending > 0) env.violation(round, `${stats.sending} item(s) left sending after the race`)
  // A completion after the stop enqueues no follow-up (store.ts, completeSends): nothing pending.
  if (!pause && stats.pending > 0)
    env.violation(round, `${stats.pending} item(s) pending in a stopped campaign`)
  const before = sentIn(env, c.id)
  await env.drain()
  if (sentIn(env, c.id) > before)
    env.violation(round, `${sentIn(env, c.id) - before} email(s) sent after ${verb}`)
  if (pause) {
    if ((await env.storeB.getCampaign(c.id))?.status === 'PAUSED') await env.b.resumeCampaign(c.id)
    await env.drain()
    const keys = new Set(
      env.transport.sent.filter((s) => s.campaignId === c.id).map((s) => `${s.to}|${s.step}`),
    )
    if (sentIn(env, c.id) !== 8 || keys.size !== 8)
      env.violation(
        round,
        `after resuming: ${sentIn(env, c.id)} emails, ${keys.size} distinct (lead, step), not 8`,
      )
  }
  await stopAll(env, [c])
}

async function repliedVsFollowUp(env: RaceEnv, round: number): Promise<void> {
  const steps = [
    { subject: 'One', text: 'a' },
    { text: 'two', delayDays: 1 },
    { text: 'three', delayDays: 0 },
  ]
  const people = leads(3, `r${round}-reply`)
  const c = await env.campaign({ steps }, people)
  await env.tick(env.a) // step 0 to everyone; step 1 due in a day
  if (sentIn(env, c.id) !== 3)
    throw new Error(`round ${round}: step 0 went to ${sentIn(env, c.id)} of 3 leads`)
  env.clock.advance(DAY)
  const repliedAt = new Map<string, number>()
  await Promise.all([
    env.side(round, 'a', () => env.tick(env.a)),
    env.side(round, 'b', async () => {
      await Promise.all(
        people.map(async ({ email }) => {
          await env.b.markReplied(c.id, email)
          repliedAt.set(email, env.log.mark())
        }),
      )
    }),
  ])
  for (const { email } of people) {
    const mark = repliedAt.get(email) ?? Number.POSITIVE_INFINITY
    for (const late of env.log.reservedAfter(
      mark,
      (s) => s.lead.email === email && s.item.campaignId === c.id,
    )) {
      env.violation(
        round,
        `step ${late.outcome.ok && late.outcome.send.item.step} to ${email} reserved after markReplied returned`,
      )
    }
    const lead = await env.storeB.getLead(c.id, email)
    const items = lead ? await itemsOf(env.storeB, c.id, lead.id) : []
    const left = items.filter((i) => i.status === 'pending' || i.status === 'sending')
    // `completed`: every step was reserved before the reply came in (checked above).
    const fine =
      lead?.status === 'replied' || (lead?.status === 'completed' && sentTo(env, c.id, email) === 3)
    if (!fine || left.length > 0)
      env.violation(round, `${email}: lead ${lead?.status}, ${brief(left)} after markReplied`)
  }
  const before = sentIn(env, c.id)
  env.clock.advance(2 * DAY)
  await env.drain()
  if (sentIn(env, c.id) > before)
    env.violation(round, `${sentIn(env, c.id) - before} email(s) after markReplied`)
  await stopAll(env, [c])
}

async function addVsCompletion(env: RaceEnv, round: number): Promise<void> {
  // Even rounds: a lead that the tick sends before it finds the campaign drained; odd: drained at once.
  const first = round % 2 === 0 ? [{ email: `r${round}-first@complete.test` }] : []
  const c = await env.campaign({}, first)
  const late = `r${round}-late@complete.test`
  await Promise.all([
    env.side(round, 'a', () => env.tick(env.a)),
    env.side(round, 'b', async () => {
      await env.b.addLeads(c.id, [{ email: late }])
      await env.b.startCampaign(c.id) // a no-op if it is still running; restarts it if it completed
    }),
  ])
  await env.drain()
  if (sentTo(env, c.id, late) !== 1) {
    const after = await env.storeB.getCampaign(c.id)
    const stats = await env.storeB.queueStats(c.id)
    env.violation(
      round,
      `lead added then started was sent ${sentTo(env, c.id, late)} times; campaign ${after?.status}, ${stats.pending} pending`,
    )
  }
  await stopAll(env, [c])
}

async function stopVsAddLeads(env: RaceEnv, round: number): Promise<void> {
  const c = await env.campaign({}, [{ email: `r${round}-0@stopadd.test` }], round % 2 === 0)
  const [intake] = await Promise.all([
    env.side(round, 'a', () =>
      env.a.addLeads(c.id, leads(3, `r${round}-stopadd`)).catch((error: unknown) => {
        // Refused when it reads the campaign after the stop: the documented outcome.
        if (isMailcadenceError(error, 'invalid-state')) return null
        throw error
      }),
    ),
    env.side(round, 'b', () => env.b.stopCampaign(c.id)),
  ])
  const stats = await env.storeB.queueStats(c.id)
  if (stats.pending > 0)
    env.violation(
      round,
      `stopped campaign holds ${stats.pending} pending item(s) (addLeads ${intake ? `added ${intake.added}` : 'refused'})`,
    )
}

async function updateVsTick(env: RaceEnv, round: number): Promise<void> {
  const c = await env.campaign({ delayBetweenEmails: 600, jitter: 0 }, leads(3, `r${round}-update`))
  const name = `renamed in round ${round}`
  await Promise.all([
    env.side(round, 'a', async () => {
      await env.tick(env.a)
      await env.a.pauseCampaign(c.id)
    }),
    env.side(round, 'b', () => env.b.updateCampaign(c.id, { name, maxEmailsPerDay: 500 + round })),
  ])
  const after = await env.storeB.getCampaign(c.id)
  const took = env.log.reservations.filter((r) => r.request.campaignId === c.id && r.outcome.ok)
  const slot = took.at(-1)?.request.nextSlotAt ?? null
  if (after?.status !== 'PAUSED')
    env.violation(round, `status ${after?.status} after pause and update, not PAUSED`)
  if (after?.name !== name || after.maxEmailsPerDay !== 500 + round)
    env.violation(round, 'the update was lost')
  if (took.length !== 1 || after?.nextSlotAt?.getTime() !== slot?.getTime())
    env.violation(
      round,
      `${took.length} reservation(s); nextSlotAt ${after?.nextSlotAt?.toISOString()}, reserved ${slot?.toISOString()}`,
    )
  await stopAll(env, [c])
}

async function completionVsRecovery(env: RaceEnv, round: number): Promise<void> {
  const email = `r${round}@lease.test`
  const c = await env.campaign({ steps: TWO_STEPS }, [{ email }])
  const now = env.clock.now()
  const day = dayKey(now, 'UTC')
  const [reserved] = await env.storeA.reserveSends(
    [
      {
        campaignId: c.id,
        leaseToken: `race-lease-${round}`,
        leaseUntil: new Date(now.getTime() + MINUTE),
        campaignDayKey: day,
        maxEmailsPerDay: c.maxEmailsPerDay,
        nextSlotAt: now,
        mailboxes: [
          {
            mailboxId: env.mailboxId,
            dayKey: day,
            dailyEmailLimit: 100_000,
            messageId: `<r${round}@lease.test>`,
          },
        ],
      },
    ],
    now,
  )
  if (!reserved?.ok) throw new Error(`round ${round}: could not reserve: ${JSON.stringify(reserved)}`)
  const { item } = reserved.send
  env.clock.advance(2 * MINUTE) // the lease has expired: recovery may take the item, or the late completion
  const later = env.clock.now()
  const policy = round % 2 === 0 ? 'retry' : 'fail'
  const completion: Completion = {
    kind: 'sent',
    itemId: item.id,
    leaseToken: item.leaseToken ?? '',
    messageId: item.messageId ?? '',
    subject: 'One',
    to: email,
    next: { step: 1, scheduledAt: later },
  }
  const [[completed], recovered] = await Promise.all([
    env.side(round, 'a', () => env.storeA.completeSends([completion], later)),
    env.side(round, 'b', () => env.storeB.recoverExpiredLeases(later, policy)),
  ])
  const tookIt = recovered.some((r) => r.itemId === item.id)
  const items = await itemsOf(env.storeB, c.id, item.leadId)
  const log = await env.storeB.listSendLog(c.id)
  const state = `completion ${completed}, recovery ${tookIt ? 'took it' : 'did not'}; ${brief(items)}; ${log.length} log row(s)`
  if ((completed === 'ok') === tookIt) env.violation(round, `not exactly one applied: ${state}`)
  else if (completed === 'ok' && (brief(items) !== 'step 0 sent, step 1 pending' || log.length !== 1))
    env.violation(round, `the completion applied, but ${state}`)
  else if (
    tookIt &&
    (items.length !== 1 ||
      items[0]?.status !== (policy === 'retry' ? 'pending' : 'failed') ||
      log.length !== 0)
  )
    env.violation(round, `recovery (${policy}) applied, but ${state}`)
  await stopAll(env, [c])
}

async function importVsIntake(env: RaceEnv, round: number): Promise<void> {
  const email = `r${round}@import.test`
  const c = await env.campaign({ steps: TWO_STEPS }, [], false)
  const now = env.clock.now()
  const fresh: NewLead = {
    email,
    emailKey: email,
    firstName: null,
    lastName: null,
    company: null,
    variables: {},
    timezone: null,
    country: null,
    windowKey: '',
  }
  const imported: ImportedLead = {
    ...fresh,
    status: 'active',
    history: [
      {
        step: 0,
        sentAt: new Date(now.getTime() - DAY),
        mailboxId: env.mailboxId,
        messageId: `<legacy.${email}>`,
        subject: 'One',
      },
    ],
    next: {
      step: 1,
      scheduledAt: now,
      mailboxId: env.mailboxId,
      references: [`<legacy.${email}>`],
      threadSubject: 'One',
    },
  }
  const rival = (['import', 'add', 'suppress'] as const)[round % 3]!
  const [first, second] = await Promise.all([
    env.side(round, 'a', () => migrating(env.storeA).importLeads(c.id, [imported], now)),
    env.side(round, 'b', async () => {
      if (rival === 'import') return migrating(env.storeB).importLeads(c.id, [imported], now)
      if (rival === 'add') return env.storeB.addLeads(c.id, [fresh], now)
      return env.storeB.suppress(email, 'unsubscribed', now)
    }),
  ])
  const inserted =
    first.imported.length +
    ('imported' in second ? second.imported.length : 0) +
    ('added' in second ? second.added.length : 0)
  const leadsNow = (await env.storeB.listLeads(c.id)).filter((l) => l.email === email)
  const lead = leadsNow[0]
  const items = lead ? await itemsOf(env.storeB, c.id, lead.id) : []
  const log = await env.storeB.listSendLog(c.id)
  const state = `${rival}: ${inserted} inserted, ${leadsNow.length} lead(s) ${lead?.status ?? ''}, ${brief(items)}, ${log.length} log row(s)`
  const steps = items.map((i) => i.step)
  if (leadsNow.length > 1 || new Set(steps).size !== steps.length || log.length > 1)
    env.violation(round, `duplicated: ${state}`)
  if (rival === 'suppress') {
    const refused = first.suppressed.includes(email)
    const held = lead?.status === 'suppressed' && items.every((i) => i.status !== 'pending')
    if (refused ? lead !== undefined : !held) env.violation(round, `suppression did not hold: ${state}`)
  } else if (inserted !== 1 || leadsNow.length !== 1)
    env.violation(round, `not inserted exactly once: ${state}`)
  await stopAll(env, [c])
}
