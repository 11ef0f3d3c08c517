/**
 * Applying what comes back from the inbox: `scheduler.applyInbound` and the inbox cursors. The
 * message is matched to one of our sends by the Message-IDs it links to, then acted on once per
 * inbound Message-ID (the store records it after the actions, which are all idempotent, so a
 * crash between the two repeats nothing harmful and a second call reports `duplicate`). An
 * unmatched message is not recorded: it did nothing, and a bounce or out-of-office that arrived
 * before its send was written down matches when it is ingested again.
 */
import { invalidInput, MailcadenceError } from '../errors.js'
import { checkArray, checkId, checkInteger, checkObject, checkText } from '../model/checks.js'
import { describeValue } from '../model/describe.js'
import { INPUT_LIMITS } from '../model/limits.js'
import type { Campaign } from '../model/types.js'
import { emailKey } from '../model/validate.js'
import { dayOfKey } from '../policy/calendar.js'
import { domainOf, isFreeMailDomain } from '../policy/free-mail.js'
import { outOfOfficeResumeAt } from '../policy/out-of-office.js'
import { type KeyCalendars, windowKeyOf } from '../policy/zones.js'
import type { ResolvedOptions } from '../scheduler/options.js'
import type { InboxCursor, InboxStore, SentMessage, Store } from '../store.js'
import { supportsInbox } from '../store-kit/index.js'
import {
  type ApplyInboundOptions,
  INBOUND_KINDS,
  type InboundAction,
  type InboundKind,
  type InboundMessage,
  type InboundResult,
} from './types.js'

/** Linked Message-IDs looked up per message: a References header rarely holds more than 20. */
const MAX_LINKED = 100
/**
 * Longest linked Message-ID looked up: a header line's limit (RFC 5322). Ours reach about 290
 * characters (`<uuid@domain>` on a 253-character domain), past the limit for ids given to the API.
 */
const LINKED_ID_MAX = 998
/** Latest an out-of-office answer may move a lead: a year after now (a typo'd year waits no longer). */
const MAX_POSTPONE_MS = 365 * 86_400_000
/** Folder names of an inbox cursor (IMAP names are short; MariaDB keys them in 64 KB). */
const FOLDER_LENGTH = 255
const UID_MAX = 4_294_967_295

interface Checked {
  messageId: string
  kind: InboundKind
  linked: string[]
  returnDate: string | null
  hardBounce: boolean
}

/** Checks an `InboundMessage` when it enters; throws `invalid-input` naming the field. */
export function checkInbound(message: unknown): Checked {
  const m = checkObject('message', message)
  const messageId = checkText('message.messageId', m.messageId, INPUT_LIMITS.messageIdLength, {
    nonEmpty: true,
    singleLine: true,
  })
  const kind = m.kind as InboundKind
  if (!INBOUND_KINDS.includes(kind))
    throw invalidInput(
      'message.kind',
      `must be one of ${INBOUND_KINDS.join(', ')}, got ${describeValue(m.kind)}`,
    )
  // Any length: only the first MAX_LINKED usable ids are kept (a long References chain is no error).
  const linkedIn = checkArray('message.linkedMessageIds', m.linkedMessageIds, Number.POSITIVE_INFINITY)
  const linked: string[] = []
  for (let i = 0; i < linkedIn.length && linked.length < MAX_LINKED; i++) {
    const id = linkedIn[i]
    if (typeof id !== 'string') throw invalidInput(`message.linkedMessageIds[${i}]`, 'must be a string')
    // Longer ones are none of ours: skip them rather than refuse the message.
    if (id.length > 0 && id.length <= LINKED_ID_MAX) linked.push(id)
  }
  let returnDate: string | null = null
  if (m.returnDate !== undefined && m.returnDate !== null) {
    if (typeof m.returnDate !== 'string' || dayOfKey(m.returnDate) === null)
      throw invalidInput(
        'message.returnDate',
        `must be a date written YYYY-MM-DD, got ${describeValue(m.returnDate)}`,
      )
    returnDate = m.returnDate
  }
  let hardBounce = m.severity === 'hard'
  if (m.severity !== undefined && m.severity !== 'hard' && m.severity !== 'soft')
    throw invalidInput('message.severity', `must be 'hard' or 'soft', got ${describeValue(m.severity)}`)
  if (m.recipients !== undefined) {
    const recipients = checkArray('message.recipients', m.recipients, 10_000)
    recipients.forEach((r, i) => {
      const severity = checkObject(`message.recipients[${i}]`, r).severity
      if (severity !== 'hard' && severity !== 'soft')
        throw invalidInput(
          `message.recipients[${i}].severity`,
          `must be 'hard' or 'soft', got ${describeValue(severity)}`,
        )
      if (m.severity === undefined && severity === 'hard') hardBounce = true
    })
  }
  return { messageId, kind, linked, returnDate, hardBounce }
}

/** The store's inbox capability, or `invalid-state`. */
function inboxOf(store: Store): Store & InboxStore {
  if (!supportsInbox(store))
    throw new MailcadenceError(
      'invalid-state',
      'the store has no inbox methods (InboxStore): it cannot read inbound mail',
    )
  return store
}

/** The send the message refers to: the one carrying its most specific linked Message-ID. */
function bestMatch(linked: readonly string[], found: readonly SentMessage[]): SentMessage | null {
  for (const id of linked) {
    const match = found.find((f) => f.send.messageId === id)
    if (match !== undefined) return match
  }
  return null
}

export interface Inbound {
  applyInbound(message: InboundMessage, options?: ApplyInboundOptions): Promise<InboundResult>
  getInboxCursor(mailboxId: string, folder: string): Promise<InboxCursor | null>
  saveInboxCursor(mailboxId: string, folder: string, cursor: InboxCursor): Promise<void>
}

export function createInbound(options: ResolvedOptions, calendars: KeyCalendars): Inbound {
  const { clock, emit, logger } = options

  /** The actions for a matched message, done in the store; each is idempotent. */
  async function act(
    store: Store & InboxStore,
    m: Checked,
    match: SentMessage,
    campaign: Campaign | null,
  ): Promise<InboundAction[]> {
    const now = clock.now()
    const { lead } = match
    const key = emailKey(lead.email)
    const stopped = (status: 'replied' | 'bounced', cancelled: number): InboundAction => ({
      type: 'stopped',
      campaignId: lead.campaignId,
      leadId: lead.id,
      email: lead.email,
      status,
      cancelled,
    })
    const suppress = async (reason: 'bounce' | 'complaint' | 'unsubscribe'): Promise<InboundAction> => {
      const { cancelled } = await store.suppress(key, reason, now)
      return { type: 'suppressed', email: lead.email, reason, cancelled }
    }
    switch (m.kind) {
      case 'reply': {
        const result = await store.stopLead(lead.campaignId, key, 'replied', 'lead replied', now)
        const actions: InboundAction[] = [stopped('replied', result?.cancelled ?? 0)]
        const domain = domainOf(key)
        if (campaign?.stopOnReply === 'domain' && domain !== '' && !isFreeMailDomain(domain)) {
          const reason = `a lead at ${domain} replied`
          const others = await store.stopLeadsOfDomain(lead.campaignId, domain, 'completed', reason, now)
          if (others.leads.length > 0)
            actions.push({
              type: 'domain-stopped',
              campaignId: lead.campaignId,
              domain,
              leads: others.leads.map((l) => ({ leadId: l.id, email: l.email })),
              cancelled: others.cancelled,
            })
        }
        return actions
      }
      case 'out-of-office':
        return [await postpone(store, m, match, campaign, now)]
      case 'bounce': {
        if (!m.hardBounce) return [{ type: 'recorded', reason: 'soft bounce' }]
        const result = await store.stopLead(lead.campaignId, key, 'bounced', 'bounced', now)
        const actions = [stopped('bounced', result?.cancelled ?? 0), await suppress('bounce')]
        // For the bounce-rate guards of the send's mailbox and campaign (once per send).
        await options.guards.countReported('bounces', match.send)
        return actions
      }
      case 'complaint': {
        const actions = [await suppress('complaint')]
        // For the complaint-rate guards of the send's mailbox and campaign (once per send).
        await options.guards.countReported('complaints', match.send)
        return actions
      }
      case 'unsubscribe':
        return [await suppress('unsubscribe')]
      default:
        return [{ type: 'recorded', reason: m.kind }]
    }
  }

  /** Out of office: the lead's next email waits until the morning after the return date. */
  async function postpone(
    store: Store & InboxStore,
    m: Checked,
    match: SentMessage,
    campaign: Campaign | null,
    now: Date,
  ): Promise<InboundAction> {
    const { lead } = match
    let until: Date
    if (m.returnDate !== null && campaign !== null) {
      const spec = calendars.specFor(campaign, windowKeyOf(lead), now)
      until = outOfOfficeResumeAt(m.returnDate, spec, now)
    } else {
      until = new Date(now.getTime() + options.outOfOfficeDelay)
    }
    until = new Date(Math.min(until.getTime(), now.getTime() + MAX_POSTPONE_MS))
    const item = await store.postponeLead(lead.campaignId, emailKey(lead.email), until, now)
    // A store may hand back an item reserved meanwhile (see `postponeLead`): that one goes out now.
    const moved = item !== null && item.status === 'pending' && item.scheduledAt.getTime() >= until.getTime()
    if (!moved) return { type: 'recorded', reason: 'out-of-office: nothing pending' }
    return {
      type: 'postponed',
      campaignId: lead.campaignId,
      leadId: lead.id,
      itemId: item.id,
      step: item.step,
      scheduledAt: item.scheduledAt,
    }
  }

  async function applyInbound(
    message: InboundMessage,
    opts: ApplyInboundOptions = {},
  ): Promise<InboundResult> {
    const m = checkInbound(message)
    checkObject('options', opts)
    const mailboxId = opts.mailboxId === undefined ? undefined : checkId('mailboxId', opts.mailboxId)
    const store = inboxOf(options.store)
    const base = { messageId: m.messageId, kind: m.kind }
    const seen = await store.getInbound(m.messageId)
    if (seen !== null) return duplicate(base, seen.campaignId, seen.leadId)

    const found = m.linked.length > 0 ? await store.findSentByMessageIds(m.linked) : []
    const match = bestMatch(m.linked, found)
    const where = mailboxId === undefined ? {} : { mailboxId }
    if (match === null) return unmatched(base, where)
    const campaign = await store.getCampaign(match.lead.campaignId)
    const actions = await act(store, m, match, campaign)
    const record = { ...base, campaignId: match.lead.campaignId, leadId: match.lead.id }
    // A concurrent call applied it first: its actions and ours are the same, its events are out.
    if (!(await store.recordInbound(record, clock.now())))
      return duplicate(base, record.campaignId, record.leadId)

    const at = clock.now()
    for (const action of actions) emit({ type: 'inbound', at, ...base, ...where, action })
    logger.info({ ...base, ...where, matched: true, actions: actions.length }, 'inbound message applied')
    return {
      ...base,
      status: 'applied',
      matched: true,
      campaignId: record.campaignId,
      leadId: record.leadId,
      email: match.lead.email,
      matchedMessageId: match.send.messageId,
      actions,
    }
  }

  /** Linked to nothing we sent (yet): reported, not recorded, so a later ingest may still match it. */
  function unmatched(
    base: { messageId: string; kind: InboundKind },
    where: { mailboxId?: string },
  ): InboundResult {
    emit({ type: 'inbound-unmatched', at: clock.now(), ...base, ...where })
    logger.info({ ...base, ...where, matched: false, actions: 0 }, 'inbound message unmatched')
    return {
      ...base,
      status: 'unmatched',
      matched: false,
      campaignId: null,
      leadId: null,
      email: null,
      matchedMessageId: null,
      actions: [],
    }
  }

  return {
    applyInbound,
    async getInboxCursor(mailboxId, folder) {
      checkId('mailboxId', mailboxId)
      checkText('folder', folder, FOLDER_LENGTH, { nonEmpty: true, singleLine: true })
      return inboxOf(options.store).getInboxCursor(mailboxId, folder)
    },
    async saveInboxCursor(mailboxId, folder, cursor) {
      checkId('mailboxId', mailboxId)
      checkText('folder', folder, FOLDER_LENGTH, { nonEmpty: true, singleLine: true })
      const c = checkObject('cursor', cursor)
      const uidValidity = checkText('cursor.uidValidity', c.uidValidity, 20, { nonEmpty: true })
      if (!/^[0-9]+$/.test(uidValidity))
        throw invalidInput('cursor.uidValidity', `must be decimal digits, got ${describeValue(uidValidity)}`)
      const lastUid = checkInteger('cursor.lastUid', c.lastUid, 0, UID_MAX)
      await inboxOf(options.store).saveInboxCursor(mailboxId, folder, { uidValidity, lastUid }, clock.now())
    },
  }
}

function duplicate(
  base: { messageId: string; kind: InboundKind },
  campaignId: string | null,
  leadId: string | null,
): InboundResult {
  return {
    ...base,
    status: 'duplicate',
    matched: campaignId !== null,
    campaignId,
    leadId,
    email: null,
    matchedMessageId: null,
    actions: [],
  }
}
