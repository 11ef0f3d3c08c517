import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isMailcadenceError } from '@mailcadence/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { classifyMessage } from '../../src/index.js'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const corpus = readdirSync(fixtures)
  .filter((name) => name.endsWith('.eml'))
  .map((name) => readFileSync(`${fixtures}${name}`))

describe('classifyMessage', () => {
  it('refuses what is not a message with invalid-input naming raw', async () => {
    for (const raw of [null, undefined, 42, {}, ['a']]) {
      const error = await classifyMessage(raw as never).catch((e: unknown) => e)
      expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
      expect((error as { field: string }).field).toBe('raw')
    }
  })

  it('never throws on arbitrary bytes or text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.string({ maxLength: 2000 })),
        async (raw) => {
          const result = await classifyMessage(raw)
          expect(typeof result.kind).toBe('string')
        },
      ),
      { numRuns: 200 },
    )
  })

  it('never throws on a real message cut short or with bytes flipped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...corpus),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
        async (message, cut, flips) => {
          const bytes = Buffer.from(message.subarray(0, cut % (message.length + 1)))
          for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value
          const result = await classifyMessage(bytes)
          expect(result.linkedMessageIds.every((id) => /^<[^<>\s]+>$/.test(id))).toBe(true)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('never takes an opt-out phrase in the quoted original or a footer link as an unsubscribe', async () => {
    const ownWords = fc.array(fc.constantFrom('yes', 'thanks', 'call me', 'Tuesday', 'pricing?', 'ok'), {
      minLength: 1,
      maxLength: 8,
    })
    const phrase = fc.constantFrom(
      'unsubscribe',
      'remove me',
      'STOP',
      'wypisz mnie',
      'abmelden',
      'désinscrire',
      'darme de baja',
    )
    const quote = fc.oneof(
      phrase.map((p) => `> ${p}`),
      phrase.map((p) => `On Mon, 5 Jan 2026, Alice <a@sender.example> wrote:\n${p}`),
      phrase.map((p) => `-----Original Message-----\nFrom: Alice\n${p}`),
      phrase.map((p) => `${p} <https://sender.example/u/1>`),
    )
    await fc.assert(
      fc.asyncProperty(ownWords, fc.array(quote, { minLength: 1, maxLength: 3 }), async (words, quotes) => {
        const raw = `From: Bob <bob@example.org>\r\nSubject: Re: hi\r\nIn-Reply-To: <a@sender.example>\r\n\r\n${words.join(' ')}\r\n\r\n${quotes.join('\n').replace(/\n/g, '\r\n')}\r\n`
        expect((await classifyMessage(raw)).kind).toBe('reply')
      }),
      { numRuns: 150 },
    )
  })

  it('is deterministic: the same bytes give the same classification', async () => {
    for (const message of corpus.slice(0, 10)) {
      expect(await classifyMessage(message)).toEqual(await classifyMessage(message))
    }
  })

  it('a Return-Path <> vacation without a DSN is out-of-office, a qmail bounce with the same sender is a bounce', async () => {
    const headers =
      'Return-Path: <>\r\nFrom: x@example.org\r\nSubject: Re: hi\r\nDate: Mon, 5 Jan 2026 10:00:00 +0000\r\n\r\n'
    const vacation = await classifyMessage(`${headers}I am on vacation until 12 January.\r\n`)
    expect(vacation).toMatchObject({ kind: 'out-of-office', returnDate: '2026-01-12' })
    const qmail = await classifyMessage(
      `${headers}Hi. This is the qmail-send program at mx.example.org.\r\n\r\n<bob@example.org>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n`,
    )
    expect(qmail).toMatchObject({ kind: 'bounce', severity: 'hard' })
  })
})
