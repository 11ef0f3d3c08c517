/**
 * The app's legacy sender, in the style of the in-house one mailcadence replaces: a cron job every
 * minute (`processScheduledCampaigns`) goes over the campaigns `IN_PROGRESS` that are not switched
 * to mailcadence (`useV2 = false`) and sends at most one email per campaign, when
 *
 * - it is inside the campaign's window (hours and days, in the campaign's time zone),
 * - `delayBetweenEmails` has passed since the campaign's last send (from `SendLog`),
 * - the campaign sent fewer than `maxEmailsPerDay` today (counted from `SendLog`),
 * - a mailbox has room: round-robin for first emails, the thread's mailbox for follow-ups, each
 *   under `dailyEmailLimit` (`currentDailySent`, reset when the Warsaw day changes),
 * - and `SendLog` has no row yet for this (campaign, lead, step): the seed's duplicate check.
 *
 * Follow-ups wait `delayDays` after the previous email and reply to it (In-Reply-To, References).
 * Progress lives in `CampaignLead` (`status`, `currentStep`, `lastSentAt`, thread), and every send
 * gets a `SendLog` row. Time comes from the injected clock; mail goes through a mailcadence
 * `Transport` (the app passes the same one to both systems).
 *
 * It knows nothing of mailcadence beyond that interface, as a real legacy sender would not.
 */
import type { Mailbox as McMailbox, OutgoingMessage, Transport } from '@mailcadence/core'
import type { PrismaClient } from './db.js'

/** The cron's time zone: a mailbox's `currentDailySent` counts the sends of one Warsaw day. */
export const LEGACY_TIMEZONE = 'Europe/Warsaw'

const DAY_MS = 86_400_000
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

export interface LegacySenderOptions {
  db: PrismaClient
  transport: Transport
  clock: { now(): Date }
  /** Where `[CRON]` and `[SENDER]` lines go. Default: nowhere. */
  log?: (line: string) => void
}

/** What one campaign's turn did. */
export type LegacyOutcome =
  | 'sent'
  | 'error'
  | 'not-handled'
  | 'outside-window'
  | 'too-soon'
  | 'daily-cap'
  | 'no-mailbox'
  | 'nothing-due'

export interface LegacySender {
  /** The cron job: every campaign in progress and not on mailcadence, one email at most each. */
  processScheduledCampaigns(): Promise<{ sent: number; errors: number }>
  /** One campaign's turn. */
  processScheduledCampaign(campaignId: number): Promise<LegacyOutcome>
}

export function createLegacySender(options: LegacySenderOptions): LegacySender {
  const { db, transport, clock } = options
  const log = options.log ?? (() => {})

  async function processScheduledCampaign(campaignId: number): Promise<LegacyOutcome> {
    const now = clock.now()
    const campaign = await db.campaign.findUnique({
      where: { id: campaignId },
      include: { steps: { orderBy: { position: 'asc' } } },
    })
    if (campaign?.status !== 'IN_PROGRESS' || campaign.useV2) return 'not-handled'
    if (!inWindow(campaign, now)) return 'outside-window'

    const last = await db.sendLog.findFirst({ where: { campaignId }, orderBy: { createdAt: 'desc' } })
    if (last && now.getTime() - last.createdAt.getTime() < campaign.delayBetweenEmails * 1000)
      return 'too-soon'
    const sentToday = await db.sendLog.count({
      where: { campaignId, createdAt: { gte: startOfDay(now, campaign.timezone) } },
    })
    if (sentToday >= campaign.maxEmailsPerDay) return 'daily-cap'

    const leads = await db.campaignLead.findMany({
      where: { campaignId, status: { in: ['pending', 'sent'] } },
      orderBy: { id: 'asc' },
    })
    // Follow-ups first (oldest thread first), then first emails in the order the leads came.
    const due = leads
      .filter((lead) => {
        const step = campaign.steps[lead.currentStep]
        if (!step) return false
        if (lead.currentStep === 0) return true
        return (
          lead.lastSentAt !== null && lead.lastSentAt.getTime() + step.delayDays * DAY_MS <= now.getTime()
        )
      })
      .sort((a, b) => {
        if ((a.currentStep === 0) !== (b.currentStep === 0)) return a.currentStep === 0 ? 1 : -1
        return (a.lastSentAt?.getTime() ?? 0) - (b.lastSentAt?.getTime() ?? 0) || a.id - b.id
      })
    if (due.length === 0) return 'nothing-due'

    const mailboxes = await db.mailbox.findMany({ orderBy: { id: 'asc' } })
    for (const lead of due) {
      const stepIndex = lead.currentStep
      const step = campaign.steps[stepIndex]!
      // The seed's duplicate check: a row for this (campaign, lead, step) means it already left.
      const already = await db.sendLog.findFirst({ where: { campaignId, leadId: lead.id, step: stepIndex } })
      const thread = lead.threadIds ? lead.threadIds.split(' ') : []
      if (already) {
        await db.campaignLead.update({
          where: { id: lead.id },
          data: {
            ...progressAfter(already, campaign.steps.length),
            threadIds: [...thread, already.messageId].join(' '),
            ...(stepIndex === 0 ? { threadSubject: already.subject } : {}),
          },
        })
        continue
      }

      let mailbox: (typeof mailboxes)[number] | undefined
      if (stepIndex === 0) {
        // Round-robin: the first mailbox after the campaign's last one that has room today.
        const start = mailboxes.findIndex((m) => m.id === campaign.lastMailboxId) + 1
        for (let i = 0; i < mailboxes.length && !mailbox; i++) {
          const candidate = mailboxes[(start + i) % mailboxes.length]!
          if (await reserveSlot(db, candidate, now)) mailbox = candidate
        }
        if (!mailbox) return 'no-mailbox' // every mailbox is at its limit: the campaign waits
      } else {
        const own = mailboxes.find((m) => m.id === lead.mailboxId)
        if (!own || !(await reserveSlot(db, own, now))) continue // its thread's mailbox is full
        mailbox = own
      }

      const values: Record<string, string> = {
        email: lead.email,
        firstName: lead.firstName ?? '',
        company: lead.company ?? '',
      }
      const subject =
        step.subject !== null
          ? render(step.subject, values)
          : /^re:/i.test(lead.threadSubject ?? '')
            ? lead.threadSubject!
            : `Re: ${lead.threadSubject ?? ''}`
      const messageId = `<legacy.${campaign.id}.${lead.id}.${stepIndex}@${mailbox.email.split('@')[1]}>`
      const message: OutgoingMessage = {
        from: { name: mailbox.name, address: mailbox.email },
        to: { name: lead.firstName, address: lead.email },
        subject,
        text: render(step.body, values),
        messageId,
        references: thread,
        headers: {},
      }
      if (lead.messageId) message.inReplyTo = lead.messageId
      try {
        await transport.send(message, {
          now,
          mailbox: asTransportMailbox(mailbox),
          campaignId: `legacy:${campaign.id}`,
          leadId: `legacy:${lead.id}`,
          step: stepIndex,
          itemId: `legacy:${campaign.id}:${lead.id}:${stepIndex}`,
        })
      } catch (error) {
        await db.mailbox.update({ where: { id: mailbox.id }, data: { currentDailySent: { decrement: 1 } } })
        log(`[SENDER] ${campaign.name}: ${lead.email} step ${stepIndex} failed: ${String(error)}`)
        return 'error'
      }
      const row = await db.sendLog.create({
        data: {
          campaignId,
          leadId: lead.id,
          mailboxId: mailbox.id,
          step: stepIndex,
          toEmail: lead.email,
          subject,
          messageId,
          createdAt: now,
        },
      })
      await db.campaignLead.update({
        where: { id: lead.id },
        data: {
          ...progressAfter(row, campaign.steps.length),
          threadIds: [...thread, messageId].join(' '),
          ...(stepIndex === 0 ? { threadSubject: subject } : {}),
        },
      })
      if (stepIndex === 0)
        await db.campaign.update({ where: { id: campaignId }, data: { lastMailboxId: mailbox.id } })
      log(`[SENDER] ${campaign.name}: ${mailbox.email} → ${lead.email} step ${stepIndex}: ${subject}`)
      return 'sent'
    }
    return 'no-mailbox'
  }

  return {
    processScheduledCampaign,
    async processScheduledCampaigns() {
      const campaigns = await db.campaign.findMany({
        where: { status: 'IN_PROGRESS', useV2: false },
        select: { id: true },
        orderBy: { id: 'asc' },
      })
      let sent = 0
      let errors = 0
      for (const { id } of campaigns) {
        const outcome = await processScheduledCampaign(id)
        if (outcome === 'sent') sent++
        if (outcome === 'error') errors++
      }
      if (sent + errors > 0) log(`[CRON] ${campaigns.length} campaign(s): ${sent} sent, ${errors} errors`)
      return { sent, errors }
    },
  }
}

/** A lead's progress once `row` (its step) has been sent. */
function progressAfter(
  row: { step: number; createdAt: Date; mailboxId: number; messageId: string },
  stepCount: number,
) {
  return {
    currentStep: row.step + 1,
    status: row.step + 1 >= stepCount ? 'completed' : 'sent',
    lastSentAt: row.createdAt,
    mailboxId: row.mailboxId,
    messageId: row.messageId,
  }
}

/**
 * Takes one of the mailbox's sends for today, if it has room: `currentDailySent + 1 WHERE
 * currentDailySent < dailyEmailLimit`, after resetting the counter on a new day.
 */
export async function reserveSlot(
  db: PrismaClient,
  mailbox: { id: number; dailyEmailLimit: number },
  now: Date,
): Promise<boolean> {
  const day = await resetCounterIfNewDay(db, mailbox.id, now)
  const { count } = await db.mailbox.updateMany({
    where: { id: mailbox.id, counterDay: day, currentDailySent: { lt: mailbox.dailyEmailLimit } },
    data: { currentDailySent: { increment: 1 } },
  })
  return count === 1
}

/** Counts a send made elsewhere (mailcadence) in the mailbox's `currentDailySent`, limit or not. */
export async function countSend(db: PrismaClient, mailboxId: number, at: Date): Promise<void> {
  const day = await resetCounterIfNewDay(db, mailboxId, at)
  await db.mailbox.updateMany({
    where: { id: mailboxId, counterDay: day },
    data: { currentDailySent: { increment: 1 } },
  })
}

async function resetCounterIfNewDay(db: PrismaClient, mailboxId: number, now: Date): Promise<string> {
  const day = wallClock(now, LEGACY_TIMEZONE).day
  await db.mailbox.updateMany({
    where: { id: mailboxId, OR: [{ counterDay: null }, { counterDay: { not: day } }] },
    data: { currentDailySent: 0, counterDay: day },
  })
  return day
}

/** Inside the window: an allowed day, from start (inclusive) to end (exclusive), in the zone. */
export function inWindow(
  c: {
    timezone: string
    startHour: number
    startMinute: number
    endHour: number
    endMinute: number
    allowedDays: string
  },
  now: Date,
): boolean {
  const { weekday, minutes } = wallClock(now, c.timezone)
  const days = c.allowedDays.split(',').map((d) => d.trim().toUpperCase())
  return (
    days.includes(weekday) &&
    minutes >= c.startHour * 60 + c.startMinute &&
    minutes < c.endHour * 60 + c.endMinute
  )
}

/** Local day (`YYYY-MM-DD`), weekday (`MON`) and minute of the day of an instant in a zone. */
export function wallClock(at: Date, timeZone: string): { day: string; weekday: string; minutes: number } {
  const p = localParts(at, timeZone)
  const day = `${p.year}-${p.month}-${p.day}`
  const weekday = DAYS[new Date(`${day}T00:00:00Z`).getUTCDay()]!
  return { day, weekday, minutes: Number(p.hour) * 60 + Number(p.minute) }
}

/** The instant the local day of `at` began in the zone. */
export function startOfDay(at: Date, timeZone: string): Date {
  const midnightAsUtc = Date.parse(`${wallClock(at, timeZone).day}T00:00:00Z`)
  // Local midnight = midnight as if UTC − the zone's offset then (asked twice: DST may differ).
  const guess = midnightAsUtc - offsetMs(at, timeZone)
  return new Date(midnightAsUtc - offsetMs(new Date(guess), timeZone))
}

function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone)
  const asUtc = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!)
  return asUtc - Math.floor(at.getTime() / 1000) * 1000
}

function localParts(at: Date, timeZone: string): Record<string, string> {
  return Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  )
}

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => values[name] ?? '')
}

/** The transport interface takes a mailcadence `Mailbox`; a legacy one is dressed up as one. */
function asTransportMailbox(m: {
  id: number
  email: string
  name: string | null
  dailyEmailLimit: number
}): McMailbox {
  const epoch = new Date(0)
  return {
    id: `legacy:${m.id}`,
    email: m.email,
    name: m.name,
    dailyEmailLimit: m.dailyEmailLimit,
    hourlyLimit: null,
    rampUp: null,
    rampLevel: 0,
    rampDayKey: null,
    provider: null,
    timezone: LEGACY_TIMEZONE,
    pausedUntil: null,
    pauseReason: null,
    skipDates: [],
    createdAt: epoch,
    updatedAt: epoch,
  }
}
