/**
 * The SMTP transport, on nodemailer: one pooled transporter per mailbox, reused across ticks,
 * rebuilt when the mailbox's options change, closed by `scheduler.close()`.
 *
 * Credentials stay with the host: `resolve(mailbox)` hands them over for each send and they are
 * kept only inside nodemailer's transporter. To notice changed options without keeping a copy of
 * the password around, a transporter is keyed by a SHA-256 fingerprint of its options.
 */
import { createHash } from 'node:crypto'
import {
  INPUT_LIMITS,
  type Mailbox,
  type OutgoingMessage,
  type SendContext,
  type SendResult,
  type Transport,
  type VerifyResult,
} from '@mailcadence/core'
import { checkFunction, checkInteger, checkObject } from '@mailcadence/core/store-kit'
import nodemailer from 'nodemailer'
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool'
import { checkHostHeaders, preparedHeaders, signUnsubscribeHeaders } from './headers.js'

/** nodemailer's SMTP options for one mailbox: `host`, `port`, `secure`, `auth`, `tls`, … */
export type SmtpConnectionOptions = Omit<SMTPPoolOptions, 'pool' | 'maxConnections' | 'maxMessages'>

export interface SmtpPoolOptions {
  /** Connections per mailbox. Default 2. */
  maxConnections?: number
  /** Messages one connection sends before it is replaced. Default 100. */
  maxMessages?: number
  /** Ms an idle connection stays open. Default 30 000 (most servers drop idle sessions soon anyway). */
  idleTimeout?: number
}

export interface SmtpTransportOptions {
  /** SMTP options for a mailbox. Called for every send, so keep it cheap (cache secrets yourself). */
  resolve: (mailbox: Mailbox) => SmtpConnectionOptions | Promise<SmtpConnectionOptions>
  /** Pooling per mailbox, or `false` for one connection per message. Default `{}` (pooled). */
  pool?: SmtpPoolOptions | false
  /**
   * Ms a send may take, from handing over to the server's final answer, before it is abandoned
   * and retried. Keep it well below the scheduler's `lease`. Default 60 000.
   */
  sendTimeout?: number
  /**
   * The host's own headers for one email (`Feedback-ID`, `X-Campaign`, …), asked for every send.
   * Names are RFC 5322 field names and may not replace a header mailcadence writes (`From`,
   * `Subject`, `Message-ID`, `Date`, `List-Unsubscribe`, …); values may not hold CR, LF or NUL.
   * A bad answer fails the send with an `invalid-input` error naming `headers` (retried like any
   * failed send). To have them DKIM-signed, list them in the `dkim.headerFieldNames` of `resolve`.
   */
  headers?: (
    message: OutgoingMessage,
    context: SendContext,
  ) => Record<string, string> | undefined | Promise<Record<string, string> | undefined>
}

type Transporter = ReturnType<typeof nodemailer.createTransport>

interface Entry {
  fingerprint: string
  transporter: Transporter
}

/** A transport that sends through each mailbox's own SMTP server. */
export function createSmtpTransport(options: SmtpTransportOptions): Transport {
  checkObject('options', options)
  checkFunction('resolve', options.resolve)
  if (options.headers !== undefined) checkFunction('headers', options.headers)
  const sendTimeout = optionalInt('sendTimeout', options.sendTimeout, 60_000, 1, INPUT_LIMITS.lease)
  const pool = checkPool(options.pool)
  const transporters = new Map<string, Entry>()
  let closed = false

  async function transporterFor(mailbox: Mailbox): Promise<Transporter> {
    if (closed) throw Object.assign(new Error('the SMTP transport is closed'), { code: 'ECLOSED' })
    const connection = signUnsubscribeHeaders(await options.resolve(mailbox))
    const settings = {
      // Socket-level limits so a stalled server cannot hold a send forever.
      connectionTimeout: Math.min(sendTimeout, 30_000),
      greetingTimeout: Math.min(sendTimeout, 30_000),
      socketTimeout: sendTimeout,
      ...connection,
      ...(pool ? { pool: true as const, ...pool } : {}),
    }
    const fingerprint = fingerprintOf(settings)
    const existing = transporters.get(mailbox.id)
    if (existing?.fingerprint === fingerprint) return existing.transporter
    existing?.transporter.close()
    const transporter = nodemailer.createTransport(settings as SMTPPoolOptions & { pool: true })
    transporters.set(mailbox.id, { fingerprint, transporter })
    return transporter
  }

  return {
    async send(message: OutgoingMessage, context: SendContext): Promise<SendResult> {
      const transporter = await transporterFor(context.mailbox)
      const extra = checkHostHeaders(await options.headers?.(message, context))
      const info = await transporter.sendMail({
        from: message.from.name
          ? { name: message.from.name, address: message.from.address }
          : message.from.address,
        to: message.to.name ? { name: message.to.name, address: message.to.address } : message.to.address,
        subject: message.subject,
        ...(message.text !== undefined ? { text: message.text } : {}),
        ...(message.html !== undefined ? { html: message.html } : {}),
        messageId: message.messageId,
        ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
        ...(message.references.length > 0 ? { references: message.references } : {}),
        // The scheduler's clock, not the machine's: a fake clock in tests, one time in a tick.
        date: context.now,
        headers: { ...extra, ...preparedHeaders(message.headers) },
        // Lead data never reaches the file system or the network through a template.
        disableFileAccess: true,
        disableUrlAccess: true,
        signal: AbortSignal.timeout(sendTimeout),
      })
      return { response: info.response }
    },

    async verify(mailbox: Mailbox): Promise<VerifyResult> {
      const transporter = await transporterFor(mailbox)
      await transporter.verify()
      return { ok: true, response: 'connection and authentication succeeded' }
    },

    async close() {
      closed = true
      for (const { transporter } of transporters.values()) transporter.close()
      transporters.clear()
    },
  }
}

function optionalInt(name: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : checkInteger(name, value, min, max)
}

/** The pool options, defaults applied, each within `INPUT_LIMITS`; `false` for no pooling. */
function checkPool(value: unknown): Required<SmtpPoolOptions> | false {
  if (value === false) return false
  const pool = value === undefined ? {} : checkObject('pool', value)
  return {
    maxConnections: optionalInt(
      'pool.maxConnections',
      pool.maxConnections,
      2,
      1,
      INPUT_LIMITS.poolConnections,
    ),
    maxMessages: optionalInt('pool.maxMessages', pool.maxMessages, 100, 1, INPUT_LIMITS.poolMessages),
    idleTimeout: optionalInt('pool.idleTimeout', pool.idleTimeout, 30_000, 0, INPUT_LIMITS.poolIdleTimeout),
  }
}

function fingerprintOf(settings: object): string {
  const json = JSON.stringify(settings, (_key, value: unknown) => {
    // Functions (getSocket, custom auth) cannot be compared; they count by presence only.
    if (typeof value === 'function') return '[function]'
    // Sorted keys: the same options built in another order are the same transporter.
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    }
    return value
  })
  return createHash('sha256').update(json).digest('hex')
}
