import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dayOfDateHeader, returnDateOf } from '../../src/classify/ooo-date.js'

const dec20 = { year: 2026, month: 12, day: 20 }

describe('returnDateOf', () => {
  it.each([
    ['I will be back on 12 January', '2027-01-12'],
    ['I will be back on January 12th.', '2027-01-12'],
    ['Back in the office on Jan 12, 2027.', '2027-01-12'],
    ['Jestem na urlopie, wracam 5 stycznia.', '2027-01-05'],
    ['Wrócę 5 stycznia 2027 r.', '2027-01-05'],
    ['Ich bin ab dem 12.01.2027 wieder im Büro.', '2027-01-12'],
    ['Ab dem 12.01. bin ich wieder erreichbar.', '2027-01-12'],
    ['Ich bin bis zum 11. Januar nicht im Büro.', '2027-01-11'],
    ['Je serai de retour le 12 janvier.', '2027-01-12'],
    ['De retour le 1er février.', '2027-02-01'],
    ['Regresaré el 12 de enero.', '2027-01-12'],
    ['Estaré de vuelta el 12 de enero de 2027.', '2027-01-12'],
    ['Out until 2027-01-12.', '2027-01-12'],
    ['Away, back 12/01/2027.', '2027-01-12'],
    ['Away, back 01/25/2027.', '2027-01-25'],
    ['Back 12.01.27', '2027-01-12'],
    ['Out of office from 22 December to 6 January.', '2027-01-06'],
    ['Urlaub vom 22.12. bis 06.01.', '2027-01-06'],
    ['Out since 2 December 2026, back 4 January 2027.', '2027-01-04'],
    ['I am out until 12 January, back on 13 January.', '2027-01-13'],
    ['Back on 24 December.', '2026-12-24'],
    ['I will be back on Monday.', '2026-12-21'],
    ['Wracam w poniedziałek.', '2026-12-21'],
    ['Ab Montag bin ich wieder da.', '2026-12-21'],
    ['Je serai de retour mercredi.', '2026-12-23'],
    ['Regreso el lunes.', '2026-12-21'],
    ['Nieobecna do piątku.', '2026-12-25'],
    ['Back on Sunday.', '2026-12-27'],
    ['Back on Monday, 11 January 2027.', '2027-01-11'],
  ])('%s → %s', (text, date) => {
    expect(returnDateOf(text, dec20)).toBe(date)
  })

  it.each([
    ['no date at all', 'I am out of the office.'],
    ['an impossible day', 'Back on 31.02.2027.'],
    ['a date before the message', 'Back on 1 December 2026.'],
    ['a time, not a date', 'Call me at 10.30. Thanks.'],
    ['a version number', 'Running version 12.01 of the app.'],
    ['a weekday without a return word', 'I work on Mondays and Friday afternoons.'],
  ])('null for %s', (_, text) => {
    expect(returnDateOf(text, dec20)).toBeNull()
  })

  it('needs the Date header to place a date without a year, and only then', () => {
    expect(returnDateOf('Back on 12 January.', null)).toBeNull()
    expect(returnDateOf('Back on 12 January 2027.', null)).toBe('2027-01-12')
  })

  it('puts a date without a year at its next occurrence on or after the message day', () => {
    const phrases = [
      (d: number, m: string) => `I will be back on ${d} ${m}.`,
      (d: number, m: string) => `Wracam ${d} ${m}.`,
      (d: number, m: string) => `Je serai de retour le ${d} ${m}.`,
      (d: number, m: string) => `Regresaré el ${d} de ${m}.`,
      (d: number, m: string) => `Ab dem ${d}. ${m} wieder im Büro.`,
    ]
    const months = [
      ['January', 'stycznia', 'janvier', 'enero', 'Januar'],
      ['March', 'marca', 'mars', 'marzo', 'März'],
      ['June', 'czerwca', 'juin', 'junio', 'Juni'],
      ['October', 'października', 'octobre', 'octubre', 'Oktober'],
      ['December', 'grudnia', 'décembre', 'diciembre', 'Dezember'],
    ]
    const monthNumbers = [1, 3, 6, 10, 12]
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 28 }),
        fc.date({ min: new Date('2020-01-01'), max: new Date('2035-12-31'), noInvalidDate: true }),
        (language, monthIndex, day, written) => {
          const today = {
            year: written.getUTCFullYear(),
            month: written.getUTCMonth() + 1,
            day: written.getUTCDate(),
          }
          const month = monthNumbers[monthIndex]!
          const text = phrases[language]!(day, months[monthIndex]![language]!)
          const sameYearPassed = month < today.month || (month === today.month && day < today.day)
          const year = sameYearPassed ? today.year + 1 : today.year
          const expected = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
          expect(returnDateOf(text, today)).toBe(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('never throws and returns a real calendar day or null on any text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = returnDateOf(text, dec20)
        if (result !== null) expect(new Date(`${result}T00:00:00Z`).toISOString().slice(0, 10)).toBe(result)
      }),
      { numRuns: 500 },
    )
  })
})

describe('dayOfDateHeader', () => {
  it('reads the day as the sender wrote it, in their own offset', () => {
    expect(dayOfDateHeader('Mon, 28 Dec 2026 23:30:00 -0800')).toEqual({ year: 2026, month: 12, day: 28 })
    expect(dayOfDateHeader('19 Jan 2026 10:00:00 -0000')).toEqual({ year: 2026, month: 1, day: 19 })
    expect(dayOfDateHeader('Thu, 1 Jan 26 10:00:00 GMT')).toEqual({ year: 2026, month: 1, day: 1 })
    expect(dayOfDateHeader('yesterday')).toBeNull()
    expect(dayOfDateHeader(null)).toBeNull()
  })
})
