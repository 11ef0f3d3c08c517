/**
 * The invariant checks every torture scenario ends with, read from the store itself: no
 * duplicate, limits held per local day, nothing lost or stuck.
 */
import { type Campaign, dayKey, type Mailbox, type Store, windowDayKey } from '@mailcadence/core'

export interface Delivery {
  campaignId: string
  leadId: string
  step: number
  mailboxId: string
  at: Date
}

/** Returns the violations found; an empty list means every invariant held. */
export async function checkInvariants(input: {
  store: Store
  campaigns: Campaign[]
  mailboxes: Mailbox[]
  /** What actually reached a mail server (or the transport), when the scenario knows it. */
  deliveries?: Delivery[]
}): Promise<string[]> {
  const { store, campaigns, mailboxes } = input
  const problems: string[] = []
  const perMailboxDay = new Map<string, number>()
  const zoneOf = new Map(mailboxes.map((m) => [m.id, m]))
  for (const campaign of campaigns) {
    const log = await store.listSendLog(campaign.id)
    const seen = new Set<string>()
    const perDay = new Map<string, number>()
    for (const entry of log) {
      const key = `${entry.leadId}|${entry.step}`
      if (seen.has(key))
        problems.push(
          `duplicate send-log row: campaign ${campaign.id}, lead ${entry.leadId}, step ${entry.step}`,
        )
      seen.add(key)
      const day = windowDayKey(campaign, entry.sentAt) ?? `outside:${dayKey(entry.sentAt, campaign.timezone)}`
      perDay.set(day, (perDay.get(day) ?? 0) + 1)
      const mailbox = zoneOf.get(entry.mailboxId)
      const mailboxDay = `${entry.mailboxId}|${dayKey(entry.sentAt, mailbox?.timezone ?? 'UTC')}`
      perMailboxDay.set(mailboxDay, (perMailboxDay.get(mailboxDay) ?? 0) + 1)
    }
    for (const [day, count] of perDay) {
      if (count > campaign.maxEmailsPerDay)
        problems.push(`campaign ${campaign.id} sent ${count} on ${day}, cap ${campaign.maxEmailsPerDay}`)
    }
    for (const item of await store.listQueueItems(campaign.id)) {
      if (item.status === 'sending') problems.push(`item ${item.id} left sending`)
      if (item.status === 'pending' && Number.isNaN(item.scheduledAt.getTime()))
        problems.push(`item ${item.id} pending without a due time`)
    }
  }
  for (const [key, count] of perMailboxDay) {
    const [mailboxId, day] = key.split('|')
    const limit = zoneOf.get(mailboxId!)?.dailyEmailLimit ?? Number.POSITIVE_INFINITY
    if (count > limit) problems.push(`mailbox ${mailboxId} sent ${count} on ${day}, limit ${limit}`)
  }
  if (input.deliveries) {
    const delivered = new Map<string, number>()
    for (const d of input.deliveries) {
      const key = `${d.campaignId}|${d.leadId}|${d.step}`
      delivered.set(key, (delivered.get(key) ?? 0) + 1)
    }
    for (const [key, count] of delivered) if (count > 1) problems.push(`delivered ${count} times: ${key}`)
  }
  return problems
}
