/** The poller's parts that need no IMAP server: options, error sanitizing, back-off, the poll loop. */
import { isMailcadenceError } from '@mailcadence/core'
import { describe, expect, it } from 'vitest'
import { backoffDelay, sanitizeError } from '../../src/imap/errors.js'
import { createImapPoller, type ImapPollerOptions, type PollerTimers } from '../../src/imap/index.js'
import { createDouble } from './double.js'

const base = () => {
  const double = createDouble([])
  return { scheduler: double.scheduler, ingest: double.ingest, connect: () => ({}) }
}

describe('createImapPoller options', () => {
  it.each([
    ['folders', { folders: [] }],
    ['interval', { interval: 0 }],
    ['batchSize', { batchSize: 1.5 }],
    ['resync', { resync: 'some' }],
    ['move', { move: '' }],
    ['connect', { connect: 'imap://x' }],
    ['ingest', { ingest: undefined }],
  ])('refuses a bad %s when created', (field, extra) => {
    const create = () => createImapPoller({ ...base(), ...(extra as object) } as ImapPollerOptions)
    expect(create).toThrow(expect.objectContaining({ code: 'invalid-input', field }))
    try {
      create()
    } catch (error) {
      expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
    }
  })
})

describe('sanitizeError', () => {
  it('masks a password and a token, raw and base64-encoded (SASL PLAIN)', () => {
    const pass = 'hunter2-secret'
    const token = 'ya29.tok-secret'
    const plain = Buffer.from(pass).toString('base64')
    const error = Object.assign(new Error(`Command failed: AUTHENTICATE PLAIN ${plain} for ${token}`), {
      code: 'NoConnection',
      responseText: `Invalid credentials (${pass})`,
      serverResponseCode: 'AUTHENTICATIONFAILED',
      authenticationFailed: true,
    })
    const { message, code } = sanitizeError(error, [pass, token])
    expect(code).toBe('NoConnection')
    expect(message).toContain('authentication failed')
    expect(message).toContain('[AUTHENTICATIONFAILED]')
    expect(message).not.toContain(pass)
    expect(message).not.toContain(plain)
    expect(message).not.toContain(token)
  })
})

describe('sanitizeError, protocol text', () => {
  const pass = 'hunter2-secret'
  const token = 'ya29.tok-secret'

  it('masks a secret before cutting to 500 characters, not after', () => {
    const error = new Error(`${'x'.repeat(490)} ${pass}`)
    const { message } = sanitizeError(error, [pass])
    expect(message).not.toContain(pass.slice(0, 6))
  })

  it('masks base64 SASL PLAIN and XOAUTH2 responses, whatever the user name', () => {
    const plain = Buffer.from(`\0someone@example.com\0${pass}`).toString('base64')
    const withAuthzid = Buffer.from(`admin\0someone@example.com\0${pass}`).toString('base64')
    const xoauth2 = Buffer.from(`user=someone@example.com\x01auth=Bearer ${token}\x01\x01`).toString('base64')
    const error = Object.assign(new Error(`Command failed: AUTHENTICATE PLAIN ${plain} / ${withAuthzid}`), {
      responseText: `AUTHENTICATE XOAUTH2 ${xoauth2} rejected`,
    })
    const { message } = sanitizeError(error, [pass, token])
    for (const blob of [plain, withAuthzid, xoauth2]) expect(message).not.toContain(blob)
    expect(message).toBe('Command failed: AUTHENTICATE PLAIN *** / ***: AUTHENTICATE XOAUTH2 *** rejected')
  })

  it('leaves ordinary words alone', () => {
    const error = new Error('Connection timed out while AUTHENTICATIONFAILED Authentication Mailbox1234')
    expect(sanitizeError(error, [pass]).message).toBe(error.message)
  })
})

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, the upper half random', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500)
    expect(backoffDelay(1, 1000, 60_000, () => 0.999_999)).toBe(1000)
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(3000)
    expect(backoffDelay(20, 1000, 60_000, () => 0)).toBe(30_000)
    expect(backoffDelay(20, 1000, 60_000, () => 0.999_999)).toBe(60_000)
  })
})

describe('start and stop', () => {
  it('polls at once, then each interval of the injected timers, until stopped', async () => {
    const double = createDouble([])
    let polls = 0
    const scheduler = {
      ...double.scheduler,
      listMailboxes: async () => {
        polls++
        return []
      },
    }
    const pending: Array<{ callback: () => void; ms: number; cleared: boolean }> = []
    const timers: PollerTimers = {
      setTimeout: (callback, ms) => {
        const timer = { callback, ms, cleared: false }
        pending.push(timer)
        return timer
      },
      clearTimeout: (handle) => {
        ;(handle as { cleared: boolean }).cleared = true
      },
    }
    const poller = createImapPoller({ ...base(), scheduler, interval: 45_000, timers })
    const settle = async () => {
      for (let i = 0; i < 20; i++) await Promise.resolve()
    }
    poller.start()
    poller.start() // a second start does nothing
    await settle()
    expect(polls).toBe(1)
    expect(pending.map((t) => t.ms)).toEqual([45_000])
    pending[0]?.callback()
    await settle()
    expect(polls).toBe(2)
    expect(pending).toHaveLength(2)
    await poller.stop()
    expect(pending[1]?.cleared).toBe(true)
    expect(polls).toBe(2)
  })
})
