import { describe, expect, it } from 'vitest'
import { type CompareInput, compareWithLegacy } from '../../src/migration/compare.js'
import type { LegacySend } from '../../src/migration/types.js'
import type { SendLogEntry } from '../../src/store.js'

// Monday 2026-01-05 in UTC; the window is 09:00–17:00 on weekdays.
const at = (hhmm: string, day = 5) => new Date(`2026-01-0${day}T${hhmm}:00Z`)
const SINCE = at('09:00')

const campaign: CompareInput['campaign'] = {
  timezone: 'UTC',
  startHour: 9,
  startMinute: 0,
  endHour: 17,
  endMinute: 0,
  allowedDays: 'MON,TUE,WED,THU,FRI',
  delayBetweenEmails: 600,
  jitter: 0.2,
  maxEmailsPerDay: 3,
}
const mailboxes = [{ id: '1', email: 'anna@acme.test', dailyEmailLimit: 2, timezone: 'UTC', skipDates: [] }]

const planned = (to: string, step: number, sentAt: Date, mailboxId = '1'): SendLogEntry => ({
  campaignId: 'c1',
  leadId: to,
  step,
  mailboxId,
  messageId: `<${to}.${step}>`,
  to,
  subject: 'Hi',
  sentAt,
})
const legacy = (id: string, to: string, sentAt: Date, step?: number): LegacySend => ({
  id,
  to,
  sentAt,
  ...(step === undefined ? {} : { step }),
})

const compare = (p: SendLogEntry[], l: LegacySend[], over: Partial<CompareInput> = {}) =>
  compareWithLegacy({ campaign, mailboxes, planned: p, legacy: l, since: SINCE, ...over })

describe('compareWithLegacy', () => {
  it('pairs each lead and step, with the difference in time, and finds nothing wrong when they agree', () => {
    const result = compare(
      [planned('a@x.test', 0, at('09:05')), planned('b@x.test', 0, at('09:20'))],
      [legacy('1', 'A@x.test', at('09:00')), legacy('2', 'b@x.test', at('09:30'))],
    )
    expect(result.rows).toEqual([
      { email: 'a@x.test', step: 0, legacyAt: at('09:00'), plannedAt: at('09:05'), differenceMs: 300_000 },
      { email: 'b@x.test', step: 0, legacyAt: at('09:30'), plannedAt: at('09:20'), differenceMs: -600_000 },
    ])
    expect(result.discrepancies).toEqual([])
    expect(result.summary).toEqual({
      compared: 2,
      both: 2,
      legacyOnly: 0,
      plannedOnly: 0,
      medianDifferenceMs: 300_000,
      maxDifferenceMs: 600_000,
    })
  })

  it('infers legacy steps from their order, and leaves imported history out', () => {
    const result = compare(
      // Step 0 was imported from legacy (before `since`); step 1 is planned.
      [planned('a@x.test', 0, at('15:00', 2)), planned('a@x.test', 1, at('10:00'))],
      [legacy('1', 'a@x.test', at('15:00', 2)), legacy('2', 'a@x.test', at('10:30'))],
    )
    expect(result.rows).toEqual([
      { email: 'a@x.test', step: 1, legacyAt: at('10:30'), plannedAt: at('10:00'), differenceMs: -1_800_000 },
    ])
    expect(result.discrepancies).toEqual([])
  })

  it('reports a lead mailcadence would mail twice, one it would skip, and one legacy never mailed', () => {
    const result = compare(
      [planned('dup@x.test', 0, at('10:00')), planned('extra@x.test', 0, at('11:00'))],
      [legacy('1', 'dup@x.test', at('16:00', 2), 0), legacy('2', 'skip@x.test', at('12:00'))],
    )
    expect(result.discrepancies.map((d) => [d.kind, d.source, d.email])).toEqual([
      ['duplicate', 'planned', 'dup@x.test'],
      ['skipped', 'planned', 'skip@x.test'],
      ['extra', 'planned', 'extra@x.test'],
    ])
    expect(result.discrepancies[0]!.message).toContain('already sent by legacy')
    expect(result.summary).toMatchObject({ legacyOnly: 1, plannedOnly: 2, both: 0 })
  })

  it('reports legacy mailing a lead and step twice', () => {
    const result = compare(
      [],
      [legacy('1', 'a@x.test', at('10:00'), 0), legacy('2', 'a@x.test', at('11:00'), 0)],
    )
    expect(result.discrepancies).toEqual([
      expect.objectContaining({ kind: 'duplicate', source: 'legacy', email: 'a@x.test', step: 0 }),
      // Nothing was planned, so the first legacy send is one mailcadence would have skipped.
      expect.objectContaining({ kind: 'skipped', source: 'planned', email: 'a@x.test', step: 0 }),
    ])
  })

  it('reports planned sends outside the window, over the limits and too close together', () => {
    const result = compare(
      [
        planned('a@x.test', 0, at('08:00')), // before the window opens
        planned('b@x.test', 0, at('09:00')),
        planned('c@x.test', 0, at('09:05')), // 5 min after b (under 600 s × 0.8); third from mailbox 1
        planned('d@x.test', 0, at('10:00')),
        planned('e@x.test', 0, at('11:00'), '9'), // fourth in the window day: over the campaign's 3
      ],
      [],
      { since: at('00:00') },
    )
    expect(result.discrepancies.filter((d) => d.kind !== 'extra').map((d) => [d.kind, d.email])).toEqual([
      ['outside-window', 'a@x.test'],
      ['over-mailbox-limit', 'c@x.test'],
      ['too-close', 'c@x.test'],
      ['over-campaign-limit', 'e@x.test'],
    ])
  })

  it('leaves out sends after `until`', () => {
    const result = compare([planned('a@x.test', 0, at('16:00'))], [legacy('1', 'b@x.test', at('16:30'))], {
      until: at('12:00'),
    })
    expect(result.rows).toEqual([])
  })
})
