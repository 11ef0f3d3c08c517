/**
 * Rollback: where each lead of a campaign stands, in the terms an import takes (`LeadProgress`),
 * so the legacy system can carry on from there, or the campaign can be imported again later.
 */
import type { Campaign, Lead, Mailbox, QueueItem } from '../model/types.js'
import type { SendLogEntry } from '../store.js'
import type { CampaignProgress, ExportedLead } from './types.js'

export function buildProgress(input: {
  campaign: Campaign
  leads: readonly Lead[]
  items: readonly QueueItem[]
  log: readonly SendLogEntry[]
  mailboxes: readonly Mailbox[]
  now: Date
}): CampaignProgress {
  const mailboxes = new Map(input.mailboxes.map((m) => [m.id, m]))
  const sentByLead = groupBy(input.log, (e) => e.leadId)
  const pendingByLead = new Map(
    input.items.filter((i) => i.status === 'pending').map((i) => [i.leadId, i] as const),
  )
  const firstSubject = (entries: readonly SendLogEntry[]) => entries.find((e) => e.step === 0)?.subject

  const leads = input.leads.map((lead): ExportedLead => {
    const sent = [...(sentByLead.get(lead.id) ?? [])].sort((a, b) => a.step - b.step)
    const last = sent[sent.length - 1]
    const pending: QueueItem | undefined = pendingByLead.get(lead.id)
    const exported: ExportedLead = {
      email: lead.email,
      firstName: lead.firstName,
      lastName: lead.lastName,
      company: lead.company,
      variables: { ...lead.variables },
      status: lead.status,
      next: pending ? { step: pending.step, dueAt: pending.scheduledAt } : null,
    }
    if (last) {
      exported.progress = {
        step: last.step,
        sentAt: last.sentAt,
        mailbox: mailboxes.get(last.mailboxId)?.email ?? last.mailboxId,
        messageId: last.messageId,
        thread: sent.map((e) => e.messageId),
        threadSubject: pending?.threadSubject ?? firstSubject(sent) ?? last.subject,
      }
    }
    return exported
  })
  return {
    campaignId: input.campaign.id,
    externalId: input.campaign.externalId,
    exportedAt: input.now,
    leads,
  }
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>()
  for (const value of values) {
    const k = key(value)
    const list = map.get(k)
    if (list) list.push(value)
    else map.set(k, [value])
  }
  return map
}
