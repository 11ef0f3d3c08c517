/**
 * Every option of `createSmtpTransport` is checked when it enters: a wrong type or a value outside
 * its documented range is an `invalid-input` error naming the option (issue #12).
 */
import { INPUT_LIMITS, isMailcadenceError, type MailcadenceError } from '@mailcadence/core'
import { describe, expect, it } from 'vitest'
import { createSmtpTransport } from '../src/index.js'

function refused(fn: () => unknown, field: string): MailcadenceError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(isMailcadenceError(caught, 'invalid-input'), `${field}: got ${String(caught)}`).toBe(true)
  const error = caught as MailcadenceError
  expect(error.field).toBe(field)
  expect(error.message.startsWith(`${field}: `)).toBe(true)
  return error
}

describe('createSmtpTransport options', () => {
  const smtp = (extra: Record<string, unknown>) =>
    createSmtpTransport({ resolve: () => ({ host: 'localhost' }), ...extra } as never)

  it('accepts the defaults and the bounds', async () => {
    await smtp({}).close?.()
    await smtp({ pool: false, sendTimeout: INPUT_LIMITS.lease }).close?.()
    await smtp({ pool: { maxConnections: 100, maxMessages: 1_000_000, idleTimeout: 0 } }).close?.()
  })

  it('refuses each bad option, naming it', () => {
    refused(() => createSmtpTransport(undefined as never), 'options')
    refused(() => createSmtpTransport({} as never), 'resolve')
    refused(() => smtp({ resolve: { host: 'x' } }), 'resolve')
    for (const bad of [0, -1, 1.5, INPUT_LIMITS.lease + 1, '60000', Number.NaN])
      refused(() => smtp({ sendTimeout: bad }), 'sendTimeout')
    refused(() => smtp({ pool: true }), 'pool')
    refused(() => smtp({ pool: { maxConnections: 0 } }), 'pool.maxConnections')
    refused(() => smtp({ pool: { maxMessages: 1e12 } }), 'pool.maxMessages')
    refused(() => smtp({ pool: { idleTimeout: -1 } }), 'pool.idleTimeout')
  })
})
