import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { classifySendError, enhancedStatus, type SendFailure } from '../src/policy/classify.js'

const MINUTE = 60_000

/** An error the way nodemailer reports an SMTP answer. */
function smtp(responseCode: number, response: string, code = 'EENVELOPE') {
  return Object.assign(new Error(`Message failed: ${response}`), { code, responseCode, response })
}

function actionOf(failure: SendFailure): string {
  return failure.action === 'pause-mailbox' ? `pause-mailbox ${failure.pauseMs / MINUTE}min` : failure.action
}

describe('classifySendError', () => {
  it.each([
    [
      '451 4.3.0 temporary failure',
      smtp(451, '451 4.3.0 Temporary server error. Please try again later'),
      'retry',
    ],
    ['450 mailbox busy', smtp(450, '450 Requested mail action not taken: mailbox unavailable'), 'retry'],
    [
      '421 4.7.0 throttled',
      smtp(421, '421 4.7.0 Try again later, closing connection.'),
      'pause-mailbox 15min',
    ],
    ['421 without enhanced code', smtp(421, '421 Service not available'), 'pause-mailbox 15min'],
    ['450 4.7.1 greylisted by policy', smtp(450, '450 4.7.1 Client host rejected'), 'pause-mailbox 15min'],
    [
      '550 5.7.26 unauthenticated sender',
      smtp(550, '550 5.7.26 This mail has been blocked because the sender is unauthenticated.'),
      'pause-mailbox 360min',
    ],
    ['554 5.7.1 relay denied', smtp(554, '554 5.7.1 Relay access denied'), 'pause-mailbox 360min'],
    [
      '535 5.7.8 bad credentials',
      smtp(535, '535 5.7.8 Username and Password not accepted', 'EAUTH'),
      'pause-mailbox 60min',
    ],
    ['535 without code', { responseCode: 535, response: '535 Authentication failed' }, 'pause-mailbox 60min'],
    [
      '534 needs app password',
      { responseCode: 534, response: '534 5.7.9 Application-specific password required' },
      'pause-mailbox 60min',
    ],
    [
      '530 needs auth',
      { responseCode: 530, response: '530 5.7.0 Authentication Required' },
      'pause-mailbox 60min',
    ],
    ['EAUTH without a reply code', { code: 'EAUTH', message: 'Invalid login' }, 'pause-mailbox 60min'],
    ['ECONNREFUSED code', { code: 'ECONNREFUSED', message: 'connect failed' }, 'pause-mailbox 15min'],
    ['ECONNREFUSED in the message', new Error('connect ECONNREFUSED 127.0.0.1:587'), 'pause-mailbox 15min'],
    [
      '550 5.1.1 unknown user',
      smtp(550, '550 5.1.1 The email account that you tried to reach does not exist.'),
      'bounce',
    ],
    ['553 5.1.3 bad address syntax', smtp(553, '553 5.1.3 Invalid address'), 'bounce'],
    ['550 without enhanced code', smtp(550, '550 No such user here'), 'bounce'],
    ['551 without enhanced code', smtp(551, '551 User not local'), 'bounce'],
    ['553 without enhanced code', smtp(553, '553 Mailbox name not allowed'), 'bounce'],
    [
      '552 5.2.2 mailbox full',
      smtp(552, '552 5.2.2 The email account that you tried to reach is over quota.'),
      'retry',
    ],
    ['554 5.6.0 bad content', smtp(554, '554 5.6.0 Message content rejected'), 'fail'],
    ['552 5.3.4 message too big', smtp(552, '552 5.3.4 Message size exceeds fixed limit'), 'fail'],
    ['550 5.2.1 mailbox disabled', smtp(550, '550 5.2.1 The email account is disabled'), 'fail'],
    ['554 without enhanced code', smtp(554, '554 Transaction failed'), 'fail'],
    ['ECONNECTION', { code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, 'retry'],
    ['ETIMEDOUT', { code: 'ETIMEDOUT', message: 'Timeout' }, 'retry'],
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'retry'],
    ['a thrown string', 'something broke', 'retry'],
    ['a thrown number', 42, 'retry'],
    ['null', null, 'retry'],
    ['an empty object', {}, 'retry'],
    ['a plain Error', new TypeError('cannot read properties of undefined'), 'retry'],
  ] as const)('%s → %s', (_label, error, expected) => {
    expect(actionOf(classifySendError(error))).toBe(expected)
  })

  it('reads the reply code from the response text when responseCode is missing', () => {
    expect(classifySendError({ response: '550 5.1.1 <x@y.test>: Recipient address rejected' }).action).toBe(
      'bounce',
    )
    expect(classifySendError({ message: '554 5.6.0 rejected' }).action).toBe('fail')
    expect(classifySendError({ message: '550 User unknown' }).action).toBe('bounce')
  })

  it('prefers the response over the message', () => {
    const error = { message: 'Message failed: 550 5.1.1 gone', response: '451 4.3.0 later' }
    expect(classifySendError(error).action).toBe('retry')
  })

  it('trusts responseCode over the code written in the text', () => {
    expect(classifySendError({ responseCode: 554, response: 'Transaction failed' }).action).toBe('fail')
    expect(classifySendError({ responseCode: 450, response: 'try later' }).action).toBe('retry')
  })

  // An IP address or a version number in the text is not an RFC 3463 code ("10.5.1.3" is not 5.1.3).
  it('does not bounce a temporary 451 answer whose text holds an IP address', () => {
    const failure = classifySendError(smtp(451, '451 Temporary local problem - server 10.5.1.3 busy'))
    expect(failure.action).toBe('retry')
  })

  it('does not read an IP address in a 554 answer as a 5.1.x bad-address code', () => {
    const failure = classifySendError(smtp(554, '554 Your IP 10.5.1.20 is on a blocklist'))
    expect(failure.action).toBe('fail')
  })

  describe('detail', () => {
    it('is the server answer, prefixed by the error code when the answer does not carry it', () => {
      expect(classifySendError(smtp(550, '550 5.1.1 No such user')).detail).toBe(
        'EENVELOPE: 550 5.1.1 No such user',
      )
      expect(classifySendError({ code: 'ETIMEDOUT', message: 'Timeout' }).detail).toBe('ETIMEDOUT: Timeout')
      expect(classifySendError(new Error('connect ECONNREFUSED 127.0.0.1:587')).detail).toBe(
        'connect ECONNREFUSED 127.0.0.1:587',
      )
      expect(classifySendError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED ::1' }).detail).toBe(
        'connect ECONNREFUSED ::1',
      )
      expect(classifySendError('boom').detail).toBe('boom')
      expect(classifySendError({}).detail).toBe('unknown error')
    })

    it('folds multi-line replies onto one line', () => {
      const failure = classifySendError(
        smtp(550, '550-5.1.1 The email account\r\n550-5.1.1 does not exist.\n550 5.1.1 x'),
      )
      expect(failure.action).toBe('bounce')
      expect(failure.detail).toBe(
        'EENVELOPE: 550-5.1.1 The email account 550-5.1.1 does not exist. 550 5.1.1 x',
      )
    })

    it('is cut to about 500 characters', () => {
      const failure = classifySendError(smtp(550, `550 5.1.1 ${'x'.repeat(2000)}`))
      expect(failure.detail.length).toBeLessThanOrEqual(500 + 'EENVELOPE: '.length)
      expect(failure.detail.startsWith('EENVELOPE: 550 5.1.1 xxx')).toBe(true)
      expect(classifySendError('y'.repeat(1000)).detail).toBe('y'.repeat(500))
    })

    it('never holds a line break and stays short, whatever the answer (property)', () => {
      fc.assert(
        fc.property(
          fc.record(
            {
              message: fc.string({ maxLength: 700 }),
              response: fc.string({
                unit: fc.constantFrom('5', '0', '.', ' ', '\r', '\n', 'a'),
                maxLength: 1200,
              }),
              responseCode: fc.integer({ min: 200, max: 599 }),
              code: fc.constantFrom('EENVELOPE', 'ETIMEDOUT', 'EAUTH', 'ECONNECTION'),
            },
            { requiredKeys: [] },
          ),
          (error) => {
            const { detail } = classifySendError(error)
            expect(detail).not.toMatch(/[\r\n]/)
            expect(detail.length).toBeLessThanOrEqual(520)
          },
        ),
        { numRuns: 300 },
      )
    })
  })
})

describe('enhancedStatus', () => {
  it.each([
    ['550 5.1.1 User unknown', '5.1.1'],
    ['421 4.7.0 Try again later', '4.7.0'],
    ['550 5.7.26 Unauthenticated', '5.7.26'],
    ['250 2.0.0 OK', '2.0.0'],
    ['550-5.1.1 multi-line', '5.1.1'],
    ['Message failed: 552 5.2.2 over quota', '5.2.2'],
    ['554 5.7.515 Access denied', '5.7.515'],
  ])('reads %j as %s', (response, expected) => {
    expect(enhancedStatus(response)).toBe(expected)
  })

  it.each([undefined, '', '550 No such user', '550 3.1.1 wrong class', '550 5.1', 'v15.1.1a'])(
    'finds none in %j',
    (response) => {
      expect(enhancedStatus(response)).toBeNull()
    },
  )
})
