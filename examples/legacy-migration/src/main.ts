/**
 * A Prisma + SQLite app moves its two campaigns off its legacy sender to mailcadence, following the
 * seed's parallel plan, on a fake clock (a working week and a bit, in seconds):
 *
 *   1. shadow: mailcadence plans one campaign beside the legacy sender, sending nothing, and the
 *      two are compared;
 *   2. that campaign is switched mid-day (legacy sends already made today, follow-ups due);
 *   3. the other one is switched: all campaigns are on mailcadence;
 *   4. the legacy cron is turned off; mailcadence finishes every sequence.
 *
 * Both systems send through one recording transport, so the summary counts what really left.
 *
 *   pnpm --filter @mailcadence/example-legacy-migration start
 */
import { rmSync } from 'node:fs'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler } from '@mailcadence/core'
import { createRecordingTransport, createSeededRandom, type SentRecord } from '@mailcadence/core/testing'
import { wallClock } from './legacy.js'
import { CAMPAIGNS, createWorld, MAILBOX_LIMITS, runUntil, seedLegacyApp, warsaw } from './world.js'

const file = process.env.EXAMPLE_DB ?? 'dev.db'
for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
const at = (iso: string) => new Date(`${iso}+01:00`) // Warsaw wall time in January
const day = (r: SentRecord) => wallClock(r.at, 'Europe/Warsaw').day
const DAY_NAMES: Record<string, string> = {
  '2026-01-07': 'Wednesday',
  '2026-01-08': 'Thursday',
}

const transport = createRecordingTransport()
const world = createWorld({ file, transport })
const { db, clock, migration, live } = world
const [A, B] = (await seedLegacyApp(db)) as [number, number]
const names = new Map<number, string>([
  [A, CAMPAIGNS[0].name],
  [B, CAMPAIGNS[1].name],
])
const v2Ids = new Map<string, number>()
const campaignOf = (r: SentRecord) =>
  r.campaignId.startsWith('legacy:') ? Number(r.campaignId.slice(7)) : v2Ids.get(r.campaignId)!
const who = (r: SentRecord) => (r.campaignId.startsWith('legacy:') ? 'legacy     ' : 'mailcadence')

console.log('Mailboxes (shared by both campaigns):')
for (const [email, limit] of Object.entries(MAILBOX_LIMITS))
  console.log(`  ${email}  dailyEmailLimit ${limit}`)
console.log(
  'Campaigns, 09:00–17:00 MON–FRI Europe/Warsaw, 12 leads, 3 steps (follow-ups 2 and 2 days later):',
)
for (const c of CAMPAIGNS)
  console.log(
    `  "${c.name}"  maxEmailsPerDay ${c.maxEmailsPerDay}, delayBetweenEmails ${c.delayBetweenEmails}`,
  )

// -- 1. shadow ---------------------------------------------------------------------------------
console.log('\n1. Shadow: the legacy sender sends everything; mailcadence plans "%s" beside it', names.get(A))
await runUntil(world, at('2026-01-05T12:00'))
const shadow = createScheduler({
  store: createMemoryStore(),
  mode: 'shadow',
  clock,
  random: createSeededRandom(1),
})
const run = await migration.startShadow(shadow, A)
console.log(`   ${warsaw(clock.now())}  shadow import: ${describeImport(run.result)}`)
world.shadow = shadow
const switchA = at('2026-01-07T11:30')
await runUntil(world, switchA)
world.shadow = null
const comparison = await migration.compareShadow(shadow, run, switchA)
const { summary } = comparison
console.log(
  `   ${warsaw(clock.now())}  compareWithLegacy: ${summary.compared} (lead, step) pairs, ${summary.both} sent by both, ${summary.legacyOnly} by legacy only, ${summary.plannedOnly} planned only; median difference ${minutes(summary.medianDifferenceMs)}`,
)
const kinds = [...new Set(comparison.discrepancies.map((d) => d.kind))]
console.log(
  `   discrepancies: ${kinds.length === 0 ? 'none' : kinds.join(', ')} (transport calls by the shadow: 0)`,
)
await shadow.close()

// -- 2. one campaign switched ------------------------------------------------------------------
console.log(`\n2. Switch "${names.get(A)}" (useV2 = true, import, start) at ${warsaw(clock.now())}`)
const inputA = await migration.toImportInput(A, await migration.ensureMailboxes(live, true), {
  sentToday: true,
})
const preview = await live.analyzeImport(inputA)
console.log(`   analyzeImport: ${describeImport(preview)}`)
const resultA = await migration.switchCampaign(live, A)
v2Ids.set(resultA.campaignId, A)
console.log(
  `   importCampaign: campaign ${resultA.campaignId}, ${resultA.recordedSends} legacy sends recorded`,
)
await runUntil(world, at('2026-01-07T17:00'))
printDay('2026-01-07', switchA)
const again = await migration.switchCampaign(live, A)
console.log(
  `   imported again: ${again.leads.imported} leads imported, ${again.leads.existing} already there, ${again.recordedSends} sends recorded`,
)

// -- 3. all switched ---------------------------------------------------------------------------
const switchB = at('2026-01-08T10:15')
await runUntil(world, switchB)
console.log(`\n3. Switch "${names.get(B)}" at ${warsaw(clock.now())}: every campaign is on mailcadence`)
const resultB = await migration.switchCampaign(live, B)
v2Ids.set(resultB.campaignId, B)
console.log(`   importCampaign: ${describeImport(resultB)}`)
await runUntil(world, at('2026-01-08T17:00'))
printDay('2026-01-08', switchB)

// -- 4. legacy off -----------------------------------------------------------------------------
await runUntil(world, at('2026-01-09T00:00'))
world.legacyOn = false
console.log('\n4. Legacy cron off (Friday 00:00); mailcadence alone finishes the sequences')
await runUntil(world, at('2026-01-13T17:00'))
for (const [v2Id, id] of v2Ids) {
  const stats = await live.queueStats(v2Id)
  console.log(
    `   "${names.get(id)}": ${(await live.getCampaign(v2Id)).status}, queue ${stats.sent} sent, ${stats.pending} pending, ${stats.cancelled} cancelled`,
  )
}

// -- summary -----------------------------------------------------------------------------------
const sent = transport.sent
const pairs = new Set(sent.map((r) => `${r.to}|${r.step}`))
const bySystem = sent.reduce<Record<string, number>>((n, r) => {
  n[who(r).trim()] = (n[who(r).trim()] ?? 0) + 1
  return n
}, {})
console.log(
  `\nEmails that left: ${sent.length} (legacy ${bySystem.legacy ?? 0}, mailcadence ${bySystem.mailcadence ?? 0}); (address, step) pairs: ${pairs.size}`,
)
console.log(
  pairs.size === sent.length
    ? 'No address was mailed twice for a step.'
    : 'DUPLICATES: some address got a step twice!',
)

await live.close()
await db.$disconnect()

function describeImport(r: {
  leads: { imported: number; existing: number; due: number; waiting: number; finished: number }
  counted: { campaign: number; mailboxes: Record<string, number> }
  issues: unknown[]
}): string {
  const mailboxes = Object.entries(r.counted.mailboxes)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ')
  return `${r.leads.imported} leads (${r.leads.due} due now, ${r.leads.waiting} waiting, ${r.leads.finished} finished), today's legacy sends counted: campaign ${r.counted.campaign}${mailboxes ? `, ${mailboxes}` : ''}; ${r.issues.length} issues`
}

function printDay(date: string, switchedAt: Date): void {
  const ofDay = transport.sent.filter((r) => day(r) === date)
  console.log(`   ${DAY_NAMES[date]}, from the switch on (both systems, one transport):`)
  for (const r of ofDay.filter((r) => r.at >= switchedAt)) {
    const reply = r.inReplyTo ? `  In-Reply-To ${r.inReplyTo}` : ''
    console.log(`     ${warsaw(r.at)}  ${who(r)}  ${r.from} → ${r.to}  step ${r.step}${reply}`)
  }
  const perMailbox = Object.entries(MAILBOX_LIMITS)
    .map(([m, limit]) => `${m} ${ofDay.filter((r) => r.from === m).length}/${limit}`)
    .join(', ')
  const perCampaign = [...names]
    .map(([id, name], i) => {
      const own = ofDay.filter((r) => campaignOf(r) === id)
      const mc = own.filter((r) => who(r) === 'mailcadence').length
      return `"${name}" ${own.length}/${CAMPAIGNS[i]!.maxEmailsPerDay} (${own.length - mc} legacy + ${mc} mailcadence)`
    })
    .join(', ')
  console.log(`   ${DAY_NAMES[date]} in all: ${perMailbox}; ${perCampaign}`)
}

function minutes(ms: number | null): string {
  return ms === null ? 'n/a' : `${Math.round(ms / 60_000)} min`
}
