/**
 * The invariants the fuzz model checks, send by send as each tick returns and on the final state.
 * Settings are read from the store before each tick (nothing else changes them during a tick), so
 * a limit lowered or a window moved between ticks is judged by what was in force.
 */
import type { Campaign, Mailbox, QueueItem } from '../../../model/types.js'
import { emailKey } from '../../../model/validate.js'
import { dayKey, windowDayKey } from '../../../policy/calendar.js'
import { gapRange } from '../../../policy/pacing.js'
import type { Env } from '../harness.js'

export function createSendChecker(e: Env) {
  let campaigns = new Map<string, Campaign>()
  let mailboxes = new Map<string, Mailbox>()
  let seen = e.transport.sent.length
  const delivered = new Set<string>()
  const mailboxDay = new Map<string, number>()
  const campaignDay = new Map<string, number>()
  const lastSend = new Map<string, { at: number; minGapMs: number }>()
  const leadSends = new Map<string, { at: number; nextDelayDays: number }>()
  const suppressed = new Set<string>()
  const replied = new Set<string>()
  // The highest limit each campaign and mailbox had at any tick: a late send started under one of
  // them, so it is judged by the highest (a limit lowered while it hung does not apply to it).
  const highestCampaignLimit = new Map<string, number>()
  const highestMailboxLimit = new Map<string, number>()

  /** Counts a send toward its campaign's window day and its mailbox's day, and checks both limits. */
  const countDay = (
    send: { at: Date },
    campaign: Campaign,
    mailbox: Mailbox,
    what: string,
    problems: string[],
    late = false,
  ) => {
    const campaignLimit = late ? highestCampaignLimit.get(campaign.id)! : campaign.maxEmailsPerDay
    const mailboxLimit = late ? highestMailboxLimit.get(mailbox.id)! : mailbox.dailyEmailLimit
    const windowDay = windowDayKey(campaign, send.at)
    if (windowDay !== null) {
      const dayCount = (campaignDay.get(`${campaign.id}|${windowDay}`) ?? 0) + 1
      campaignDay.set(`${campaign.id}|${windowDay}`, dayCount)
      if (dayCount > campaignLimit)
        problems.push(
          `${what}: campaign's send ${dayCount} on ${windowDay}, maxEmailsPerDay ${campaignLimit}`,
        )
    }
    const mailboxKey = `${mailbox.id}|${dayKey(send.at, mailbox.timezone)}`
    const sent = (mailboxDay.get(mailboxKey) ?? 0) + 1
    mailboxDay.set(mailboxKey, sent)
    if (sent > mailboxLimit)
      problems.push(`${what}: mailbox's send ${sent} on ${mailboxKey}, dailyEmailLimit ${mailboxLimit}`)
  }

  return {
    suppressed: (key: string) => suppressed.add(key),
    replied: (campaignId: string, key: string) => replied.add(`${campaignId}|${key}`),
    /** Keys (campaign|lead|step) that reached the transport. */
    delivered,

    /** Reads the settings in force for the coming tick. */
    async before(mailboxIds: string[], campaignIds: string[]) {
      const read = await Promise.all(campaignIds.map((id) => e.store.getCampaign(id)))
      campaigns = new Map(read.flatMap((c) => (c ? [[c.id, c] as const] : [])))
      mailboxes = new Map((await e.store.getMailboxes(mailboxIds)).map((m) => [m.id, m]))
      for (const c of campaigns.values())
        highestCampaignLimit.set(c.id, Math.max(highestCampaignLimit.get(c.id) ?? 0, c.maxEmailsPerDay))
      for (const m of mailboxes.values())
        highestMailboxLimit.set(m.id, Math.max(highestMailboxLimit.get(m.id) ?? 0, m.dailyEmailLimit))
    },

    /**
     * The problems with the sends made since the last call. `late`: they were held by a stalled
     * server and released after the run; they started in some earlier tick whose settings are gone,
     * so only what holds whatever the settings is checked (no duplicate, within the limits).
     */
    after({ late = false }: { late?: boolean } = {}): string[] {
      const problems: string[] = []
      for (const send of e.transport.sent.slice(seen)) {
        const what = `send of campaign ${send.campaignId}, lead ${send.to}, step ${send.step} at ${send.at.toISOString()}`
        const key = `${send.campaignId}|${send.leadId}|${send.step}`
        if (delivered.has(key)) problems.push(`duplicate: ${what} reached the transport twice`)
        delivered.add(key)
        const campaign = campaigns.get(send.campaignId)
        const mailbox = mailboxes.get(send.mailboxId)
        if (!campaign || !mailbox) {
          problems.push(`${what}: from a campaign or mailbox the run does not know`)
          continue
        }
        if (late) {
          countDay(send, campaign, mailbox, what, problems, true)
          continue
        }
        if (campaign.status !== 'IN_PROGRESS') problems.push(`${what}: the campaign was ${campaign.status}`)
        if (suppressed.has(emailKey(send.to))) problems.push(`${what}: the address was suppressed`)
        if (replied.has(`${send.campaignId}|${emailKey(send.to)}`))
          problems.push(`${what}: the lead had replied`)
        if (mailbox.pausedUntil && mailbox.pausedUntil.getTime() > send.at.getTime())
          problems.push(`${what}: mailbox paused until ${mailbox.pausedUntil.toISOString()}`)
        if (windowDayKey(campaign, send.at) === null) problems.push(`${what}: outside the campaign's window`)
        countDay(send, campaign, mailbox, what, problems)
        // A follow-up waits its step's delayDays after the previous step left here: as the steps
        // said then (its due time is fixed at that send) or now, whichever is shorter.
        const previous = leadSends.get(`${send.campaignId}|${send.leadId}|${send.step - 1}`)
        if (previous) {
          const delayDays = Math.min(previous.nextDelayDays, campaign.steps[send.step]?.delayDays ?? 0)
          if (send.at.getTime() - previous.at < delayDays * 86_400_000)
            problems.push(
              `${what}: ${send.at.getTime() - previous.at} ms after step ${send.step - 1}, delayDays ${delayDays}`,
            )
        }
        leadSends.set(key, {
          at: send.at.getTime(),
          nextDelayDays: campaign.steps[send.step + 1]?.delayDays ?? 0,
        })
        const last = lastSend.get(campaign.id)
        if (last && send.at.getTime() - last.at < last.minGapMs)
          problems.push(
            `${what}: ${send.at.getTime() - last.at} ms after the campaign's previous send, pacing ${last.minGapMs} ms`,
          )
        lastSend.set(campaign.id, {
          at: send.at.getTime(),
          minGapMs: gapRange(campaign.delayBetweenEmails, campaign.jitter).minMs,
        })
      }
      seen = e.transport.sent.length
      return problems
    },
  }
}

const invalidDate = (date: Date | null) => date !== null && !Number.isFinite(date.getTime())

/** After the last tick past the lease: nothing in flight, no invalid date, one send-log row per step. */
export async function checkFinalState(
  e: Env,
  campaignIds: string[],
  checker: ReturnType<typeof createSendChecker>,
): Promise<string[]> {
  const problems: string[] = []
  for (const id of campaignIds) {
    const campaign = await e.store.getCampaign(id)
    if (campaign && invalidDate(campaign.nextSlotAt))
      problems.push(`campaign ${id}: nextSlotAt is an invalid date`)
    const items: QueueItem[] = await e.store.listQueueItems(id)
    for (const item of items) {
      const what = `item ${item.id} (campaign ${id}, step ${item.step}, ${item.status})`
      if (item.status === 'sending') problems.push(`${what}: still sending after the lease and a tick`)
      if (invalidDate(item.scheduledAt) || invalidDate(item.sentAt) || invalidDate(item.leaseUntil))
        problems.push(`${what}: holds an invalid date`)
    }
    const rows = new Map<string, number>()
    for (const entry of await e.store.listSendLog(id)) {
      const key = `${id}|${entry.leadId}|${entry.step}`
      rows.set(key, (rows.get(key) ?? 0) + 1)
    }
    for (const [key, count] of rows)
      if (count > 1 && checker.delivered.has(key))
        problems.push(`send log: ${count} rows for ${key}, one sent here`)
  }
  return problems
}
