/**
 * Checks across both systems, from the one recording transport they share: every email that left,
 * whichever system sent it.
 */
import type { Scheduler } from '@mailcadence/core'
import type { SentRecord } from '@mailcadence/core/testing'
import { expect } from 'vitest'
import type { PrismaClient } from '../src/db.js'
import { wallClock } from '../src/legacy.js'
import { STEP_DELAYS } from '../src/world.js'

const DAY_MS = 86_400_000

/** Which system sent it. */
export const system = (r: SentRecord) => (r.campaignId.startsWith('legacy:') ? 'legacy' : 'mailcadence')

/** The Warsaw day of a send: `2026-01-07`. */
export const day = (r: SentRecord) => wallClock(r.at, 'Europe/Warsaw').day

/** Maps each send to its legacy campaign id, whichever system sent it. */
export async function campaignOf(db: PrismaClient): Promise<(r: SentRecord) => number> {
  const byV2 = new Map(
    (await db.campaign.findMany()).filter((c) => c.v2CampaignId).map((c) => [c.v2CampaignId!, c.id]),
  )
  return (r) => {
    if (r.campaignId.startsWith('legacy:')) return Number(r.campaignId.slice('legacy:'.length))
    const id = byV2.get(r.campaignId)
    if (id === undefined) throw new Error(`send to ${r.to} from an unknown campaign ${r.campaignId}`)
    return id
  }
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

/** No (address, step) reached the transport twice, across both systems. */
export function expectNoDuplicates(sent: readonly SentRecord[]): void {
  const twice = [...countBy(sent, (r) => `${r.to.toLowerCase()} step ${r.step}`)].filter(([, n]) => n > 1)
  expect(twice).toEqual([])
}

/**
 * Every follow-up left at or after its due time (the previous email + the step's `delayDays`),
 * from the mailbox of the thread, as a reply to the previous email (In-Reply-To, References) with
 * the thread's subject; and every lead's steps went in order, none skipped. Returns the number of
 * follow-ups whose previous email was sent by the other system.
 */
export function expectThreadsKept(sent: readonly SentRecord[]): number {
  let crossing = 0
  const byLead = new Map<string, SentRecord[]>()
  for (const r of sent) byLead.set(r.to, [...(byLead.get(r.to) ?? []), r])
  for (const [to, records] of byLead) {
    records.sort((a, b) => a.step - b.step)
    expect(
      records.map((r) => r.step),
      to,
    ).toEqual(records.map((_, i) => i))
    const first = records[0]!
    expect(first.inReplyTo, to).toBeUndefined()
    for (const [i, r] of records.entries()) {
      if (i === 0) continue
      const previous = records[i - 1]!
      const due = previous.at.getTime() + STEP_DELAYS[r.step]! * DAY_MS
      expect(r.at.getTime(), `${to} step ${r.step} before it was due`).toBeGreaterThanOrEqual(due)
      expect(r.from, `${to} step ${r.step}: mailbox of the thread`).toBe(previous.from)
      expect(r.inReplyTo, `${to} step ${r.step}: In-Reply-To`).toBe(previous.messageId)
      expect(r.references, `${to} step ${r.step}: References`).toEqual([
        ...previous.references,
        previous.messageId,
      ])
      expect(r.subject).toBe(`Re: ${first.subject}`)
      if (system(r) !== system(previous)) crossing++
    }
  }
  return crossing
}

/**
 * On `date` (Warsaw), each mailbox sent at most its `dailyEmailLimit` and each campaign at most
 * its `maxEmailsPerDay`, counting both systems; two sends of a campaign were never closer than
 * `delayBetweenEmails × (1 − 0.2)` (mailcadence's default jitter; the legacy sender waits the
 * whole delay). Returns the counts.
 */
export async function expectLimitsHeld(
  db: PrismaClient,
  sent: readonly SentRecord[],
  date: string,
): Promise<{ mailboxes: Record<string, number>; campaigns: Record<number, number> }> {
  const ofDay = sent.filter((r) => day(r) === date)
  const mailboxes = Object.fromEntries(countBy(ofDay, (r) => r.from))
  for (const m of await db.mailbox.findMany()) {
    expect(mailboxes[m.email] ?? 0, `${m.email} on ${date}`).toBeLessThanOrEqual(m.dailyEmailLimit)
  }
  const campaignOfSend = await campaignOf(db)
  const campaigns: Record<number, number> = {}
  for (const c of await db.campaign.findMany()) {
    const own = ofDay
      .filter((r) => campaignOfSend(r) === c.id)
      .sort((a, b) => a.at.getTime() - b.at.getTime())
    campaigns[c.id] = own.length
    expect(own.length, `campaign ${c.id} on ${date}`).toBeLessThanOrEqual(c.maxEmailsPerDay)
    for (let i = 1; i < own.length; i++) {
      const gap = own[i]!.at.getTime() - own[i - 1]!.at.getTime()
      expect(gap, `campaign ${c.id}: ${own[i - 1]!.to} then ${own[i]!.to}`).toBeGreaterThanOrEqual(
        c.delayBetweenEmails * 0.8 * 1000,
      )
    }
  }
  return { mailboxes, campaigns }
}

/**
 * Today (Warsaw), mailcadence's counts (`explain`) and the legacy `currentDailySent` both equal
 * what really left today, both systems together: for the campaign, and for each mailbox.
 */
export async function expectCountsExact(
  world: { db: PrismaClient; live: Scheduler; clock: { now(): Date } },
  sent: readonly SentRecord[],
  campaignId: number,
): Promise<void> {
  const today = wallClock(world.clock.now(), 'Europe/Warsaw').day
  const ofDay = sent.filter((r) => day(r) === today)
  const campaignOfSend = await campaignOf(world.db)
  const { v2CampaignId } = await world.db.campaign.findUniqueOrThrow({ where: { id: campaignId } })
  const explained = await world.live.explain(v2CampaignId!)
  expect(explained.campaignDailySent, `campaign ${campaignId} today`).toBe(
    ofDay.filter((r) => campaignOfSend(r) === campaignId).length,
  )
  for (const m of explained.mailboxes) {
    const real = ofDay.filter((r) => r.from === m.email).length
    expect(m.currentDailySent, `${m.email} today, in mailcadence`).toBe(real)
    const legacy = await world.db.mailbox.findUniqueOrThrow({ where: { email: m.email } })
    expect(legacy.counterDay === today ? legacy.currentDailySent : 0, `${m.email} today, legacy`).toBe(real)
  }
}
