import { isMailcadenceError, MailcadenceError } from '@mailcadence/core'
import pg from 'pg'
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

  it('names the user whose credentials PostgreSQL rejected (28P01, 28000), never the password', () => {
    // As pg reports it: a DatabaseError from the server's FATAL message.
    const refused = (code: string, message: string) =>
      Object.assign(new pg.DatabaseError(message, 100, 'error'), {
        severity: 'FATAL',
        code,
        file: 'auth.c',
        routine: 'auth_failed',
      })
    const password = toStoreError(refused('28P01', 'password authentication failed for user "bob"'))
    expect(password.code).toBe('store-misconfigured')
    expect(password.message).toBe(
      'PostgreSQL rejected the credentials for user "bob": check the user and password of the ' +
        'connection settings (and pg_hba.conf) (SQLSTATE 28P01)',
    )
    const hba = toStoreError(
      refused('28000', 'no pg_hba.conf entry for host "10.0.0.9", user "bob", database "app", no encryption'),
    )
    expect(hba.message).toMatch(/^PostgreSQL rejected the credentials for user "bob": .* \(SQLSTATE 28000\)$/)
    // A message in another language (lc_messages): the cause without the name.
    const localized = toStoreError(refused('28P01', 'la autentificación falló'))
    expect(localized.message).toMatch(/^PostgreSQL rejected the credentials: check/)
    expect(connectionLost(password)).toBe(false)
  })

  it('maps an unexpected unique violation to store-conflict, naming the constraint', () => {
    const error = toStoreError(pgError('23505', { constraint: 'send_log_once_per_step' }))
    expect(isMailcadenceError(error, 'store-conflict')).toBe(true)
    expect(error.message).toContain('send_log_once_per_step')
  })

  it('never copies the driver message, which may carry a URL with its password', () => {
    // (Only the user of a rejected login is named on purpose, by the test above.)
    for (const error of [
      pgError('42501'),
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
