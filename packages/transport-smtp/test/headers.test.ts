import { describe, expect, it } from 'vitest'
import { checkHostHeaders, preparedHeaders, signUnsubscribeHeaders } from '../src/headers.js'
import type { SmtpConnectionOptions } from '../src/transport.js'

const refusal = (field: string, problem: RegExp) =>
  expect.objectContaining({ code: 'invalid-input', field, message: expect.stringMatching(problem) })

describe('host headers (createSmtpTransport headers option)', () => {
  it('passes valid headers through, and nothing for undefined', () => {
    expect(checkHostHeaders({ 'Feedback-ID': 'c1:0:acme', 'X-Campaign': 'Zażółć' })).toEqual({
      'Feedback-ID': 'c1:0:acme',
      'X-Campaign': 'Zażółć',
    })
    expect(checkHostHeaders(undefined)).toEqual({})
  })

  it.each([
    [{ 'Bad Name': 'x' }, 'headers', /not a header name/],
    [{ 'X:y': 'x' }, 'headers', /not a header name/],
    [{ subject: 'x' }, 'headers.subject', /cannot be replaced/],
    [{ 'List-Unsubscribe': '<https://evil.test>' }, 'headers.List-Unsubscribe', /cannot be replaced/],
    [{ 'X-A': 'a\r\nBcc: victim@example.com' }, 'headers.X-A', /CR, LF or NUL/],
    [{ 'X-A': 42 }, 'headers.X-A', /must be a string/],
    [{ 'X-A': 'a'.repeat(995) }, 'headers.X-A', /longer than 998/],
    ['Feedback-ID: x', 'headers', /must return an object/],
  ])('refuses %j', (value, field, problem) => {
    expect(() => checkHostHeaders(value)).toThrow(refusal(field, problem))
  })
})

describe('unsubscribe headers for nodemailer', () => {
  it('writes List-Unsubscribe and List-Unsubscribe-Post as prepared (one line), others as they are', () => {
    expect(
      preparedHeaders({ 'List-Unsubscribe': '<https://a.test/u>', 'List-Unsubscribe-Post': 'x', 'X-A': 'b' }),
    ).toEqual({
      'List-Unsubscribe': { prepared: true, value: '<https://a.test/u>' },
      'List-Unsubscribe-Post': { prepared: true, value: 'x' },
      'X-A': 'b',
    })
  })

  it("adds both to nodemailer's default signed list, once, and leaves options without dkim alone", () => {
    const plain = { host: 'smtp.test' } as SmtpConnectionOptions
    expect(signUnsubscribeHeaders(plain)).toBe(plain)
    const signed = signUnsubscribeHeaders({
      host: 'smtp.test',
      dkim: { domainName: 'a.test' },
    } as SmtpConnectionOptions)
    const names = (signed as { dkim: { headerFieldNames: string } }).dkim.headerFieldNames.split(':')
    expect(names).toContain('From')
    expect(names.filter((n) => /^list-unsubscribe/i.test(n))).toEqual([
      'List-Unsubscribe',
      'List-Unsubscribe-Post',
    ])
  })

  it("keeps the host's list and takes both out of its skipFields", () => {
    const signed = signUnsubscribeHeaders({
      dkim: {
        headerFieldNames: 'From: list-unsubscribe :Feedback-ID',
        skipFields: 'List-Unsubscribe-Post:X-A',
      },
    } as SmtpConnectionOptions) as { dkim: { headerFieldNames: string; skipFields: string } }
    expect(signed.dkim.headerFieldNames).toBe('From:list-unsubscribe:Feedback-ID:List-Unsubscribe-Post')
    expect(signed.dkim.skipFields).toBe('X-A')
  })
})
