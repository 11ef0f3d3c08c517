/**
 * `ingestMessage`: the one entry point for a raw inbound message. It classifies the message here
 * (core does not parse mail) and hands the result to the scheduler's `applyInbound`, which matches
 * it to the email we sent and acts, at most once per Message-ID.
 */
import { createHash } from 'node:crypto'
import { INPUT_LIMITS, type InboundResult, type Scheduler } from '@mailcadence/core'
import { classifyMessage } from '../classify/classify.js'
import type { Classification } from '../classify/types.js'

/** Options of {@link ingestMessage}. */
export interface IngestOptions {
  /** The mailbox the message arrived in: passed on to events and logs (the match is by Message-ID). */
  mailboxId?: string
}

/** What {@link ingestMessage} did: `applyInbound`'s result, and the classification it applied. */
export interface IngestResult extends InboundResult {
  classification: Classification
}

/**
 * Reads one raw message (RFC 5322 source, as an IMAP `FETCH BODY[]` or a `.eml` file gives it) into
 * the scheduler: `classifyMessage(raw)`, then `scheduler.applyInbound(classification)`. A reply
 * stops the lead's sequence, an out-of-office answer moves its next email to the morning after the
 * return date, a hard bounce or a complaint or an unsubscribe suppresses the address, everything
 * else is recorded (see `Scheduler.applyInbound`). Applying the same message twice changes nothing
 * the second time (`status: 'duplicate'`); a message that links to no email we sent is reported
 * with `matched: false`, not thrown.
 *
 * A message without a `Message-ID`, or with one longer than core stores
 * (`INPUT_LIMITS.messageIdLength`), is keyed by a SHA-256 digest of its raw bytes (or of that
 * Message-ID) instead, so that it too is applied once.
 *
 * @throws `MailcadenceError` from `applyInbound` (`invalid-input` for a bad `mailboxId`,
 *   `store-unavailable` when the store is down: the caller should try the message again later).
 */
export async function ingestMessage(
  scheduler: Pick<Scheduler, 'applyInbound'>,
  raw: string | Buffer | Uint8Array,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const classification = await classifyMessage(raw)
  const messageId = inboundKey(classification.messageId, raw)
  const result = await scheduler.applyInbound({ ...classification, messageId }, options)
  return { ...result, classification }
}

/** The key an inbound message is applied once by: its Message-ID, or a digest standing for it. */
export function inboundKey(messageId: string | null, raw: string | Buffer | Uint8Array): string {
  if (messageId !== null && messageId.length <= INPUT_LIMITS.messageIdLength && !/[\r\n]/.test(messageId))
    return messageId
  const digest = createHash('sha256')
    .update(messageId ?? raw)
    .digest('hex')
  return `<sha256.${digest}@mailcadence.invalid>`
}
