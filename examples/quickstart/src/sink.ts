/**
 * A local SMTP sink for the demo: a real SMTP server on loopback (smtp-server) that keeps what
 * it receives, parsed (mailparser). Nothing leaves the machine.
 */
import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ArrivedMail {
  from: string
  to: string
  subject: string
  messageId: string
  inReplyTo: string | undefined
}

export async function startSink(): Promise<{ port: number; arrived: ArrivedMail[]; close(): Promise<void> }> {
  const arrived: ArrivedMail[] = []
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    // scheduler.close() has already closed the demo's SMTP pool; its QUITs may still be in flight.
    // Do not wait smtp-server's default 30 s for those sockets when the demo ends.
    closeTimeout: 1000,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          arrived.push({
            from: mail.from?.text ?? '',
            to: Array.isArray(mail.to) ? mail.to.map((t) => t.text).join(', ') : (mail.to?.text ?? ''),
            subject: mail.subject ?? '',
            messageId: mail.messageId ?? '',
            inReplyTo: mail.inReplyTo,
          })
          callback()
        },
        (error: Error) => callback(error),
      )
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return { port, arrived, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
