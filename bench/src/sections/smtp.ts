/** Sends per second to a local SMTP sink: the pooled transport against one connection per message. */
import type { AddressInfo } from 'node:net'
import type { Mailbox, OutgoingMessage } from '@mailcadence/core'
import { createSmtpTransport } from '@mailcadence/transport-smtp'
import { SMTPServer } from 'smtp-server'
import type { BenchContext, Row } from '../context.js'
import { format, measure } from '../stats.js'

async function startSink(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {})
      stream.on('end', () => callback())
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const mailbox: Mailbox = {
  id: '1',
  email: 'anna@acme.test',
  name: 'Anna',
  dailyEmailLimit: 1_000_000,
  hourlyLimit: null,
  rampUp: null,
  rampLevel: 0,
  rampDayKey: null,
  provider: null,
  timezone: 'UTC',
  pausedUntil: null,
  pauseReason: null,
  skipDates: [],
  createdAt: new Date(0),
  updatedAt: new Date(0),
}

async function sendAll(port: number, pooled: boolean, count: number): Promise<number> {
  const transport = createSmtpTransport({
    pool: pooled ? { maxConnections: 4 } : false,
    resolve: () => ({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }),
  })
  const started = performance.now()
  let next = 0
  // Ten sends in flight, as the scheduler's default concurrency has.
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < count) {
        const i = next++
        const message: OutgoingMessage = {
          from: { name: 'Anna', address: 'anna@acme.test' },
          to: { name: null, address: `lead${i}@example.com` },
          subject: `Hello ${i}`,
          text: 'A short note.',
          messageId: `<bench-${i}-${started}@acme.test>`,
          references: [],
          headers: {},
        }
        await transport.send(message, {
          now: new Date(),
          mailbox,
          campaignId: '1',
          leadId: String(i),
          step: 0,
          itemId: String(i),
        })
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  await transport.close?.()
  return count / seconds
}

export async function smtpSection(ctx: BenchContext): Promise<Row[]> {
  const sink = await startSink()
  const count = ctx.quick ? 50 : 1_000
  try {
    const pooled = await measure(ctx.runs, () => sendAll(sink.port, true, count), { warmup: !ctx.quick })
    const single = await measure(ctx.runs, () => sendAll(sink.port, false, count), { warmup: !ctx.quick })
    const ratio = pooled.median / single.median
    return [
      {
        section: 'SMTP',
        name: `pooled transport (4 connections), ${count} messages`,
        value: format(pooled, 'emails/s'),
      },
      {
        section: 'SMTP',
        name: `one connection per message, ${count} messages`,
        value: format(single, 'emails/s'),
      },
      {
        section: 'SMTP',
        name: 'pooled ÷ one connection per message',
        value: `${ratio.toFixed(1)}×`,
        note: 'target ≥ 5×',
      },
    ]
  } finally {
    await sink.close()
  }
}
