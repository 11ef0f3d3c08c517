import { INPUT_LIMITS } from '../model/limits.js'
import type { Campaign, Lead, Mailbox, QueueItem, Step } from '../model/types.js'
import { emailKey, leadValues } from '../model/validate.js'
import type { OutgoingMessage } from '../transport.js'
import { parsedSpintax, spin, spinSeed } from './spintax.js'
import { type RenderOptions, renderParts } from './template.js'
import { type UnsubscribeTarget, unsubscribeHeader } from './unsubscribe.js'
import { stepContent, variantFor } from './variants.js'

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
 * Whose email a text is spun for: the campaign, the lead's key (its `emailKey`) and the variant
 * the step sends (null: the step's own content). Absent: the seed of campaign '' and the lead's
 * address (a migration plan renders subjects before the campaign exists).
 */
export interface SpinContext {
  campaignId: string
  leadKey: string
  variantId: string | null
}

/**
 * Fills one field of a step for a lead: spintax first (seeded by campaign, lead, step and field),
 * then the variables, so a lead's own data is never spun.
 */
export function renderField(
  template: string,
  values: Readonly<Record<string, string | null | undefined>>,
  seed: { context: SpinContext; step: number; field: 'subject' | 'text' | 'html' },
  options: RenderOptions = {},
): string {
  const { campaignId, leadKey } = seed.context
  const parts = spin(parsedSpintax(template), spinSeed(campaignId, leadKey, seed.step, seed.field))
  return renderParts(parts, values, options)
}

function contextOf(values: Record<string, string | null>, context?: SpinContext): SpinContext {
  return context ?? { campaignId: '', leadKey: (values.email ?? '').trim().toLowerCase(), variantId: null }
}

/**
 * The subject a step sends to a lead: its own (or its variant's), or `Re: <thread subject>` for a
 * follow-up. From its parts: the steps, the lead's values, the step, its thread's subject and
 * whose email it is (for spintax and variants).
 */
export function stepSubject(
  steps: readonly Step[],
  values: Record<string, string | null>,
  step: number,
  threadSubject: string | null,
  context?: SpinContext,
): string {
  const ctx = contextOf(values, context)
  const current = steps[step]
  const own = current ? stepContent(current, ctx.variantId).subject : undefined
  if (own !== undefined) {
    return clampSubject(headerSafe(renderField(own, values, { context: ctx, step, field: 'subject' })))
  }
  return clampSubject(replySubject(threadSubject ?? firstSubject(steps, values, ctx)))
}

/** `Re: <subject>`, folded for a header, once (a subject already starting with `Re:` is kept). */
function replySubject(subject: string): string {
  const base = headerSafe(subject)
  return /^re:/i.test(base) ? base : `Re: ${base}`
}

/** Step 0's subject for the lead (its weighted or winning variant), for a thread not yet started. */
function firstSubject(
  steps: readonly Step[],
  values: Record<string, string | null>,
  ctx: SpinContext,
): string {
  const first = steps[0]
  if (!first) return ''
  const variantId = variantFor(first, null, ctx.campaignId, ctx.leadKey, 0)
  const subject = stepContent(first, variantId).subject ?? ''
  return renderField(subject, values, { context: { ...ctx, variantId }, step: 0, field: 'subject' })
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
  const leadKey = emailKey(lead.email)
  const variantId = variantFor(step, item.variantId ?? null, campaign.id, leadKey, item.step)
  const context: SpinContext = { campaignId: campaign.id, leadKey, variantId }
  const content = stepContent(step, variantId)
  const fullName = [lead.firstName, lead.lastName].filter(Boolean).join(' ')
  const message: OutgoingMessage = {
    from: { name: mailbox.name ? headerSafe(mailbox.name) : null, address: mailbox.email },
    to: { name: fullName ? headerSafe(fullName) : null, address: lead.email },
    subject: stepSubject(campaign.steps, values, item.step, item.threadSubject, context),
    messageId: item.messageId,
    references: item.references.slice(),
    headers: {},
  }
  // The message's own variables, after the lead's (which may not override them). Bodies only:
  // template validation keeps them out of subjects.
  const bodyValues = { ...values, unsubscribeUrl: unsubscribe?.url ?? null }
  const at = { context, step: item.step }
  if (content.text !== undefined)
    message.text = renderField(content.text, bodyValues, { ...at, field: 'text' })
  if (content.html !== undefined) {
    message.html = renderField(content.html, bodyValues, { ...at, field: 'html' }, { html: true })
  }
  const previous = item.references.at(-1)
  if (previous) message.inReplyTo = previous
  if (unsubscribe) {
    message.headers['List-Unsubscribe'] = unsubscribe.value
    message.headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click'
  }
  return message
}
