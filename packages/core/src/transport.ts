import type { Mailbox } from './model/types.js'

export interface Address {
  name: string | null
  address: string
}

/** A fully built email, ready for a transport. Header values here never contain CR, LF or NUL. */
export interface OutgoingMessage {
  from: Address
  to: Address
  subject: string
  text?: string
  html?: string
  /** `<id@domain>`, fixed when the send was reserved. */
  messageId: string
  /** Message-ID of the previous email of the thread, for follow-ups. */
  inReplyTo?: string
  /** Message-IDs of the thread so far, oldest first. */
  references: string[]
  /** Extra headers (e.g. `List-Unsubscribe`). */
  headers: Record<string, string>
}

export interface SendContext {
  /** The instant the scheduler handed the message over (from its clock). */
  now: Date
  mailbox: Mailbox
  campaignId: string
  leadId: string
  /** 0-based step of the sequence. */
  step: number
  itemId: string
}

export interface SendResult {
  /** The server's final answer, e.g. `250 2.0.0 OK`. */
  response?: string
}

/**
 * How mail leaves. `send` resolves once the server accepted the message and rejects otherwise,
 * with an error shaped like nodemailer's: `responseCode` (e.g. 550), `response` (the server's
 * line, e.g. `550 5.1.1 User unknown`) and/or `code` (e.g. `ECONNECTION`, `EAUTH`, `ETIMEDOUT`).
 * The scheduler classifies the error (see `classifySendError`).
 */
export interface Transport {
  send(message: OutgoingMessage, context: SendContext): Promise<SendResult | undefined>
  /**
   * Checks that the mailbox can send: connects and logs in, without sending. Resolves when it
   * can, rejects with the server's answer otherwise. Used by `scheduler.verifyMailbox()`.
   */
  verify?(mailbox: Mailbox): Promise<VerifyResult>
  /** Closes pooled connections. Called by `scheduler.close()`. */
  close?(): Promise<void>
}

export interface VerifyResult {
  ok: true
  response?: string
}

/** The error fields a transport may report; every field is optional. */
export interface SendErrorLike {
  message?: string
  responseCode?: number
  response?: string
  code?: string
}
