import type { Transport } from '@mailcadence/core'

/**
 * A transport that prints each email instead of sending it, after `latencyMs` (an SMTP server's
 * answer time), so a shutdown can be seen waiting for sends in flight. Swap in
 * `createSmtpTransport()` or your own mailer for real delivery.
 */
export function createConsoleTransport(latencyMs: number): Transport {
  return {
    async send(message, context) {
      await new Promise((resolve) => setTimeout(resolve, latencyMs))
      console.log(
        `sent step ${context.step + 1} to ${message.to.address} from ${message.from.address}: "${message.subject}" ${message.messageId}`,
      )
      return { response: '250 2.0.0 OK (console)' }
    },
  }
}
