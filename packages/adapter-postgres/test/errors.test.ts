import { isMailcadenceError, MailcadenceError } from '@mailcadence/core'
import { describe, expect, it } from 'vitest'
import { connectionLost, toStoreError } from '../src/errors.js'

const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error('server said something about user "bob" at db.internal'), { code, ...extra })

describe('toStoreError', () => {
  it('maps connection failures, timeouts, serialization failures and deadlocks to store-unavailable', () => {
    for (const code of ['08006', '08001', '40001', '40P01', '57014', '57P01', '53300', '55P03']) {
      const error = toStoreError(pgError(code))
      expect(isMailcadenceError(error, 'store-unavailable'), code).toBe(true)
      expect(error.message).toContain(code)
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND']) {
      const error = toStoreError(Object.assign(new Error(`connect ${code} 10.0.0.1:5432`), { code }))
      expect(isMailcadenceError(error, 'store-unavailable')).toBe(true)
      expect(connectionLost(error)).toBe(true)
    }
    expect(
      isMailcadenceError(toStoreError(new Error('Connection terminated unexpectedly')), 'store-unavailable'),
    ).toBe(true)
    expect(connectionLost(toStoreError(pgError('40P01')))).toBe(false)
  })

  it('maps an unexpected unique violation to store-conflict, naming the constraint', () => {
    const error = toStoreError(pgError('23505', { constraint: 'send_log_once_per_step' }))
    expect(isMailcadenceError(error, 'store-conflict')).toBe(true)
    expect(error.message).toContain('send_log_once_per_step')
  })

  it('never copies the driver message, which may name hosts, users or passwords', () => {
    for (const error of [
      pgError('28P01'),
      pgError('08006'),
      Object.assign(new Error('getaddrinfo ENOTFOUND db.internal'), { code: 'ENOTFOUND' }),
      new Error('password authentication failed for user "bob" postgres://bob:pw@db.internal/x'),
    ]) {
      const mapped = toStoreError(error)
      expect(`${mapped.message} ${String(mapped.cause)}`).not.toMatch(/bob|db\.internal|pw@/)
    }
  })

  it('passes mailcadence errors through', () => {
    const original = new MailcadenceError('not-found', 'nope')
    expect(toStoreError(original)).toBe(original)
  })
})
