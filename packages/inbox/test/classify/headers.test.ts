import { describe, expect, it } from 'vitest'
import { parseFields } from '../../src/classify/fields.js'
import { autoSignal, isMailSystemSender, linkedIdsOfHeaders } from '../../src/classify/headers.js'
import { messageIdsIn, normaliseMessageId } from '../../src/classify/message-ids.js'

const headers = (text: string) => parseFields(text)

describe('autoSignal', () => {
  it.each([
    ['Auto-Submitted: auto-replied', 'auto-submitted'],
    ['Auto-Submitted: auto-generated (failure)', 'auto-submitted'],
    ['Auto-Submitted: Auto-Notified', 'auto-submitted'],
    ['X-Autoreply: yes', 'x-autoreply'],
    ['X-Autorespond: Thanks', 'x-autorespond'],
    ['Precedence: bulk', 'precedence'],
    ['Precedence: junk', 'precedence'],
    ['Precedence: auto_reply', 'precedence'],
    ['Return-Path: <>', 'null-return-path'],
    ['Return-Path: < >', 'null-return-path'],
  ])('%s → %s', (header, signal) => {
    expect(autoSignal(headers(header))).toBe(signal)
  })

  it.each([
    'Auto-Submitted: no',
    'Auto-Submitted: No (a person)',
    'X-Autoreply: no',
    'Precedence: list',
    'X-Auto-Response-Suppress: All',
    'Return-Path: <bob@example.org>',
  ])('%s is a person', (header) => {
    expect(autoSignal(headers(header))).toBeNull()
  })
})

describe('isMailSystemSender', () => {
  it('knows the null sender, MAILER-DAEMON and postmaster, not people', () => {
    expect(isMailSystemSender(headers('Return-Path: <>'))).toBe(true)
    expect(isMailSystemSender(headers('From: Mail Delivery System <MAILER-DAEMON@mx.example>'))).toBe(true)
    expect(isMailSystemSender(headers('From: postmaster@outlook.com'))).toBe(true)
    expect(isMailSystemSender(headers('From: Bob <bob@example.org>'))).toBe(false)
  })
})

describe('Message-IDs', () => {
  it('normalises to one pair of angle brackets', () => {
    expect(normaliseMessageId('abc@x')).toBe('<abc@x>')
    expect(normaliseMessageId(' <abc@x> ')).toBe('<abc@x>')
    expect(normaliseMessageId('<>')).toBeNull()
    expect(messageIdsIn('<a@x> <b@y>\t<c@z>')).toEqual(['<a@x>', '<b@y>', '<c@z>'])
    expect(messageIdsIn('a@x, b@y')).toEqual(['<a@x>', '<b@y>'])
  })

  it('links In-Reply-To first, then References newest first, without duplicates', () => {
    const fields = headers('In-Reply-To: <c@x>\nReferences: <a@x>\n <b@x> <c@x>')
    expect(linkedIdsOfHeaders(fields)).toEqual(['<c@x>', '<b@x>', '<a@x>'])
  })
})
