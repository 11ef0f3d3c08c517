import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isQuotedLine, ownText } from '../../src/classify/quote.js'

describe('ownText', () => {
  it.each([
    ['Gmail', 'Yes.\n\nOn Mon, Jan 5, 2026 at 10:00 AM Alice <a@b.example> wrote:\n> unsubscribe'],
    [
      'Gmail, wrapped',
      'Yes.\n\nOn Mon, Jan 5, 2026 at 10:00 AM Alice Sender <\na@b.example> wrote:\n\nunsubscribe',
    ],
    ['Thunderbird', 'Yes.\n\nOn 1/5/26 10:00, Alice wrote:\nunsubscribe'],
    ['German', 'Yes.\n\nAm 05.01.2026 um 10:00 schrieb Alice <a@b.example>:\nunsubscribe'],
    ['French', 'Yes.\n\nLe lun. 5 janv. 2026 à 10:00, Alice <a@b.example> a écrit :\nunsubscribe'],
    [
      'Spanish, wrapped',
      'Yes.\n\nEl lun, 5 ene 2026 a las 10:00, Alice (<a@b.example>)\nescribió:\nunsubscribe',
    ],
    ['Polish', 'Yes.\n\nW dniu 5.01.2026 o 10:00, Alice pisze:\nunsubscribe'],
    ['Polish napisał(a)', 'Yes.\n\nAlice <a@b.example> napisał(a):\nunsubscribe'],
    ['Outlook rule', 'Yes.\n\n________________________________\nFrom: Alice\nSent: Monday\nunsubscribe'],
    [
      'Outlook block',
      'Yes.\n\nFrom: Alice <a@b.example>\nSent: Monday, January 5, 2026\nTo: Bob\nunsubscribe',
    ],
    ['Outlook German', 'Yes.\n\nVon: Alice <a@b.example>\nGesendet: Montag, 5. Januar 2026\nunsubscribe'],
    ['Original Message', 'Yes.\n\n-----Original Message-----\nunsubscribe'],
    ['Ursprüngliche Nachricht', 'Yes.\n\n-----Ursprüngliche Nachricht-----\nunsubscribe'],
    ['Forwarded', 'Yes.\n\n---------- Forwarded message ---------\nunsubscribe'],
    ['Zoho', 'Yes.\n\n---- On Mon, 05 Jan 2026 10:00:00 +0000 Alice <a@b.example> wrote ----\nunsubscribe'],
    ['signature', 'Yes.\n-- \nAlice\nunsubscribe'],
    ['phone', 'Yes.\n\nSent from my iPhone\nunsubscribe'],
  ])('cuts at the %s quote marker', (_, text) => {
    expect(ownText(text)).toBe('Yes.')
  })

  it('drops interleaved quoted lines and keeps the answers', () => {
    expect(ownText('> Question one?\nAnswer one.\n  > Question two?\nAnswer two.')).toBe(
      'Answer one.\nAnswer two.',
    )
  })

  it('keeps a message without quotes whole', () => {
    expect(ownText('Hello,\nplease call me.\n\nBob')).toBe('Hello,\nplease call me.\n\nBob')
  })

  it('never keeps a line that starts with >', () => {
    const line = fc.oneof(
      fc.string(),
      fc.string().map((s) => `> ${s}`),
      fc.string().map((s) => ` \t>${s}`),
      fc.constantFrom('On Mon, Alice wrote:', 'From: a', 'Sent: b', '-- ', '>', '>>'),
    )
    const text = fc
      .tuple(fc.array(line), fc.constantFrom('\n', '\r\n', '\r'))
      .map(([lines, eol]) => lines.join(eol))
    fc.assert(
      fc.property(text, (input) => {
        for (const kept of ownText(input).split(/\r\n|\r|\n/)) expect(isQuotedLine(kept)).toBe(false)
      }),
      { numRuns: 500 },
    )
  })

  it('only keeps lines of the input', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (lines) => {
        const input = lines.join('\n')
        const inputLines = new Set(input.split(/\r\n|\r|\n/).map((l) => l.trim()))
        for (const kept of ownText(input).split(/\r\n|\r|\n/)) {
          if (kept.trim() !== '') expect(inputLines.has(kept.trim())).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })
})
