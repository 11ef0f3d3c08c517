/**
 * `scheduler.preview`: the messages a lead gets, built by message/build.ts exactly as a send builds
 * them (the same variant, spintax, variables, headers and thread), without reserving anything.
 */

import { invalidInput, MailcadenceError } from '../errors.js'
import { buildMessage, makeMessageId } from '../message/build.js'
import { variantFor } from '../message/variants.js'
import { checkId, checkInteger, checkObject } from '../model/checks.js'
import { quote } from '../model/describe.js'
import type { Campaign, Lead, Mailbox, QueueItem, QueueStatus } from '../model/types.js'
import { emailKey, emailProblem } from '../model/validate.js'
import type { OutgoingMessage } from '../transport.js'
import type { ResolvedOptions } from './options.js'

/** Which lead to preview: by address or by id. */
export type PreviewLead = { email: string } | { leadId: string }

export interface PreviewOptions {
  /** Only this step (0-based). Default: every step. */
  step?: number
}

export interface PreviewMessage {
  step: number
  /** The step's queue item status, or `'not-queued'` for a step the lead has not reached. */
  status: QueueStatus | 'not-queued'
  /** The variant it sends (kept from the item when already chosen), or null for a step without variants. */
  variantId: string | null
  /** The mailbox it leaves (or left) from; for a first email not reserved yet, the next in rotation. */
  mailboxId: string
  /**
   * True when `message.messageId` is the real one (fixed at reservation); false when it is a
   * placeholder on the mailbox's domain, as are later steps' references to it.
   */
  messageIdFinal: boolean
  message: OutgoingMessage
}

/** The lead's messages, step by step; each step's thread follows from the one before. */
export async function previewLead(
  options: ResolvedOptions,
  campaign: Campaign,
  who: PreviewLead,
  opts: PreviewOptions = {},
): Promise<PreviewMessage[]> {
  checkObject('options', opts)
  const only =
    opts.step === undefined ? undefined : checkInteger('step', opts.step, 0, campaign.steps.length - 1)
  const lead = await findLead(options, campaign.id, who)
  const { store } = options
  const [items, mailboxes] = await Promise.all([
    store.listQueueItems(campaign.id),
    store.getMailboxes(campaign.mailboxIds),
  ])
  const byId = new Map(mailboxes.map((m) => [m.id, m]))
  const own = new Map<number, QueueItem>()
  for (const item of items) if (item.leadId === lead.id) own.set(item.step, item)

  const out: PreviewMessage[] = []
  let previous: { item: QueueItem; messageId: string; subject: string } | null = null
  for (let step = 0; step < campaign.steps.length; step++) {
    const real = own.get(step)
    const item: QueueItem = real ?? followUp(campaign, lead, step, previous)
    const mailbox = mailboxOf(campaign, byId, item.mailboxId)
    const final = item.messageId !== null
    const messageId = item.messageId ?? makeMessageId(mailbox.email, `preview.${step}.${lead.id}`)
    const message = buildMessage({
      campaign,
      mailbox,
      lead,
      item: { ...item, messageId },
      unsubscribeUrl: options.unsubscribeUrl,
    })
    if (only === undefined || only === step) {
      out.push({
        step,
        status: real?.status ?? 'not-queued',
        variantId: variantFor(
          campaign.steps[step],
          item.variantId ?? null,
          campaign.id,
          emailKey(lead.email),
          step,
        ),
        mailboxId: mailbox.id,
        messageIdFinal: final,
        message,
      })
    }
    previous = { item: { ...item, mailboxId: mailbox.id }, messageId, subject: message.subject }
  }
  return out
}

/** The item a step not yet queued would get, as a `sent` completion of the step before enqueues it. */
function followUp(
  campaign: Campaign,
  lead: Lead,
  step: number,
  previous: { item: QueueItem; messageId: string; subject: string } | null,
): QueueItem {
  const at = new Date(0)
  return {
    id: `preview-${step}`,
    campaignId: campaign.id,
    leadId: lead.id,
    step,
    status: 'pending',
    scheduledAt: at,
    attempts: 0,
    mailboxId: previous?.item.mailboxId ?? null,
    windowKey: '',
    references: previous ? previous.item.references.concat(previous.messageId) : [],
    messageId: null,
    threadSubject: previous ? (previous.item.threadSubject ?? previous.subject) : null,
    variantId: null,
    leaseToken: null,
    leaseUntil: null,
    lastError: null,
    sentAt: null,
    createdAt: at,
    updatedAt: at,
  }
}

/** The item's mailbox, or for an unassigned first email the next of the rotation. */
function mailboxOf(campaign: Campaign, byId: Map<string, Mailbox>, mailboxId: string | null): Mailbox {
  const assigned = mailboxId === null ? undefined : byId.get(mailboxId)
  if (assigned) return assigned
  const ids = campaign.mailboxIds
  const last = campaign.lastMailboxId === null ? -1 : ids.indexOf(campaign.lastMailboxId)
  for (let i = 1; i <= ids.length; i++) {
    const mailbox = byId.get(ids[(last + i) % ids.length] as string)
    if (mailbox) return mailbox
  }
  throw new MailcadenceError('invalid-state', `campaign ${campaign.id} has none of its mailboxes`)
}

async function findLead(options: ResolvedOptions, campaignId: string, who: PreviewLead): Promise<Lead> {
  checkObject('lead', who)
  let lead: Lead | null | undefined
  if ('email' in who) {
    const problem = emailProblem(who.email)
    if (problem) throw invalidInput('lead.email', problem)
    lead = await options.store.getLead(campaignId, emailKey(who.email))
  } else if ('leadId' in who) {
    const id = checkId('lead.leadId', who.leadId)
    lead = (await options.store.listLeads(campaignId)).find((l) => l.id === id)
  } else {
    throw invalidInput('lead', 'must be { email } or { leadId }')
  }
  if (!lead) {
    const what = 'email' in who ? quote(who.email) : `id ${quote(String(who.leadId))}`
    throw new MailcadenceError('not-found', `lead: no lead ${what} in campaign ${quote(campaignId)}`, {
      field: 'lead',
    })
  }
  return lead
}
