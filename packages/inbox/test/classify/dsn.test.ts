import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  categoryOf,
  parseDeliveryStatus,
  reportedMessageIdOf,
  severityOf,
  statusOf,
} from '../../src/classify/dsn.js'
import { readTextBounce } from '../../src/classify/text-bounce.js'

describe('severityOf (RFC 3463 classes)', () => {
  it('5.x.x is hard, except 5.2.2 mailbox full', () => {
    expect(severityOf('5.1.1', 'failed')).toBe('hard')
    expect(severityOf('5.7.26', 'failed')).toBe('hard')
    expect(severityOf('5.2.2', 'failed')).toBe('soft')
  })

  it('4.x.x is soft whatever the action; no status with failed is hard', () => {
    fc.assert(
      fc.property(fc.nat(999), fc.nat(999), fc.constantFrom('failed', 'delayed'), (s, d, action) => {
        expect(severityOf(`4.${s}.${d}`, action)).toBe('soft')
      }),
    )
    expect(severityOf(null, 'failed')).toBe('hard')
    expect(severityOf(null, 'delayed')).toBe('soft')
  })

  it('5.x.x other than 5.2.2 is hard', () => {
    fc.assert(
      fc.property(fc.nat(999), fc.nat(999), (s, d) => {
        fc.pre(!(s === 2 && d === 2))
        expect(severityOf(`5.${s}.${d}`, 'failed')).toBe('hard')
      }),
    )
  })
})

describe('statusOf', () => {
  it('prefers a specific Status, else the diagnostic code of the same class, else the reply class', () => {
    expect(statusOf('5.1.1', '550 5.7.1 other')).toBe('5.1.1')
    expect(statusOf('5.0.0', '550 5.1.1 User unknown')).toBe('5.1.1')
    expect(statusOf('5.0.0', '450 4.2.1 later')).toBe('5.0.0')
    expect(statusOf(null, '550-5.1.1 The email account')).toBe('5.1.1')
    expect(statusOf(null, '554 delivery error')).toBe('5.0.0')
    expect(statusOf(null, 'Connection refused by 192.0.2.1')).toBeNull()
    expect(statusOf('5.1.10 (RESOLVER)', null)).toBe('5.1.10')
  })

  it('names the subject of the code', () => {
    expect(categoryOf('5.1.1')).toBe('address')
    expect(categoryOf('5.2.2')).toBe('mailbox')
    expect(categoryOf('5.7.515')).toBe('policy')
    expect(categoryOf(null)).toBe('other')
  })
})

describe('parseDeliveryStatus', () => {
  it('reads each recipient block, unfolding the diagnostic', () => {
    const report = [
      'Reporting-MTA: dns; mx.example',
      '',
      'Final-Recipient: rfc822; A@Example.org',
      'Original-Recipient: rfc822;a@example.org',
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 <a@example.org>: Recipient address',
      '    rejected: User unknown',
      '',
      'Final-Recipient: rfc822; b@example.org',
      'Action: delayed',
      'Status: 4.4.1',
    ].join('\r\n')
    expect(parseDeliveryStatus(report)).toEqual([
      {
        finalRecipient: 'a@example.org',
        originalRecipient: 'a@example.org',
        action: 'failed',
        status: '5.1.1',
        diagnosticCode: '550 5.1.1 <a@example.org>: Recipient address rejected: User unknown',
        severity: 'hard',
        category: 'address',
      },
      {
        finalRecipient: 'b@example.org',
        originalRecipient: null,
        action: 'delayed',
        status: '4.4.1',
        diagnosticCode: null,
        severity: 'soft',
        category: 'network',
      },
    ])
  })
})

describe('reportedMessageIdOf', () => {
  it("reads Gmail's X-Original-Message-ID from the per-message fields only", () => {
    const report =
      'Reporting-MTA: dns; googlemail.com\r\nX-Original-Message-ID: <a@x>\r\n\r\nFinal-Recipient: rfc822; b@y'
    expect(reportedMessageIdOf(report)).toBe('<a@x>')
    expect(reportedMessageIdOf('Reporting-MTA: dns; x\r\n\r\nX-Original-Message-ID: <a@x>')).toBeNull()
  })
})

describe('readTextBounce', () => {
  it('returns null for text that is no bounce', () => {
    expect(readTextBounce('I am on vacation until Monday.')).toBeNull()
  })
})
