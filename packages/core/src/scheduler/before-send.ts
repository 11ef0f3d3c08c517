/**
 * The host's say before a send (`beforeSend`): send, veto, or "it already left" (recorded as sent
 * then). Split from deliver.ts, which calls it with the delivery's recording context.
 */
import type { Campaign } from '../model/types.js'
import { retryAt } from '../policy/backoff.js'
import { dayKey, windowDayKey } from '../policy/calendar.js'
import { nextStepAfter } from '../policy/sequence.js'
import type { Completion } from '../store.js'
import type { Delivered, Recording } from './deliver.js'
import { ALREADY_SENT, VETOED } from './events.js'
import type { AlreadySent, BeforeSendVerdict, ResolvedOptions } from './options.js'
import { TIMED_OUT } from './send-timeout.js'

/**
 * The host's veto (`beforeSend`): 'send', or what was done instead. A plain veto cancels the
 * item; `alreadySent` records it as sent then and there and the sequence goes on from it. Either
 * way the reservation's pacing slot is given back (nothing left now). A hook that throws, or
 * answers something unusable, leaves it for later without spending an attempt, since the lead is
 * not at fault and sending unchecked could mail someone twice.
 */
export async function askBeforeSend(
  r: Recording,
  beforeSend: NonNullable<ResolvedOptions['beforeSend']>,
  subject: string,
): Promise<'send' | Delivered> {
  const { input, base, refund, eventBase, leaseLost } = r
  const { options, campaign, mailbox, send, complete } = input
  const { clock, emit, logger } = options
  const { item, lead } = send
  const { messageId } = eventBase
  let verdict: BeforeSendVerdict
  let problem: string | null
  try {
    // A hook that never answers is bounded like a send: nothing has left, so it is retried later.
    const answer = await input.sendWithin(
      item.id,
      Promise.resolve().then(() =>
        beforeSend({ campaign, lead, mailbox, step: item.step, to: lead.email, subject, messageId }),
      ),
    )
    verdict = answer === TIMED_OUT ? undefined : answer
    problem =
      answer === TIMED_OUT
        ? `beforeSend did not answer within sendTimeout (${options.sendTimeout} ms)`
        : verdictProblem(verdict, campaign, clock.now())
  } catch (error) {
    verdict = undefined
    problem = `beforeSend failed: ${error instanceof Error ? error.message : String(error)}`
  }
  if (problem !== null) {
    const now = clock.now()
    const due = retryAt(now, 1, options.retry, options.random)
    const outcome = await complete({
      ...base,
      kind: 'retry',
      retryAt: due,
      attempts: item.attempts,
      error: problem,
      refund,
    })
    if (outcome === 'lease-lost') return leaseLost()
    emit({ type: 'retried', at: now, ...eventBase, error: problem, retryAt: due, attempts: item.attempts })
    logger.warn(
      { ...eventBase, error: problem, retryAt: due },
      'beforeSend threw or answered badly; will retry',
    )
    return { outcome: 'retried', nextAt: due }
  }
  const slot = { nextSlotAt: input.reservedSlot }
  if (typeof verdict === 'object' && verdict !== null)
    return recordAlreadySent(r, verdict.alreadySent, slot, subject)
  if (verdict !== false) return 'send'
  const outcome = await complete({
    ...base,
    kind: 'cancelled',
    reason: VETOED,
    refund: { ...refund, ...slot },
  })
  if (outcome === 'lease-lost') return leaseLost()
  emit({ type: 'vetoed', at: clock.now(), ...eventBase, to: lead.email, reason: VETOED })
  logger.info({ ...eventBase, to: lead.email }, 'vetoed by beforeSend: skipped, already sent')
  return { outcome: 'vetoed', nextAt: null }
}

/**
 * `beforeSend` answered that the email already left (another system sent it at `sentAt`): it is
 * recorded as sent then, from that mailbox, and the next step is due `delayDays` after it. Day
 * counts the reservation took stay only where the send falls on the same day (and, for the
 * mailbox's, left from the reserved mailbox): a send of an earlier day is not counted today.
 */
async function recordAlreadySent(
  r: Recording,
  sent: AlreadySent,
  slot: { nextSlotAt?: Date },
  subject: string,
): Promise<Delivered> {
  const { input, base, eventBase, leaseLost } = r
  const { options, campaign, mailbox, send, complete } = input
  const { clock, emit, logger } = options
  const { item, lead } = send
  const { messageId } = eventBase
  const from = sent.mailboxId ?? mailbox.id
  // In its leads' hours the campaign counts the calendar days of its zone (KeyCalendars.campaignDayKey).
  const sentDay =
    campaign.windowTimezone === 'lead'
      ? dayKey(sent.sentAt, campaign.timezone)
      : (windowDayKey(campaign, sent.sentAt) ?? dayKey(sent.sentAt, campaign.timezone))
  const sameCampaignDay = sentDay === send.campaignDayKey
  const sameMailboxDay = from === mailbox.id && dayKey(sent.sentAt, mailbox.timezone) === send.mailboxDayKey
  const completion: Extract<Completion, { kind: 'sent' }> = {
    ...base,
    kind: 'sent',
    messageId: sent.messageId ?? messageId,
    subject,
    to: lead.email,
    sentAt: sent.sentAt,
    refund: {
      ...(sameCampaignDay ? {} : { campaignDayKey: send.campaignDayKey }),
      ...(sameMailboxDay ? {} : { mailboxId: mailbox.id, mailboxDayKey: send.mailboxDayKey }),
      ...slot,
    },
  }
  if (from !== mailbox.id) completion.mailboxId = from
  const next = nextStepAfter(campaign.steps, item.step, sent.sentAt)
  if (next) completion.next = next
  const outcome = await complete(completion)
  if (outcome === 'lease-lost') return leaseLost()
  const at = clock.now()
  emit({ type: 'vetoed', at, ...eventBase, to: lead.email, reason: ALREADY_SENT, sentAt: sent.sentAt })
  logger.info({ ...eventBase, to: lead.email, sentAt: sent.sentAt }, 'beforeSend: already sent, recorded')
  return { outcome: 'vetoed', nextAt: completion.next?.scheduledAt ?? null }
}

/** Why a `beforeSend` answer cannot be used, or null. */
function verdictProblem(verdict: unknown, campaign: Campaign, now: Date): string | null {
  // Anything but an object keeps its old meaning: `false` vetoes, any other value sends.
  if (typeof verdict !== 'object' || verdict === null) return null
  const sent = (verdict as { alreadySent?: Partial<AlreadySent> }).alreadySent
  if (typeof sent !== 'object' || sent === null) return 'beforeSend answered an object without alreadySent'
  if (!(sent.sentAt instanceof Date) || Number.isNaN(sent.sentAt.getTime()) || sent.sentAt > now)
    return 'beforeSend: alreadySent.sentAt must be a valid Date, not later than now'
  if (
    sent.messageId !== undefined &&
    (typeof sent.messageId !== 'string' || !/^<[^<>\s]+>$/.test(sent.messageId))
  )
    return 'beforeSend: alreadySent.messageId must be a Message-ID like <id@host>'
  if (sent.mailboxId !== undefined && !campaign.mailboxIds.includes(sent.mailboxId))
    return "beforeSend: alreadySent.mailboxId must be one of the campaign's mailboxes"
  return null
}
