/**
 * The effectful middle of a send: build the message, hand it to the transport, classify what
 * happened and record it. Runs with no store transaction open.
 */
import { isMailcadenceError } from '../errors.js'
import { buildMessage } from '../message/build.js'
import { variantFor } from '../message/variants.js'
import type { Campaign, Mailbox } from '../model/types.js'
import { emailKey } from '../model/validate.js'
import { retryAt } from '../policy/backoff.js'
import { classifySendError, type SendFailure } from '../policy/classify.js'
import { addMs } from '../policy/instant.js'
import { nextStepAfter } from '../policy/sequence.js'
import type { Completion, CompletionOutcome, ReservedSend } from '../store.js'
import { askBeforeSend } from './before-send.js'
import type { SchedulerEvent } from './events.js'
import type { ResolvedOptions } from './options.js'
import { TIMED_OUT } from './send-timeout.js'

/** `lastError` of a send given up at `sendTimeout`: interrupted, as lease recovery says, and why. */
export const SEND_TIMED_OUT = 'interrupted: send timed out'

export type Delivered = {
  outcome: 'sent' | 'failed' | 'retried' | 'vetoed' | 'lease-expired' | 'lease-lost'
  /** When the item (retried) or the lead's next step (sent) is due, if it was put back in the queue. */
  nextAt: Date | null
}

type Complete = (completion: Completion) => Promise<CompletionOutcome>

export interface DeliverInput {
  options: ResolvedOptions
  campaign: Campaign
  mailbox: Mailbox
  send: ReservedSend
  /** The pacing slot this reservation set: a veto gives it back (compare-and-set on it), since no mail left. */
  reservedSlot: Date
  complete: Complete
  /**
   * The same as `complete`, in a store call of its own: used after `complete` was refused, so
   * that a completion batched with the one at fault is not refused with it.
   */
  completeAlone: Complete
  /** Waits for the transport call, at most `sendTimeout`: then {@link TIMED_OUT}. */
  sendWithin: <T>(itemId: string, call: Promise<T>) => Promise<T | typeof TIMED_OUT>
  /** Called as soon as the transport is done with the email (or it could not be built), before recording. */
  onTransportDone: () => void
  onMailboxPaused: (mailbox: Mailbox) => void
}

/** What recording a delivery's outcome needs, besides the input. */
export interface Recording {
  input: DeliverInput
  base: { itemId: string; leaseToken: string; variantId?: string | null }
  refund: NonNullable<Completion['refund']>
  eventBase: Omit<Extract<SchedulerEvent, { type: 'failed' }>, 'type' | 'at' | 'error' | 'bounced'>
  leaseLost: () => Delivered
}

/** What a reservation took from the day counts, to give back when no mail left (`Completion.refund`). */
export function reservationRefund(send: ReservedSend, mailboxId: string): NonNullable<Completion['refund']> {
  return { campaignDayKey: send.campaignDayKey, mailboxId, mailboxDayKey: send.mailboxDayKey }
}

export async function deliver(input: DeliverInput): Promise<Delivered> {
  const { options, campaign, mailbox, send, complete } = input
  const { clock, emit, logger } = options
  const { item, lead } = send
  // The variant is chosen here, on the item's first reservation, and every completion writes it on
  // the item (the store keeps the first), so a retry sends the same one even after a winner.
  const variantId = variantFor(
    campaign.steps[item.step],
    item.variantId ?? null,
    campaign.id,
    emailKey(lead.email),
    item.step,
  )
  // Written out rather than spread in, for the same reason as recordSent's objects.
  const base: Recording['base'] = { itemId: item.id, leaseToken: item.leaseToken ?? '' }
  if (variantId !== null) base.variantId = variantId
  const refund = reservationRefund(send, mailbox.id)
  const messageId = item.messageId ?? ''
  const eventBase = {
    campaignId: campaign.id,
    leadId: lead.id,
    itemId: item.id,
    step: item.step,
    mailboxId: mailbox.id,
    messageId,
  }

  // Waiting for a send slot (concurrency) may outlast the lease: then recovery may already own the
  // item, so give it back untouched rather than send under an expired lease.
  if (!item.leaseUntil || item.leaseUntil.getTime() <= clock.now().getTime()) {
    await complete({
      ...base,
      kind: 'retry',
      retryAt: clock.now(),
      attempts: item.attempts,
      error: 'lease expired before sending',
      refund,
      unassignMailbox: item.references.length === 0,
    })
    return { outcome: 'lease-expired', nextAt: clock.now() }
  }

  if (sendsWithoutMessage(options)) {
    // No message to build nor transport to call: the send is recorded as any shadow send is.
    input.onTransportDone()
    return recordSent({ input, base, refund, eventBase, leaseLost }, '')
  }

  let failure: SendFailure | null = null
  let subject = ''
  // The transport call, when the wait for it was given up at the send timeout.
  let givenUp: Promise<unknown> | null = null
  try {
    const message = buildMessage({
      campaign,
      mailbox,
      lead,
      item: { ...item, messageId, variantId },
      unsubscribeUrl: options.unsubscribeUrl,
    })
    subject = message.subject
    if (options.beforeSend) {
      const recording: Recording = { input, base, refund, eventBase, leaseLost }
      const verdict = await askBeforeSend(recording, options.beforeSend, message.subject)
      if (verdict !== 'send') return verdict
    }
    const call = options.transport.send(message, {
      now: clock.now(),
      mailbox,
      campaignId: campaign.id,
      leadId: lead.id,
      step: item.step,
      itemId: item.id,
    })
    if ((await input.sendWithin(item.id, call)) === TIMED_OUT) givenUp = call
  } catch (error) {
    failure = classifySendError(error)
  }
  input.onTransportDone()
  const recording: Recording = { input, base, refund, eventBase, leaseLost }
  if (givenUp) return recordTimedOut(recording, givenUp)
  const delivered = failure ? await recordFailure(recording, failure) : await recordSent(recording, subject)
  // The guards count what the server answered (scheduler/guards.ts); they never throw.
  await options.guards.afterSend({
    mailbox,
    campaignId: campaign.id,
    failure,
    onMailboxPaused: input.onMailboxPaused,
  })
  return delivered

  function leaseLost(): Delivered {
    emit({ type: 'lease-lost', at: clock.now(), campaignId: campaign.id, itemId: item.id })
    logger.warn({ ...eventBase }, 'completion refused: the lease was lost (recovery took the item over)')
    return { outcome: 'lease-lost', nextAt: null }
  }
}

/**
 * Whether a send skips building its message and calling the transport: only in shadow mode with
 * `ResolvedOptions.shadowWithoutMessage` (the forecast's simulation) and no hook that reads the
 * message or may refuse it (`beforeSend`, `unsubscribeUrl`), so the outcome is the one a built
 * message would have had: templates are checked when a campaign is saved, and the shadow transport
 * accepts everything.
 */
function sendsWithoutMessage(options: ResolvedOptions): boolean {
  return (
    options.shadowWithoutMessage === true &&
    options.mode === 'shadow' &&
    options.beforeSend === undefined &&
    options.unsubscribeUrl === undefined
  )
}

/**
 * The email left: recorded `sent`, with the lead's next step due `delayDays` later. A store that
 * refuses this is given simpler records (see {@link recordFirstAccepted}), so that the item never
 * stays `sending`, where `leaseRecovery: 'retry'` would send it again.
 */
async function recordSent(r: Recording, subject: string): Promise<Delivered> {
  const { options, campaign, send } = r.input
  const { clock, emit, logger } = options
  const { item, lead } = send
  const now = clock.now()
  const messageId = r.eventBase.messageId
  // This runs for every email, so its objects are written out field by field: on Node 20 an object
  // literal that adds properties after a spread (`{ ...base, kind }`) takes a slow path, about a
  // microsecond each.
  const completion: Extract<Completion, { kind: 'sent' }> = {
    itemId: item.id,
    leaseToken: r.base.leaseToken,
    kind: 'sent',
    messageId,
    subject,
    to: lead.email,
  }
  if (r.base.variantId != null) completion.variantId = r.base.variantId
  const followUp = nextStepAfter(campaign.steps, item.step, now)
  if (followUp) completion.next = followUp
  // Refused, the same alone; then without the next step (the lead's sequence ends here); then failed.
  const tries: Completion[] = [completion, completion]
  if (completion.next) {
    // A copy then a delete of its last property: both fast paths, where a rest pattern
    // (`{ next, ...rest }`) is a runtime call of about a microsecond, for every first email.
    const withoutNext: Extract<Completion, { kind: 'sent' }> = { ...completion }
    delete withoutNext.next
    tries.push(withoutNext)
  }
  const { outcome, recorded } = await recordFirstAccepted(r, tries, (error) => ({
    ...r.base,
    kind: 'failed',
    error: `sent, but the store refused to record it as sent: ${describe(error)}`,
    attempts: item.attempts + 1,
  }))
  if (outcome === 'lease-lost') return r.leaseLost()
  if (recorded.kind === 'failed') {
    emit({ type: 'failed', at: now, ...r.eventBase, error: recorded.error, bounced: false })
    return { outcome: 'failed', nextAt: null }
  }
  const next = recorded.kind === 'sent' ? recorded.next : undefined
  // eventBase's fields written out again, for the same reason as the completion's.
  const event: Extract<SchedulerEvent, { type: 'sent' }> = {
    type: 'sent',
    at: now,
    campaignId: campaign.id,
    leadId: lead.id,
    itemId: item.id,
    step: item.step,
    mailboxId: r.input.mailbox.id,
    messageId,
    to: lead.email,
    subject,
  }
  if (options.mode === 'shadow') event.shadow = true
  emit(event)
  logger.info(event, 'sent')
  return { outcome: 'sent', nextAt: next?.scheduledAt ?? null }
}

/**
 * Records the first of `completions` the store accepts: the first through the batched `complete`,
 * then, when the store refuses (an error other than `store-unavailable`, which `complete` already
 * retried for seconds), the others in order, each in a store call of its own (a batch-mate may have
 * been the one at fault, so the list usually starts with the first again), then `last(refusal)` if
 * given. Each refusal is logged. Throws the last refusal when every one is refused, or at once when
 * the store is unavailable: the item then stays `sending` for lease recovery.
 */
async function recordFirstAccepted(
  r: Recording,
  completions: readonly Completion[],
  last?: (refusal: unknown) => Completion,
): Promise<{ outcome: CompletionOutcome; recorded: Completion }> {
  const { logger } = r.input.options
  let refusal: unknown
  const count = completions.length + (last ? 1 : 0)
  for (let i = 0; i < count; i++) {
    const attempt = completions[i] ?? last!(refusal)
    try {
      const outcome = await (i === 0 ? r.input.complete : r.input.completeAlone)(attempt)
      if (attempt !== completions[0])
        logger.error({ ...r.eventBase, recordedAs: describeCompletion(attempt) }, 'recorded instead')
      return { outcome, recorded: attempt }
    } catch (error) {
      if (isMailcadenceError(error, 'store-unavailable')) throw error
      refusal = error
      logger.error(
        { ...r.eventBase, err: error, completion: describeCompletion(attempt) },
        'the store refused a completion',
      )
    }
  }
  throw refusal
}

function describeCompletion(c: Completion): string {
  return c.kind === 'sent' && c.next ? 'sent, next step queued' : c.kind
}

/**
 * The transport call was given up at `sendTimeout`. The email may have left, as after a crash
 * mid-send: it is recorded `failed` with {@link SEND_TIMED_OUT} at once, never sent again (also
 * under `leaseRecovery: 'retry'`: the timeout is this process's own finding, not a dead worker's
 * lease). The day counts it took stay taken. A late answer of the call changes nothing but a log line.
 */
async function recordTimedOut(r: Recording, call: Promise<unknown>): Promise<Delivered> {
  const { clock, emit, logger, sendTimeout } = r.input.options
  const now = clock.now()
  const error = SEND_TIMED_OUT
  logger.error(
    { ...r.eventBase, sendTimeout },
    'send timed out: given up and recorded failed (it may have left)',
  )
  call.then(
    () => logger.warn({ ...r.eventBase }, 'a send given up at its timeout went through late'),
    (late: unknown) =>
      logger.warn(
        { ...r.eventBase, error: classifySendError(late).detail },
        'a send given up at its timeout failed late',
      ),
  )
  const failed: Completion = { ...r.base, kind: 'failed', error, attempts: r.input.send.item.attempts + 1 }
  const { outcome } = await recordFirstAccepted(r, [failed, failed])
  if (outcome === 'lease-lost') return r.leaseLost()
  emit({ type: 'failed', at: now, ...r.eventBase, error, bounced: false })
  return { outcome: 'failed', nextAt: null }
}

/** The transport refused the email (or it could not be built): pause the mailbox, retry, or fail. */
async function recordFailure(r: Recording, failure: SendFailure): Promise<Delivered> {
  const { options, mailbox, send, complete } = r.input
  const { clock, store, emit, logger } = options
  const { item, lead } = send
  const { base, refund, eventBase } = r
  const now = clock.now()
  const error = failure.detail
  if (failure.action === 'pause-mailbox') {
    const until = addMs(now, failure.pauseMs)
    const paused = await store.updateMailbox(mailbox.id, { pausedUntil: until, pauseReason: error }, now)
    if (paused) r.input.onMailboxPaused(paused)
    emit({ type: 'mailbox-paused', at: now, mailboxId: mailbox.id, until, reason: error })
    logger.warn({ mailboxId: mailbox.id, until, reason: error }, 'mailbox paused')
    // The mailbox is at fault, not the lead: back to pending without spending an attempt. A first
    // email may leave from another mailbox at once; a follow-up waits for its thread's mailbox.
    const unassignMailbox = item.references.length === 0
    const retryAt = unassignMailbox ? now : until
    const outcome = await complete({
      ...base,
      kind: 'retry',
      retryAt,
      attempts: item.attempts,
      error,
      refund,
      unassignMailbox,
    })
    if (outcome === 'lease-lost') return r.leaseLost()
    emit({ type: 'retried', at: now, ...eventBase, error, retryAt, attempts: item.attempts })
    return { outcome: 'retried', nextAt: retryAt }
  }

  const attempts = item.attempts + 1
  if (failure.action === 'retry' && attempts < options.retry.maxAttempts) {
    const due = retryAt(now, attempts, options.retry, options.random)
    const outcome = await complete({ ...base, kind: 'retry', retryAt: due, attempts, error, refund })
    if (outcome === 'lease-lost') return r.leaseLost()
    emit({ type: 'retried', at: now, ...eventBase, error, retryAt: due, attempts })
    logger.warn({ ...eventBase, error, retryAt: due, attempts }, 'send failed, will retry')
    return { outcome: 'retried', nextAt: due }
  }

  const bounced = failure.action === 'bounce'
  const outcome = await complete({
    ...base,
    kind: 'failed',
    error,
    attempts,
    leadStatus: bounced ? 'bounced' : 'failed',
    refund,
  })
  if (outcome === 'lease-lost') return r.leaseLost()
  if (bounced) await store.suppress(emailKey(lead.email), `bounced: ${error}`, now)
  emit({ type: 'failed', at: now, ...eventBase, error, bounced })
  logger.warn({ ...eventBase, error, bounced }, 'send failed')
  return { outcome: 'failed', nextAt: null }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
