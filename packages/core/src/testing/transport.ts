import type { OutgoingMessage, SendContext, SendErrorLike, Transport } from '../transport.js'

/** One message the recording transport accepted. */
export interface SentRecord {
  /** The scheduler's clock when the message was handed over. */
  at: Date
  campaignId: string
  leadId: string
  itemId: string
  /** 0-based step of the sequence. */
  step: number
  mailboxId: string
  to: string
  from: string
  subject: string
  text: string | undefined
  html: string | undefined
  messageId: string
  inReplyTo: string | undefined
  references: string[]
  headers: Record<string, string>
}

export interface RecordingTransport extends Transport {
  /** Accepted messages, in order. */
  readonly sent: SentRecord[]
  /** Every call of `send`, accepted or not. */
  readonly attempts: number
  /** Makes the next `count` sends fail with this SMTP-like error (e.g. `{ responseCode: 451, response: '451 4.3.0 Try later' }`). */
  failNext(count: number, error: SendErrorLike): void
  /** Makes sends to `address` (case-insensitive) fail with this error until cleared with `null`. */
  failFor(address: string, error: SendErrorLike | null): void
  /**
   * Holds every send until the returned function is called (a stalled server): for lease and
   * crash tests. Sends already held stay held until released.
   */
  hold(): () => void
  /** Resolves when `count` sends are being held. */
  whenHeld(count: number): Promise<void>
}

function toError(spec: SendErrorLike): Error & SendErrorLike {
  const error = new Error(spec.message ?? spec.response ?? spec.code ?? 'send failed') as Error &
    SendErrorLike
  if (spec.responseCode !== undefined) error.responseCode = spec.responseCode
  if (spec.response !== undefined) error.response = spec.response
  if (spec.code !== undefined) error.code = spec.code
  return error
}

/** A transport that records instead of sending, and fails or stalls on command. */
export function createRecordingTransport(): RecordingTransport {
  const sent: SentRecord[] = []
  const failures: SendErrorLike[] = []
  const failByAddress = new Map<string, SendErrorLike>()
  let attempts = 0
  let gate: Promise<void> | null = null
  let held = 0
  const heldWaiters: Array<{ count: number; resolve: () => void }> = []

  return {
    sent,
    get attempts() {
      return attempts
    },
    failNext(count, error) {
      for (let i = 0; i < count; i++) failures.push(error)
    },
    failFor(address, error) {
      if (error) failByAddress.set(address.toLowerCase(), error)
      else failByAddress.delete(address.toLowerCase())
    },
    hold() {
      let release = () => {}
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = null
          resolve()
        }
      })
      return () => release()
    },
    whenHeld(count) {
      if (held >= count) return Promise.resolve()
      return new Promise((resolve) => heldWaiters.push({ count, resolve }))
    },
    async send(message: OutgoingMessage, context: SendContext) {
      attempts++
      const at = new Date(context.now.getTime())
      if (gate) {
        held++
        for (const w of heldWaiters.splice(0)) {
          if (held >= w.count) w.resolve()
          else heldWaiters.push(w)
        }
        await gate
        held--
      }
      const failure = failures.shift() ?? failByAddress.get(message.to.address.toLowerCase())
      if (failure) throw toError(failure)
      sent.push({
        at,
        campaignId: context.campaignId,
        leadId: context.leadId,
        itemId: context.itemId,
        step: context.step,
        mailboxId: context.mailbox.id,
        to: message.to.address,
        from: message.from.address,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        inReplyTo: message.inReplyTo,
        references: message.references.slice(),
        headers: { ...message.headers },
      })
      return { response: '250 2.0.0 OK (recorded)' }
    },
  }
}
