/**
 * The store kit (`@mailcadence/core/store-kit`): the refusal order of `reserveSends`, the
 * rotation of first emails over a campaign's mailboxes, window-key membership and the migration
 * capability check. Adapters call these instead of re-deriving the rules.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MailboxCandidate, ReserveRequest, Store } from '../src/store.js'
import {
  candidatesInTurn,
  isKeyListed,
  type ReservationFacts,
  refusalFor,
  rotationTurn,
  supportsMigration,
} from '../src/store-kit/index.js'

const NUM_RUNS = Number(process.env.POLICY_RUNS ?? 400)
const NOW = new Date('2026-03-10T12:00:00Z')
const later = (ms: number) => new Date(NOW.getTime() + ms)

const candidate = (mailboxId: string): MailboxCandidate => ({
  mailboxId,
  dayKey: '2026-03-10',
  dailyEmailLimit: 50,
  messageId: `<${mailboxId}@acme.test>`,
})

function request(overrides: Partial<ReserveRequest> = {}): ReserveRequest {
  return {
    campaignId: 'c-1',
    leaseToken: 'lease-1',
    leaseUntil: later(300_000),
    campaignDayKey: '2026-03-10',
    maxEmailsPerDay: 10,
    nextSlotAt: later(90_000),
    mailboxes: [candidate('a')],
    ...overrides,
  }
}

/** Facts under which every check passes: the refusal can only be mailbox-limit. */
const passing: ReservationFacts = {
  status: 'IN_PROGRESS',
  nextSlotAt: null,
  campaignCount: 0,
  earliestPendingAt: later(-60_000),
  earliestListedAt: later(-60_000),
}

describe('refusalFor', () => {
  it('names each reason, in the order reserveSends checks', () => {
    const req = request()
    const refuse = (facts: Partial<ReservationFacts>) => refusalFor(req, { ...passing, ...facts }, NOW)
    expect(refuse({ status: null })).toEqual({ ok: false, reason: 'not-running' })
    expect(refuse({ status: 'PAUSED', nextSlotAt: later(1) })).toEqual({ ok: false, reason: 'not-running' })
    expect(refuse({ nextSlotAt: later(5000), campaignCount: 10 })).toEqual({
      ok: false,
      reason: 'pacing',
      until: later(5000),
    })
    expect(refuse({ campaignCount: 10, earliestPendingAt: null })).toEqual({
      ok: false,
      reason: 'campaign-limit',
    })
    expect(refuse({ earliestPendingAt: null, earliestListedAt: null })).toEqual({
      ok: false,
      reason: 'queue-empty',
    })
    expect(refuse({ earliestListedAt: null })).toEqual({ ok: false, reason: 'window-closed' })
    expect(refuse({ earliestListedAt: later(60_000) })).toEqual({
      ok: false,
      reason: 'not-due',
      until: later(60_000),
    })
    expect(refuse({})).toEqual({ ok: false, reason: 'mailbox-limit' })
  })

  it('treats its bounds as the store does: a slot or an item at now is due, a count at the cap is full', () => {
    const req = request()
    expect(refusalFor(req, { ...passing, nextSlotAt: NOW, earliestListedAt: NOW }, NOW).reason).toBe(
      'mailbox-limit',
    )
    expect(refusalFor(req, { ...passing, campaignCount: 9 }, NOW).reason).toBe('mailbox-limit')
    expect(refusalFor(req, { ...passing, campaignCount: 11 }, NOW).reason).toBe('campaign-limit')
    expect(refusalFor(request({ maxEmailsPerDay: 0 }), passing, NOW).reason).toBe('campaign-limit')
  })

  const CHECKS = [
    'not-running',
    'pacing',
    'campaign-limit',
    'queue-empty',
    'window-closed',
    'not-due',
  ] as const

  it('answers the first check that fails, whichever others fail too (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          failing: fc.subarray([...CHECKS]),
          status: fc.constantFrom('DRAFT' as const, 'PAUSED' as const, 'COMPLETED' as const, null),
          max: fc.integer({ min: 0, max: 1000 }),
          ahead: fc.integer({ min: 1, max: 86_400_000 }),
          behind: fc.integer({ min: 0, max: 86_400_000 }),
        }),
        ({ failing, status, max, ahead, behind }) => {
          const fails = new Set<string>(failing)
          const listedFails = fails.has('window-closed') || fails.has('queue-empty')
          const facts: ReservationFacts = {
            status: fails.has('not-running') ? status : 'IN_PROGRESS',
            nextSlotAt: fails.has('pacing') ? later(ahead) : behind % 2 ? null : later(-behind),
            campaignCount: fails.has('campaign-limit')
              ? max + (behind % 3)
              : Math.max(0, max - 1 - (behind % 3)),
            earliestPendingAt: fails.has('queue-empty') ? null : later(-behind),
            earliestListedAt: listedFails ? null : fails.has('not-due') ? later(ahead) : later(-behind),
          }
          // A count under a cap of 0 cannot be: the cap then always fails.
          const expected =
            max === 0 ? [...CHECKS].find((c) => fails.has(c) || c === 'campaign-limit') : undefined
          const first = expected ?? CHECKS.find((c) => fails.has(c)) ?? 'mailbox-limit'
          const refusal = refusalFor(request({ maxEmailsPerDay: max }), facts, NOW) as {
            reason: string
            until?: Date
          }
          expect(refusal.reason).toBe(first)
          if (first === 'pacing') expect(refusal.until).toEqual(facts.nextSlotAt)
          else if (first === 'not-due') expect(refusal.until).toEqual(facts.earliestListedAt)
          else expect(refusal.until).toBeUndefined()
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('isKeyListed', () => {
  it('lets every key leave without windowKeys, only the listed ones with', () => {
    expect(isKeyListed(request(), 'Asia/Tokyo|JP')).toBe(true)
    expect(isKeyListed(request(), '')).toBe(true)
    const req = request({ windowKeys: ['', 'Europe/Warsaw|PL'] })
    expect(isKeyListed(req, '')).toBe(true)
    expect(isKeyListed(req, 'Europe/Warsaw|PL')).toBe(true)
    expect(isKeyListed(req, 'Europe/Warsaw|')).toBe(false)
    expect(isKeyListed(request({ windowKeys: [] }), '')).toBe(false)
  })
})

/** The rotation as the scheduler used to compute it: from the one after `last`, wrapping. */
function rotationOrder(ids: readonly string[], last: string | null): string[] {
  const index = last === null ? -1 : ids.indexOf(last)
  return index < 0 ? [...ids] : [...ids.slice(index + 1), ...ids.slice(0, index + 1)]
}

const order = (req: ReserveRequest, last: string | null) =>
  candidatesInTurn(req, last).map((c) => c.mailboxId)

describe('rotationTurn and candidatesInTurn', () => {
  const abc = ['a', 'b', 'c'].map(candidate)

  it('keeps the order given without a rotation', () => {
    expect(order(request({ mailboxes: abc }), 'a')).toEqual(['a', 'b', 'c'])
    const turn = rotationTurn(request({ mailboxes: abc }), 'b')
    expect(abc.map((c, i) => turn(c, i))).toEqual([0, 1, 2])
  })

  it('starts after the last mailbox used, wrapping', () => {
    const req = request({ mailboxes: abc, rotation: ['a', 'b', 'c'] })
    expect(order(req, 'a')).toEqual(['b', 'c', 'a'])
    expect(order(req, 'b')).toEqual(['c', 'a', 'b'])
    expect(order(req, 'c')).toEqual(['a', 'b', 'c'])
    expect(order(request({ mailboxes: [candidate('a')], rotation: ['a'] }), 'a')).toEqual(['a'])
  })

  it('starts from the first with no last mailbox or one no longer in the rotation', () => {
    const req = request({ mailboxes: abc, rotation: ['c', 'a', 'b'] })
    expect(order(req, null)).toEqual(['c', 'a', 'b'])
    expect(order(req, 'gone')).toEqual(['c', 'a', 'b'])
  })

  it('passes over mailboxes that are not candidates, and puts candidates outside the rotation last, in the order given', () => {
    const req = request({
      mailboxes: ['x', 'c', 'a', 'y'].map(candidate),
      rotation: ['a', 'b', 'c'],
    })
    // After a: b (paused, not a candidate), then c, then a; then x and y as given.
    expect(order(req, 'a')).toEqual(['c', 'a', 'x', 'y'])
    expect(order(req, 'b')).toEqual(['c', 'a', 'x', 'y'])
    expect(order(req, 'c')).toEqual(['a', 'c', 'x', 'y'])
  })

  it('does not change its input', () => {
    const mailboxes = ['b', 'a'].map(candidate)
    const req = request({ mailboxes, rotation: ['a', 'b'] })
    expect(order(req, null)).toEqual(['a', 'b'])
    expect(mailboxes.map((c) => c.mailboxId)).toEqual(['b', 'a'])
  })

  const idsArb = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 0, maxLength: 10 })
  const caseArb = fc.tuple(idsArb, idsArb).chain(([rotation, extra]) =>
    fc.record({
      rotation: fc.constant(rotation),
      candidates: fc.shuffledSubarray([...new Set([...rotation, ...extra])]).map((ids) => ids.map(candidate)),
      last:
        rotation.length === 0
          ? fc.option(fc.string())
          : fc.oneof(fc.constantFrom(...rotation), fc.option(fc.string())),
    }),
  )

  it('is the old rotation order without the non-candidates, then the others as given (property)', () => {
    fc.assert(
      fc.property(caseArb, ({ rotation, candidates, last }) => {
        const req = request({ mailboxes: candidates, rotation })
        const ids = new Set(candidates.map((c) => c.mailboxId))
        const inRotation = new Set(rotation)
        expect(order(req, last)).toEqual([
          ...rotationOrder(rotation, last).filter((id) => ids.has(id)),
          ...candidates.map((c) => c.mailboxId).filter((id) => !inRotation.has(id)),
        ])
        // Turns: distinct, rotation members below the rotation's size, the others from it on.
        const turn = rotationTurn(req, last)
        const turns = candidates.map((c, i) => turn(c, i))
        expect(new Set(turns).size).toBe(turns.length)
        for (const [i, c] of candidates.entries())
          expect(turns[i]! < rotation.length).toBe(inRotation.has(c.mailboxId))
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('visits every mailbox once per round when the first in turn always sends (property)', () => {
    fc.assert(
      fc.property(idsArb, fc.integer({ min: 1, max: 3 }), (ids, rounds) => {
        fc.pre(ids.length > 0)
        const req = request({ mailboxes: [...ids].reverse().map(candidate), rotation: ids })
        let last: string | null = null
        const counts = new Map<string, number>()
        for (let i = 0; i < ids.length * rounds; i++) {
          const chosen: string = candidatesInTurn(req, last)[0]!.mailboxId
          counts.set(chosen, (counts.get(chosen) ?? 0) + 1)
          last = chosen
        }
        for (const id of ids) expect(counts.get(id)).toBe(rounds)
      }),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('supportsMigration', () => {
  it('is true only when all three migration methods are there', () => {
    const fn = async () => null
    const full = { getCampaignByExternalId: fn, importLeads: fn, recordExternalSends: fn } as unknown as Store
    expect(supportsMigration(full)).toBe(true)
    for (const missing of ['getCampaignByExternalId', 'importLeads', 'recordExternalSends']) {
      expect(supportsMigration({ ...full, [missing]: undefined } as Store)).toBe(false)
      expect(supportsMigration({ ...full, [missing]: 'yes' } as unknown as Store)).toBe(false)
    }
  })
})
