import { INPUT_LIMITS } from '../model/limits.js'
import type { Campaign, Lead, Mailbox, QueueItem, Step } from '../model/types.js'
import { leadValues } from '../model/validate.js'
import type { OutgoingMessage } from '../transport.js'
import { renderTemplate } from './template.js'
import { type UnsubscribeTarget, unsubscribeHeader } from './unsubscribe.js'

export type { UnsubscribeTarget } from './unsubscribe.js'

/**
 * Host hook: the one-click unsubscribe URL (RFC 8058) for a lead (an absolute `https:` URL, ASCII
 * or percent-encoded), optionally with a `mailto:` beside it, or null for none. Called once per
 * email; its answer fills `List-Unsubscribe` and `{{unsubscribeUrl}}` in the step's text and html.
 */
export type UnsubscribeUrl = (lead: Lead, campaign: Campaign) => UnsubscribeTarget | null | undefined

/**
 * Folds control characters and Unicode line separators into a space, so nothing can break a header
 * line whatever a lead's data holds (defence in depth: input is checked at the door too).
 */
export function headerSafe(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim()
}

/** A Message-ID on the sending mailbox's domain, so replies and bounces can be matched to it. */
export function makeMessageId(mailboxEmail: string, unique: string): string {
  // join, not a template: `+` and templates make a rope of their pieces (and randomUUID's string is
  // itself a rope of twenty), while join copies them into one flat string. A store may keep every
  // Message-ID for the life of its campaign (items, threads, the send log), and a rope costs
  // several times the memory, all of it for the garbage collector to trace.
  return ['<', unique, '@', domainOf(mailboxEmail), '>'].join('')
}

const domains = new Map<string, string>()
/** The lower-cased domain of an address, remembered: it is asked for every candidate of every send. */
export function domainOf(email: string): string {
  let domain = domains.get(email)
  if (domain === undefined) {
    domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase()
    if (domains.size > 10_000) domains.clear()
    domains.set(email, domain)
  }
  return domain
}

/**
 * The subject a step sends to a lead: its own, or `Re: <thread subject>` for a follow-up. From its
 * parts: the steps, the lead's values, the step and its thread's subject.
 */
export function stepSubject(
  steps: readonly Step[],
  values: Record<string, string | null>,
  step: number,
  threadSubject: string | null,
): string {
  const own = steps[step]?.subject
  if (own !== undefined) return clampSubject(headerSafe(renderTemplate(own, values)))
  const base = headerSafe(threadSubject ?? renderTemplate(steps[0]?.subject ?? '', values))
  return clampSubject(/^re:/i.test(base) ? base : `Re: ${base}`)
}

/** A rendered subject cut to `INPUT_LIMITS.renderedSubjectLength`, never inside a surrogate pair. */
function clampSubject(subject: string): string {
  if (subject.length <= INPUT_LIMITS.renderedSubjectLength) return subject
  const cut = subject.slice(0, INPUT_LIMITS.renderedSubjectLength)
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut
}

/**
 * Builds the email one queue item sends: rendered templates, From, threading headers, unsubscribe.
 * Throws an `invalid-input` error naming `unsubscribeUrl` when the hook answers an unusable URL.
 */
export function buildMessage(input: {
  campaign: Campaign
  mailbox: Mailbox
  lead: Lead
  item: QueueItem & { messageId: string }
  unsubscribeUrl?: UnsubscribeUrl | undefined
}): OutgoingMessage {
  const { campaign, mailbox, lead, item } = input
  const step = campaign.steps[item.step]
  if (!step) throw new Error(`campaign ${campaign.id} has no step ${item.step}`)
  const unsubscribe = unsubscribeHeader(input.unsubscribeUrl?.(lead, campaign))
  const values = leadValues(lead)
  const fullName = [lead.firstName, lead.lastName].filter(Boolean).join(' ')
  const message: OutgoingMessage = {
    from: { name: mailbox.name ? headerSafe(mailbox.name) : null, address: mailbox.email },
    to: { name: fullName ? headerSafe(fullName) : null, address: lead.email },
    subject: stepSubject(campaign.steps, values, item.step, item.threadSubject),
    messageId: item.messageId,
    references: item.references.slice(),
    headers: {},
  }
  // The message's own variables, after the lead's (which may not override them). Bodies only:
  // template validation keeps them out of subjects.
  const bodyValues = { ...values, unsubscribeUrl: unsubscribe?.url ?? null }
  if (step.text !== undefined) message.text = renderTemplate(step.text, bodyValues)
  if (step.html !== undefined) message.html = renderTemplate(step.html, bodyValues, { html: true })
  const previous = item.references.at(-1)
  if (previous) message.inReplyTo = previous
  if (unsubscribe) {
    message.headers['List-Unsubscribe'] = unsubscribe.value
    message.headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click'
  }
  return message
}
