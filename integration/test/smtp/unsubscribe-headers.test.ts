/**
 * The headers inboxes check for one-click unsubscribe, as a real SMTP server received them: both
 * `List-Unsubscribe` and `List-Unsubscribe-Post` covered by a DKIM signature that verifies (RFC
 * 8058 §4), a long URL kept on one line, the `Date` from the scheduler's clock, host headers.
 */
import { createHash, generateKeyPairSync, type KeyObject, verify } from 'node:crypto'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type SchedulerEvent } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'
import { createSmtpTransport, type SmtpConnectionOptions } from '@mailcadence/transport-smtp'
import { afterEach, describe, expect, it } from 'vitest'
import { type Received, startSink } from './servers.js'

const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const START = new Date('2026-03-03T09:15:27.000Z')
// Long enough that a mailer folding at 76 or 78 characters would fold it.
const LONG_URL = `https://unsubscribe.acme.test/u/v1.${'A'.repeat(300)}`

async function sendOne(
  dkim: Record<string, unknown>,
  extra: Partial<Parameters<typeof createSmtpTransport>[0]> = {},
) {
  const sink = await startSink()
  closers.push(() => sink.close())
  const clock = createFakeClock(START)
  const scheduler = createScheduler({
    store: createMemoryStore(),
    clock,
    lookahead: 0,
    unsubscribeUrl: () => ({ url: LONG_URL, mailto: 'mailto:unsubscribe@acme.test' }),
    transport: createSmtpTransport({
      resolve: () =>
        ({
          host: '127.0.0.1',
          port: sink.port,
          secure: false,
          ignoreTLS: true,
          dkim,
        }) as SmtpConnectionOptions,
      ...extra,
    }),
  })
  closers.push(() => scheduler.close())
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10 })
  const campaign = await scheduler.createCampaign({
    name: 'Signed',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    mailboxIds: [mailbox.id],
    steps: [{ subject: 'Hello', text: 'Hi.\nStop these: {{unsubscribeUrl}}' }],
  })
  await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com' }])
  await scheduler.startCampaign(campaign.id)
  await scheduler.tick()
  expect(sink.received).toHaveLength(1)
  return sink.received[0]!
}

describe('one-click unsubscribe headers over SMTP with DKIM', () => {
  const dkim = {
    domainName: 'acme.test',
    keySelector: 'mc',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  }

  it('signs List-Unsubscribe and List-Unsubscribe-Post, and the signature verifies', async () => {
    const received = await sendOne(dkim)
    const signature = verifyDkim(received.raw, publicKey)
    expect(signature.signedHeaders).toEqual(
      expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']),
    )
    // Written on one line as the hook gave it, not folded nor encoded.
    const line = rawLines(received.raw).find((l) => l.startsWith('List-Unsubscribe:'))
    expect(line).toBe(`List-Unsubscribe: <${LONG_URL}>, <mailto:unsubscribe@acme.test>`)
    expect(rawLines(received.raw)).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
    expect(received.mail.text).toContain(`Stop these: ${LONG_URL}`)
  })

  it('signs them even when the host lists its own headers and skips List-Unsubscribe', async () => {
    const received = await sendOne({
      ...dkim,
      headerFieldNames: 'From:To:Subject',
      skipFields: 'List-Unsubscribe:Date',
    })
    const signature = verifyDkim(received.raw, publicKey)
    expect(signature.signedHeaders.sort()).toEqual([
      'from',
      'list-unsubscribe',
      'list-unsubscribe-post',
      'subject',
      'to',
    ])
  })

  it('dates the message by the scheduler clock and adds the host headers', async () => {
    const received = await sendOne(dkim, {
      headers: (_message, context) => ({ 'Feedback-ID': `${context.campaignId}:${context.step}:acme` }),
    })
    expect(received.mail.date?.toISOString()).toBe(START.toISOString())
    expect(received.mail.headers.get('feedback-id')).toMatch(/^[\w-]+:0:acme$/)
    verifyDkim(received.raw, publicKey)
  })
})

describe('a bad unsubscribeUrl answer', () => {
  it('sends nothing and says why, without the URL, instead of encoding it into the header', async () => {
    const sink = await startSink()
    closers.push(() => sink.close())
    const events: SchedulerEvent[] = []
    const scheduler = createScheduler({
      store: createMemoryStore(),
      clock: createFakeClock(START),
      lookahead: 0,
      onEvent: (event) => events.push(event),
      unsubscribeUrl: () => 'https://acme.test/u/Łukasz-token',
      transport: createSmtpTransport({
        resolve: () => ({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true }),
      }),
    })
    closers.push(() => scheduler.close())
    const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10 })
    const campaign = await scheduler.createCampaign({
      name: 'Bad link',
      startHour: 0,
      endHour: 24,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      mailboxIds: [mailbox.id],
      steps: [{ subject: 'Hello', text: 'Hi.' }],
    })
    await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com' }])
    await scheduler.startCampaign(campaign.id)
    await scheduler.tick()
    expect(sink.received).toHaveLength(0)
    const retried = events.find((e) => e.type === 'retried')
    expect(retried).toMatchObject({
      error: expect.stringContaining('unsubscribeUrl: has a character outside ASCII'),
    })
    expect(JSON.stringify(events)).not.toContain('token')
  })
})

/** Header lines of a raw message, continuation lines joined to theirs. */
function rawLines(raw: string): string[] {
  return raw
    .slice(0, raw.indexOf('\r\n\r\n'))
    .replace(/\r\n(?=[ \t])/g, '\u0000')
    .split('\r\n')
    .map((l) => l.replaceAll('\u0000', '\r\n'))
}

/** RFC 6376 relaxed header canonicalization of one header field. */
function relaxedHeader(field: string): string {
  const colon = field.indexOf(':')
  const name = field.slice(0, colon).trim().toLowerCase()
  const value = field
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim()
  return `${name}:${value}`
}

/**
 * Verifies the message's one DKIM-Signature (rsa-sha256, relaxed/relaxed) as a receiver would:
 * body hash, then the signature over the headers named in `h=`. Throws when it does not verify.
 */
function verifyDkim(raw: Received['raw'], key: KeyObject): { signedHeaders: string[] } {
  const fields = rawLines(raw)
  const signatureField = fields.find((f) => /^dkim-signature:/i.test(f))
  if (!signatureField) throw new Error('no DKIM-Signature header')
  const tags = new Map(
    signatureField
      .slice(signatureField.indexOf(':') + 1)
      .replace(/\s+/g, '')
      .split(';')
      .filter(Boolean)
      .map((tag) => [tag.slice(0, tag.indexOf('=')), tag.slice(tag.indexOf('=') + 1)] as const),
  )
  expect(tags.get('c')).toBe('relaxed/relaxed')
  const body = raw
    .slice(raw.indexOf('\r\n\r\n') + 4)
    .split('\r\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '')
  const bodyHash = createHash('sha256')
    .update(body === '' ? '' : `${body}\r\n`)
    .digest('base64')
  expect(tags.get('bh')).toBe(bodyHash)
  const signedHeaders = (tags.get('h') ?? '').split(':').map((h) => h.toLowerCase())
  const used = new Set<number>()
  let data = ''
  for (const name of signedHeaders) {
    // The last instance not yet used, from the bottom (RFC 6376 §5.4.2).
    for (let i = fields.length - 1; i >= 0; i--) {
      if (used.has(i) || relaxedHeader(fields[i]!).split(':')[0] !== name) continue
      used.add(i)
      data += `${relaxedHeader(fields[i]!)}\r\n`
      break
    }
  }
  data += relaxedHeader(signatureField.replace(/(\bb=)[^;]*$/, '$1'))
  const ok = verify('RSA-SHA256', Buffer.from(data), key, Buffer.from(tags.get('b') ?? '', 'base64'))
  if (!ok) throw new Error('DKIM signature does not verify')
  return { signedHeaders }
}
