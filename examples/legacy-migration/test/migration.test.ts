/**
 * The seed's parallel rollout, phase by phase, on a fake clock: shadow → one campaign switched →
 * all switched → legacy off; then a rollback and a send in flight during a switch. Both systems
 * send through one recording transport, so every check counts what really left, whichever system
 * sent it.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type DiscrepancyKind, type Scheduler } from '@mailcadence/core'
import {
  createRecordingTransport,
  createSeededRandom,
  type RecordingTransport,
} from '@mailcadence/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLegacySender, startOfDay } from '../src/legacy.js'
import type { ShadowRun } from '../src/migrate.js'
import { CAMPAIGNS, createWorld, runUntil, STEP_DELAYS, seedLegacyApp, type World } from '../src/world.js'
import {
  campaignOf,
  day,
  expectCountsExact,
  expectLimitsHeld,
  expectNoDuplicates,
  expectThreadsKept,
  system,
} from './checks.js'

const DAY_MS = 86_400_000
/** Warsaw wall time in January (UTC+1) as an instant. */
const warsaw = (iso: string) => new Date(`${iso}+01:00`)
/** The switches: Wednesday 11:30 and Thursday 10:15, Warsaw. */
const SWITCH_A = warsaw('2026-01-07T11:30')
const SWITCH_B = warsaw('2026-01-08T10:15')
const ROLLBACK = warsaw('2026-01-07T13:00')
/** The second switch of campaign A after its first rollback (the switching-twice test). */
const SWITCH_2 = warsaw('2026-01-08T11:00')
const BREACHES: DiscrepancyKind[] = [
  'duplicate',
  'outside-window',
  'over-mailbox-limit',
  'over-campaign-limit',
  'too-close',
]

let fileCount = 0
function tempFile(): string {
  return join(tmpdir(), `mc-legacy-migration-${process.pid}-${fileCount++}.db`)
}
function removeFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
}

/** Legacy leads of a campaign with a follow-up due now (sent something, next step's delay over). */
async function followUpsDue(world: World, campaignId: number): Promise<number> {
  const now = world.clock.now().getTime()
  const leads = await world.db.campaignLead.findMany({ where: { campaignId, status: 'sent' } })
  const steps = await world.db.sequenceStep.findMany({ where: { campaignId } })
  const delay = new Map(steps.map((s) => [s.position, s.delayDays]))
  return leads.filter((l) => l.lastSentAt!.getTime() + delay.get(l.currentStep)! * DAY_MS <= now).length
}

describe('the parallel rollout, phase by phase', { timeout: 120_000 }, () => {
  const file = tempFile()
  let transport: RecordingTransport
  let world: World
  let A: number
  let B: number
  let shadowRun: ShadowRun
  const vetoed: string[] = []

  beforeAll(async () => {
    transport = createRecordingTransport()
    world = createWorld({
      file,
      transport,
      log: (line) => line.includes('already in the legacy') && vetoed.push(line),
    })
    ;[A, B] = (await seedLegacyApp(world.db)) as [number, number]
  })
  afterAll(async () => {
    await world.live.close()
    await world.db.$disconnect()
    removeFile(file)
  })

  it('1. shadow: mailcadence plans campaign A beside the legacy sender for two days, no duplicate, no breach', async () => {
    await runUntil(world, warsaw('2026-01-05T12:00'))
    const legacyToday = await world.db.sendLog.count({ where: { campaignId: A } })
    expect(legacyToday).toBeGreaterThan(0)

    const shadow: Scheduler = createScheduler({
      store: createMemoryStore(),
      mode: 'shadow',
      clock: world.clock,
      random: createSeededRandom(1),
    })
    shadowRun = await world.migration.startShadow(shadow, A)
    const report = shadowRun.result
    expect(report.leads).toMatchObject({ total: 12, imported: 12, refused: 0 })
    expect(report.leads.due + report.leads.waiting + report.leads.finished).toBe(12)
    // Monday morning's legacy sends count toward the shadow's limits of the day.
    expect(report.counted.campaign).toBe(legacyToday)
    expect(report.issues).toEqual([])
    world.shadow = shadow

    await runUntil(world, SWITCH_A)
    const comparison = await world.migration.compareShadow(shadow, shadowRun, SWITCH_A)
    expect(comparison.discrepancies.filter((d) => BREACHES.includes(d.kind))).toEqual([])
    // They agree on what to send: every (lead, step) legacy sent, the shadow planned too.
    expect(comparison.summary.both).toBeGreaterThan(0)
    expect(comparison.summary.legacyOnly).toBe(0)
    // The shadow planned: nothing of it left. Every email that left is the legacy sender's.
    expect((await shadow.sendLog(report.campaignId)).length).toBeGreaterThan(legacyToday)
    expect(transport.sent.every((r) => system(r) === 'legacy')).toBe(true)
    world.shadow = null
    await shadow.close()
  })

  it('2. one campaign switched mid-day, with legacy sends made today and follow-ups due: limits, threads, no duplicate', async () => {
    const now = world.clock.now()
    const sentToday = await world.db.sendLog.count({
      where: { campaignId: A, createdAt: { gte: startOfDay(now, 'Europe/Warsaw') } },
    })
    expect(sentToday).toBeGreaterThan(0)
    expect(await followUpsDue(world, A)).toBeGreaterThan(0)

    // What the import would do, before doing it: nothing changes.
    const mailboxes = await world.migration.ensureMailboxes(world.live, true)
    const preview = await world.live.analyzeImport(
      await world.migration.toImportInput(A, mailboxes, { sentToday: true }),
    )
    expect(preview.campaignId).toBeNull()
    expect(preview.leads.due).toBeGreaterThan(0)
    expect(preview.counted.campaign).toBe(sentToday)
    const counters = await world.db.mailbox.findMany()
    expect(preview.counted.mailboxes).toEqual(
      Object.fromEntries(
        counters.filter((m) => m.currentDailySent > 0).map((m) => [m.email, m.currentDailySent]),
      ),
    )
    expect(preview.issues).toEqual([])

    const result = await world.migration.switchCampaign(world.live, A)
    expect(result.leads).toMatchObject({ imported: 12, refused: 0, due: preview.leads.due })
    expect(result.recordedSends).toBeGreaterThan(0)
    expect((await world.live.getCampaign(result.campaignId)).status).toBe('IN_PROGRESS')
    // The legacy sender leaves it alone from now on.
    expect(await world.legacy.processScheduledCampaign(A)).toBe('not-handled')

    await runUntil(world, warsaw('2026-01-07T16:59'))
    // Late on the switch day, both systems count exactly what left today, both together.
    await expectCountsExact(world, transport.sent, A)
    await runUntil(world, SWITCH_B)

    const sent = transport.sent
    const switchDay = sent.filter((r) => day(r) === '2026-01-07')
    const campaignOfSend = await campaignOf(world.db)
    // Both systems sent campaign A on the switch day; mailcadence its follow-ups due.
    const byMailcadence = switchDay.filter((r) => system(r) === 'mailcadence')
    expect(byMailcadence.length).toBeGreaterThan(0)
    expect(byMailcadence.every((r) => r.step > 0 && campaignOfSend(r) === A)).toBe(true)
    expect(switchDay.some((r) => system(r) === 'legacy' && campaignOfSend(r) === A)).toBe(true)

    const counts = await expectLimitsHeld(world.db, sent, '2026-01-07')
    // The cap was reached, not just respected: mailcadence went on where the legacy sender stopped.
    expect(counts.campaigns[A]).toBe(CAMPAIGNS[0].maxEmailsPerDay)
    expectNoDuplicates(sent)
    // mailcadence's follow-ups answer emails the legacy sender sent.
    expect(expectThreadsKept(sent)).toBeGreaterThan(0)
    expect(vetoed).toEqual([])
  })

  it('importing a switched campaign again changes nothing', async () => {
    const v2Id = (await world.db.campaign.findUniqueOrThrow({ where: { id: A } })).v2CampaignId!
    const before = await world.live.queueStats(v2Id)
    const log = await world.live.sendLog(v2Id)
    const explained = await world.live.explain(v2Id)
    const again = await world.migration.switchCampaign(world.live, A)
    expect(again.campaignId).toBe(v2Id)
    expect(again.leads).toMatchObject({ imported: 0, existing: 12, refused: 0 })
    expect(again.recordedSends).toBe(0)
    expect(await world.live.queueStats(v2Id)).toEqual(before)
    expect(await world.live.sendLog(v2Id)).toEqual(log)
    expect(await world.live.explain(v2Id)).toEqual(explained)
  })

  it('3. all switched: campaign B mid-morning, its legacy sends of the day counted toward its cap and pacing', async () => {
    const legacyToday = await world.db.sendLog.count({
      where: { campaignId: B, createdAt: { gte: startOfDay(world.clock.now(), 'Europe/Warsaw') } },
    })
    expect(legacyToday).toBeGreaterThan(0)
    const result = await world.migration.switchCampaign(world.live, B)
    expect(result.leads).toMatchObject({ imported: 12, refused: 0 })
    expect(await world.db.campaign.count({ where: { useV2: false } })).toBe(0)

    await runUntil(world, warsaw('2026-01-08T16:59'))
    await expectCountsExact(world, transport.sent, B)
    await expectCountsExact(world, transport.sent, A)
    await runUntil(world, warsaw('2026-01-09T00:00'))

    const sent = transport.sent
    const counts = await expectLimitsHeld(world.db, sent, '2026-01-08')
    expect(counts.campaigns[B]).toBe(CAMPAIGNS[1].maxEmailsPerDay)
    expect(sent.filter((r) => day(r) === '2026-01-08' && system(r) === 'mailcadence').length).toBeGreaterThan(
      0,
    )
    expectNoDuplicates(sent)
    expectThreadsKept(sent)
    // From Thursday's switch on, only mailcadence sends.
    expect(sent.filter((r) => r.at >= SWITCH_B).every((r) => system(r) === 'mailcadence')).toBe(true)
  })

  it('4. legacy off: mailcadence alone finishes every sequence, each email once', async () => {
    world.legacyOn = false
    await runUntil(world, warsaw('2026-01-13T17:00'))
    const sent = transport.sent
    expectNoDuplicates(sent)
    expectThreadsKept(sent)
    for (const date of new Set(sent.map(day))) await expectLimitsHeld(world.db, sent, date)
    // 2 campaigns × 12 leads × 3 steps, each exactly once, by one system or the other.
    expect(sent).toHaveLength(72)
    for (const id of [A, B]) {
      const v2Id = (await world.db.campaign.findUniqueOrThrow({ where: { id } })).v2CampaignId!
      expect((await world.live.getCampaign(v2Id)).status).toBe('COMPLETED')
      expect(await world.live.queueStats(v2Id)).toMatchObject({
        pending: 0,
        sending: 0,
        failed: 0,
        cancelled: 0,
      })
    }
    expect(await world.db.sendLog.count({ where: { createdAt: { gte: SWITCH_B } } })).toBe(0)
  })
})

describe('rollback', { timeout: 120_000 }, () => {
  it('exportProgress after a pause lets the legacy sender carry on: no duplicate, threads and limits kept', async () => {
    const file = tempFile()
    const transport = createRecordingTransport()
    const world = createWorld({ file, transport })
    try {
      const [A] = (await seedLegacyApp(world.db)) as [number, number]
      await runUntil(world, warsaw('2026-01-07T10:00'))
      await world.migration.switchCampaign(world.live, A)
      await runUntil(world, ROLLBACK)
      const byMailcadence = transport.sent.filter((r) => system(r) === 'mailcadence')
      expect(byMailcadence.some((r) => r.step > 0)).toBe(true)

      const { v2CampaignId } = await world.db.campaign.findUniqueOrThrow({ where: { id: A } })
      const rolledBack = await world.migration.rollbackCampaign(world.live, A)
      expect(rolledBack.copiedSends).toBe(byMailcadence.length)
      expect((await world.live.getCampaign(v2CampaignId!)).status).toBe('PAUSED')

      // What the export handed over: each lead's last email, as it left, and when the next is due.
      const progress = await world.live.exportProgress(v2CampaignId!)
      for (const lead of progress.leads) {
        const mine = transport.sent.filter((r) => r.to === lead.email).sort((a, b) => a.step - b.step)
        const last = mine.at(-1)
        if (!last) {
          expect(lead.progress).toBeUndefined()
          continue
        }
        expect(lead.progress).toMatchObject({
          step: last.step,
          sentAt: last.at,
          mailbox: last.from,
          messageId: last.messageId,
          thread: [...last.references, last.messageId],
        })
        if (lead.next)
          expect(lead.next).toEqual({
            step: last.step + 1,
            dueAt: new Date(last.at.getTime() + STEP_DELAYS[last.step + 1]! * DAY_MS),
          })
        const legacyLead = await world.db.campaignLead.findUniqueOrThrow({
          where: { campaignId_email: { campaignId: A, email: lead.email } },
        })
        expect(legacyLead).toMatchObject({ currentStep: last.step + 1, messageId: last.messageId })
        // The legacy sender's own reckoning (last send + the next step's delay) gives the same due time.
        if (lead.next)
          expect(legacyLead.lastSentAt!.getTime() + STEP_DELAYS[legacyLead.currentStep]! * DAY_MS).toBe(
            lead.next.dueAt.getTime(),
          )
      }

      await runUntil(world, warsaw('2026-01-07T16:59'))
      await expectCountsExact(world, transport.sent, A)
      await runUntil(world, warsaw('2026-01-13T17:00'))
      const sent = transport.sent
      expectNoDuplicates(sent)
      // The legacy sender's follow-ups answer emails mailcadence sent, from their mailbox.
      const crossing = expectThreadsKept(sent)
      expect(crossing).toBeGreaterThan(1)
      const rollbackDay = await expectLimitsHeld(world.db, sent, '2026-01-07')
      expect(rollbackDay.campaigns[A]).toBe(CAMPAIGNS[0].maxEmailsPerDay)
      for (const date of new Set(sent.map(day))) await expectLimitsHeld(world.db, sent, date)
      // mailcadence sent nothing after the rollback, and every sequence was finished, each email once.
      expect(sent.filter((r) => system(r) === 'mailcadence' && r.at >= ROLLBACK)).toEqual([])
      expect(sent).toHaveLength(72)
    } finally {
      await world.live.close()
      await world.db.$disconnect()
      removeFile(file)
    }
  })
})

describe('switching twice and rolling back twice', { timeout: 300_000 }, () => {
  it('mails no one twice and no one after a reply, with limits held, without beforeSend', async () => {
    const file = tempFile()
    const transport = createRecordingTransport()
    // No beforeSend: only the import's moving leads forward stands between a lead and a duplicate.
    const world = createWorld({ file, transport, beforeSend: false })
    /** When each lead replied (set in the legacy database, as the legacy app records a reply). */
    const repliedAt = new Map<string, Date>()
    /** Two leads of campaign A still in sequence, whatever their step, reply now. */
    const twoReply = async (campaignId: number) => {
      const open = await world.db.campaignLead.findMany({
        where: { campaignId, status: { in: ['pending', 'sent'] }, currentStep: { gt: 0 } },
        orderBy: { id: 'asc' },
        take: 2,
      })
      expect(open).toHaveLength(2)
      for (const lead of open) {
        await world.db.campaignLead.update({ where: { id: lead.id }, data: { status: 'replied' } })
        repliedAt.set(lead.email, world.clock.now())
      }
    }
    try {
      const [A] = (await seedLegacyApp(world.db)) as [number, number]
      await runUntil(world, warsaw('2026-01-07T10:00'))
      const first = await world.migration.switchCampaign(world.live, A)
      await runUntil(world, warsaw('2026-01-07T12:00'))

      // Rollback 1: the legacy sender carries on; two leads reply; it sends steps of its own.
      await world.migration.rollbackCampaign(world.live, A)
      await twoReply(A)
      const repliedFirst = [...repliedAt.keys()].sort()
      const legacyBefore = transport.sent.filter((r) => system(r) === 'legacy').length
      await runUntil(world, SWITCH_2)
      expect(transport.sent.filter((r) => system(r) === 'legacy').length).toBeGreaterThan(legacyBefore)

      // Switch 2, same externalId, started: each lead moves forward to the legacy progress.
      const second = await world.migration.switchCampaign(world.live, A)
      // Nothing of A is due here before Friday 10:00; mailcadence then sends until noon.
      await runUntil(world, warsaw('2026-01-09T12:00'))
      const byMailcadence = transport.sent.filter((r) => system(r) === 'mailcadence' && r.at >= SWITCH_2)
      expect(byMailcadence.length).toBeGreaterThan(0)

      // Rollback 2, two more replies, the legacy sender goes on over the weekend; switch 3 Monday.
      await world.migration.rollbackCampaign(world.live, A)
      await twoReply(A)
      await runUntil(world, warsaw('2026-01-12T11:00'))
      const third = await world.migration.switchCampaign(world.live, A)
      world.legacyOn = false
      await runUntil(world, warsaw('2026-01-20T17:00'))

      const sent = transport.sent
      expectNoDuplicates(sent)
      for (const [email, at] of repliedAt) {
        expect(sent.filter((r) => r.to === email && r.at >= at)).toEqual([])
      }
      for (const date of new Set(sent.map(day))) await expectLimitsHeld(world.db, sent, date)
      expectThreadsKept(sent)
      // What the second and third imports reported: each moved leads forward, the replied ones
      // stopped.
      expect(second.campaignId).toBe(first.campaignId)
      expect(second.leads.imported).toBe(0)
      expect(second.leads.advanced).toBeGreaterThan(2)
      expect(
        second.advanced
          .filter((a) => a.status === 'replied')
          .map((a) => a.email)
          .sort(),
      ).toEqual(repliedFirst)
      expect(second.advanced.some((a) => a.sentSteps.length > 0)).toBe(true)
      expect(second.issues.filter((i) => i.severity === 'error')).toEqual([])
      expect(third.leads.advanced).toBeGreaterThan(1)
      // Every other lead of A got its whole sequence, each step once, from one system or the other.
      expect(repliedAt.size).toBe(4)
      for (const lead of await world.db.campaignLead.findMany({ where: { campaignId: A } })) {
        if (repliedAt.has(lead.email)) continue
        const steps = sent.filter((r) => r.to === lead.email).map((r) => r.step)
        expect(steps.sort()).toEqual([0, 1, 2])
      }
    } finally {
      await world.live.close()
      await world.db.$disconnect()
      removeFile(file)
    }
  })
})

describe("the live scheduler's hooks", { timeout: 60_000 }, () => {
  it('vetoes an email the legacy sender had in flight (another process) when the campaign was switched', async () => {
    const file = tempFile()
    const transport = createRecordingTransport()
    const vetoed: string[] = []
    const world = createWorld({
      file,
      transport,
      log: (line) => line.includes('already in the legacy') && vetoed.push(line),
    })
    try {
      const [A] = (await seedLegacyApp(world.db)) as [number, number]
      await runUntil(world, warsaw('2026-01-07T10:00'))
      // Another legacy cron process starts its run for campaign A: its email is on the wire...
      const other = createLegacySender({
        db: world.db,
        transport,
        clock: world.clock,
      })
      const release = transport.hold()
      const inFlight = other.processScheduledCampaign(A)
      await transport.whenHeld(1)
      // ...when the campaign is switched: the import still sees that lead's step as not sent.
      const result = await world.migration.switchCampaign(world.live, A)
      release()
      expect(await inFlight).toBe('sent')
      const inFlightSend = transport.sent.at(-1)!
      expect(result.leads.due).toBeGreaterThan(0)

      await runUntil(world, warsaw('2026-01-07T17:00'))
      const sent = transport.sent
      expectNoDuplicates(sent)
      expect(vetoed).toEqual([expect.stringContaining(`${inFlightSend.to} step ${inFlightSend.step}`)])
      // beforeSend answered `alreadySent`: the step is recorded as the legacy sender sent it, and
      // the lead's sequence goes on in mailcadence from there, in the same thread.
      expect(await world.db.mcQueueItem.count({ where: { status: 'cancelled' } })).toBe(0)
      const item = await world.db.mcQueueItem.findFirstOrThrow({
        where: { messageId: inFlightSend.messageId },
      })
      expect(item).toMatchObject({ status: 'sent', step: inFlightSend.step, sentAt: inFlightSend.at })
      const next = await world.db.mcQueueItem.findFirstOrThrow({
        where: { leadId: item.leadId, step: inFlightSend.step + 1 },
      })
      expect(next.status).toBe('pending')
      expect(next.scheduledAt.getTime()).toBe(
        inFlightSend.at.getTime() + STEP_DELAYS[inFlightSend.step + 1]! * DAY_MS,
      )
      expect(JSON.parse(next.references).at(-1)).toBe(inFlightSend.messageId)
    } finally {
      await world.live.close()
      await world.db.$disconnect()
      removeFile(file)
    }
  })

  it('campaignFilter: mailcadence leaves a switched campaign alone from the tick its useV2 flag is cleared', async () => {
    const file = tempFile()
    const transport = createRecordingTransport()
    const world = createWorld({ file, transport })
    try {
      const [A] = (await seedLegacyApp(world.db)) as [number, number]
      await runUntil(world, warsaw('2026-01-07T10:00'))
      const { campaignId } = await world.migration.switchCampaign(world.live, A)
      await runUntil(world, warsaw('2026-01-07T11:00'))
      const before = transport.sent.length
      expect(transport.sent.filter((r) => r.campaignId === campaignId).length).toBeGreaterThan(0)

      // An operator clears the flag (the legacy cron is stopped for the check): nothing more leaves,
      // though the campaign is IN_PROGRESS in mailcadence with emails due.
      world.legacyOn = false
      await world.db.campaign.update({ where: { id: A }, data: { useV2: false } })
      await runUntil(world, warsaw('2026-01-07T13:00'))
      expect(transport.sent.length).toBe(before)
      const explained = await world.live.explain(campaignId)
      expect(explained.status).toBe('IN_PROGRESS')
      expect(explained.queue.pending).toBeGreaterThan(0)

      // Set again, and mailcadence carries on where it stopped.
      await world.db.campaign.update({ where: { id: A }, data: { useV2: true } })
      await runUntil(world, warsaw('2026-01-07T15:00'))
      expect(transport.sent.length).toBeGreaterThan(before)
      expectNoDuplicates(transport.sent)
      expectThreadsKept(transport.sent)
    } finally {
      await world.live.close()
      await world.db.$disconnect()
      removeFile(file)
    }
  })
})
