/**
 * The effectful middle of a send: build the message, hand it to the transport, classify what
 * happened and record it. Runs with no store transaction open.
 */
import { buildMessage } from '../message/build.js'
import type { Campaign, Mailbox } from '../model/types.js'
import { emailKey } from '../model/validate.js'
import { retryDelay } from '../policy/backoff.js'
import { classifySendError, type SendFailure } from '../policy/classify.js'
import type { Completion, CompletionOutcome, ReservedSend } from '../store.js'
import { type SchedulerEvent, VETOED } from './events.js'
import type { ResolvedOptions } from './options.js'

const DAY_MS = 86_400_000

export type Delivered = {
  outcome: 'sent' | 'failed' | 'retried' | 'vetoed' | 'lease-expired' | 'lease-lost'
  /** When the item (retried) or the lead's next step (sent) is due, if it was put back in the queue. */
  nextAt: Date | null
}

export async function deliver(input: {
  options: ResolvedOptions
  campaign: Campaign
  mailbox: Mailbox
  send: ReservedSend
  complete: (completion: Completion) => Promise<CompletionOutcome>
  /** Called as soon as the transport is done with the email (or it could not be built), before recording. */
  onTransportDone: () => void
  onMailboxPaused: (mailbox: Mailbox) => void
}): Promise<Delivered> {
  const { options, campaign, mailbox, send, complete } = input
  const { clock, store, emit, logger } = options
  const { item, lead } = send
  const base = { itemId: item.id, leaseToken: item.leaseToken ?? '' }
  const refund = {
    campaignDayKey: send.campaignDayKey,
    mailboxId: mailbox.id,
    mailboxDayKey: send.mailboxDayKey,
  }
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

  let failure: SendFailure | null = null
  let subject = ''
  try {
    const message = buildMessage({
      campaign,
      mailbox,
      lead,
      item: { ...item, messageId },
      unsubscribeUrl: options.unsubscribeUrl,
    })
    subject = message.subject
    if (options.beforeSend) {
      const verdict = await askBeforeSend(options.beforeSend, message.subject)
      if (verdict !== 'send') return verdict
    }
    await options.transport.send(message, {
      now: clock.now(),
      mailbox,
      campaignId: campaign.id,
      leadId: lead.id,
      step: item.step,
      itemId: item.id,
    })
  } catch (error) {
    failure = classifySendError(error)
  }
  input.onTransportDone()
  const now = clock.now()

  if (!failure) {
    // This runs for every email, so its objects are written out field by field: on Node 20 an object
    // literal that adds properties after a spread (`{ ...base, kind }`) takes a slow path, about a
    // microsecond each.
    const completion: Extract<Completion, { kind: 'sent' }> = {
      itemId: item.id,
      leaseToken: base.leaseToken,
      kind: 'sent',
      messageId,
      subject,
      to: lead.email,
    }
    const nextStep = campaign.steps[item.step + 1]
    if (nextStep) {
      const scheduledAt = new Date(now.getTime() + (nextStep.delayDays ?? 0) * DAY_MS)
      completion.next = { step: item.step + 1, scheduledAt }
    }
    const outcome = await complete(completion)
    if (outcome === 'lease-lost') return leaseLost()
    // eventBase's fields written out again, for the same reason as the completion's.
    const event: Extract<SchedulerEvent, { type: 'sent' }> = {
      type: 'sent',
      at: now,
      campaignId: campaign.id,
      leadId: lead.id,
      itemId: item.id,
      step: item.step,
      mailboxId: mailbox.id,
      messageId,
      to: lead.email,
      subject,
    }
    if (options.mode === 'shadow') event.shadow = true
    emit(event)
    logger.info(event, 'sent')
    return { outcome: 'sent', nextAt: completion.next?.scheduledAt ?? null }
  }

  const error = failure.detail
  if (failure.action === 'pause-mailbox') {
    const until = new Date(now.getTime() + failure.pauseMs)
    const paused = await store.updateMailbox(mailbox.id, { pausedUntil: until, pauseReason: error }, now)
    if (paused) input.onMailboxPaused(paused)
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
    if (outcome === 'lease-lost') return leaseLost()
    emit({ type: 'retried', at: now, ...eventBase, error, retryAt, attempts: item.attempts })
    return { outcome: 'retried', nextAt: retryAt }
  }

  const attempts = item.attempts + 1
  if (failure.action === 'retry' && attempts < options.retry.maxAttempts) {
    const retryAt = new Date(now.getTime() + retryDelay(attempts, options.retry, options.random))
    const outcome = await complete({ ...base, kind: 'retry', retryAt, attempts, error, refund })
    if (outcome === 'lease-lost') return leaseLost()
    emit({ type: 'retried', at: now, ...eventBase, error, retryAt, attempts })
    logger.warn({ ...eventBase, error, retryAt, attempts }, 'send failed, will retry')
    return { outcome: 'retried', nextAt: retryAt }
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
  if (outcome === 'lease-lost') return leaseLost()
  if (bounced) await store.suppress(emailKey(lead.email), `bounced: ${error}`, now)
  emit({ type: 'failed', at: now, ...eventBase, error, bounced })
  logger.warn({ ...eventBase, error, bounced }, 'send failed')
  return { outcome: 'failed', nextAt: null }

  /**
   * The host's veto (`beforeSend`): 'send', or what was done instead. A veto cancels the item; a
   * hook that throws leaves it for later without spending an attempt, since the lead is not at
   * fault and sending unchecked could mail someone twice.
   */
  async function askBeforeSend(
    beforeSend: NonNullable<ResolvedOptions['beforeSend']>,
    subject: string,
  ): Promise<'send' | Delivered> {
    let allowed: boolean | undefined
    try {
      allowed = await beforeSend({
        campaign,
        lead,
        mailbox,
        step: item.step,
        to: lead.email,
        subject,
        messageId,
      })
    } catch (error) {
      const now = clock.now()
      const detail = `beforeSend failed: ${error instanceof Error ? error.message : String(error)}`
      const retryAt = new Date(now.getTime() + retryDelay(1, options.retry, options.random))
      const outcome = await complete({
        ...base,
        kind: 'retry',
        retryAt,
        attempts: item.attempts,
        error: detail,
        refund,
      })
      if (outcome === 'lease-lost') return leaseLost()
      emit({ type: 'retried', at: now, ...eventBase, error: detail, retryAt, attempts: item.attempts })
      logger.warn({ ...eventBase, error: detail, retryAt }, 'beforeSend threw; will retry')
      return { outcome: 'retried', nextAt: retryAt }
    }
    if (allowed !== false) return 'send'
    const outcome = await complete({ ...base, kind: 'cancelled', reason: VETOED, refund })
    if (outcome === 'lease-lost') return leaseLost()
    emit({ type: 'vetoed', at: clock.now(), ...eventBase, to: lead.email, reason: VETOED })
    logger.info({ ...eventBase, to: lead.email }, 'vetoed by beforeSend: skipped, already sent')
    return { outcome: 'vetoed', nextAt: null }
  }

  function leaseLost(): Delivered {
    emit({ type: 'lease-lost', at: clock.now(), campaignId: campaign.id, itemId: item.id })
    logger.warn({ ...eventBase }, 'completion refused: the lease was lost (recovery took the item over)')
    return { outcome: 'lease-lost', nextAt: null }
  }
}
