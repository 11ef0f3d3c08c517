/**
 * Store contract: what the limits that protect mailboxes need from a store (issue 14). The
 * mailbox's and the campaign's new settings and core's warm-up bookkeeping are kept as given, and
 * named counters (`CounterStore`) are claimed all or nothing, never past a limit, also under
 * concurrent claims.
 */
import { describe, expect, it } from 'vitest'
import type { CounterStore, Store } from '../../../store.js'
import { supportsCounters } from '../../../store-kit/index.js'
import type { Fixtures } from './fixtures.js'

function countersOf(store: Store): Store & CounterStore {
  if (!supportsCounters(store)) throw new Error('the store lacks the CounterStore methods (see store.ts)')
  return store
}

export function limitsContract(fixtures: Fixtures): void {
  const { T0, at, newCampaign, makeStore, setup } = fixtures
  const later = new Date(T0.getTime() + 86_400_000)
  describe('limits that protect mailboxes', () => {
    it('keeps a mailbox’s hourly limit, ramp, provider and warm-up progress', async () => {
      const store = await makeStore()
      const plain = await store.createMailbox(
        { email: 'a@acme.test', name: null, dailyEmailLimit: 50, timezone: 'UTC', skipDates: [] },
        T0,
      )
      expect(plain).toMatchObject({
        hourlyLimit: null,
        rampUp: null,
        provider: null,
        rampLevel: 0,
        rampDayKey: null,
      })
      const box = await store.createMailbox(
        {
          email: 'b@acme.test',
          name: null,
          dailyEmailLimit: 50,
          timezone: 'Europe/Warsaw',
          skipDates: [],
          hourlyLimit: 12,
          rampUp: { start: 10, step: 5, minUtilization: 0.8 },
          provider: 'google',
        },
        T0,
      )
      expect(box).toMatchObject({
        hourlyLimit: 12,
        rampUp: { start: 10, step: 5, minUtilization: 0.8 },
        provider: 'google',
        rampLevel: 0,
        rampDayKey: null,
      })
      const moved = await store.updateMailbox(box.id, { rampLevel: 3, rampDayKey: '2025-01-09' }, at(1))
      expect(moved).toMatchObject({
        rampLevel: 3,
        rampDayKey: '2025-01-09',
        hourlyLimit: 12,
        provider: 'google',
      })
      const cleared = await store.updateMailbox(
        box.id,
        { hourlyLimit: null, rampUp: null, provider: 'other' },
        at(2),
      )
      expect(cleared).toMatchObject({ hourlyLimit: null, rampUp: null, provider: 'other', rampLevel: 3 })
      const [read] = await store.getMailboxes([box.id])
      expect(read).toEqual(cleared)
    })

    it('keeps a campaign’s recipient-domain limit and provider matching', async () => {
      const { store, mailboxes, campaign } = await setup({ start: false })
      expect(campaign).toMatchObject({ recipientDomainLimit: null, providerMatching: 'off' })
      const limited = await store.createCampaign(
        newCampaign([mailboxes[0]!.id], {
          recipientDomainLimit: { perDay: 2, scope: 'all', exemptFreeMail: false },
          providerMatching: 'strict',
        }),
        T0,
      )
      expect(limited).toMatchObject({
        recipientDomainLimit: { perDay: 2, scope: 'all', exemptFreeMail: false },
        providerMatching: 'strict',
      })
      const updated = await store.updateCampaign(
        limited.id,
        { recipientDomainLimit: null, providerMatching: 'prefer' },
        at(1),
      )
      expect(updated).toMatchObject({ recipientDomainLimit: null, providerMatching: 'prefer' })
      expect(await store.getCampaign(limited.id)).toEqual(updated)
    })

    it('claims counters all or nothing, never past a limit', async () => {
      const store = countersOf(await makeStore())
      const claim = (key: string, limit: number | null, by?: number) => ({
        key,
        limit,
        expiresAt: later,
        ...(by === undefined ? {} : { by }),
      })
      expect(await store.readCounters(['h', 'd'])).toEqual({ h: 0, d: 0 })
      expect(await store.claimCounters([claim('h', 2), claim('d', 3)], T0)).toBe(true)
      expect(await store.claimCounters([claim('h', 2), claim('d', 3)], T0)).toBe(true)
      // h is full: nothing is taken, d neither.
      expect(await store.claimCounters([claim('h', 2), claim('d', 3)], T0)).toBe(false)
      expect(await store.readCounters(['h', 'd', 'x'])).toEqual({ h: 2, d: 2, x: 0 })
      expect(await store.claimCounters([claim('d', 3)], T0)).toBe(true)
      expect(await store.claimCounters([claim('d', null, 5)], T0)).toBe(true)
      expect(await store.claimCounters([claim('e', 4, 5)], T0)).toBe(false)
      expect(await store.claimCounters([claim('e', 5, 5)], T0)).toBe(true)
      await store.releaseCounters(['h', 'e', 'never'], at(1))
      await store.releaseCounters(['never'], at(1))
      expect(await store.readCounters(['h', 'd', 'e', 'never'])).toEqual({ h: 1, d: 8, e: 4, never: 0 })
      const long = `k${'x'.repeat(199)}`
      expect(await store.claimCounters([claim(long, 1)], T0)).toBe(true)
      expect(await store.readCounters([long])).toEqual({ [long]: 1 })
    })

    it('never lets concurrent claims pass a limit', async () => {
      const store = countersOf(await makeStore())
      const claims = Array.from({ length: 40 }, (_, i) =>
        store.claimCounters(
          [
            { key: 'hour', limit: 7, expiresAt: later },
            { key: `own-${i % 4}`, limit: 100, expiresAt: later },
          ],
          T0,
        ),
      )
      const won = (await Promise.all(claims)).filter(Boolean).length
      expect(won).toBe(7)
      const counts = await store.readCounters(['hour', 'own-0', 'own-1', 'own-2', 'own-3'])
      expect(counts.hour).toBe(7)
      expect(counts['own-0']! + counts['own-1']! + counts['own-2']! + counts['own-3']!).toBe(7)
    })

    it('forgets expired counters only after their expiry, never a live one', async () => {
      const store = countersOf(await makeStore())
      await store.claimCounters([{ key: 'short', limit: null, expiresAt: at(1) }], T0)
      await store.claimCounters([{ key: 'long', limit: null, expiresAt: later }], T0)
      // Many claims long after `short` expired: a store may sweep it, but `long` must stay.
      for (let i = 0; i < 30; i++)
        await store.claimCounters([{ key: `n${i}`, limit: null, expiresAt: later }], at(120))
      expect((await store.readCounters(['long'])).long).toBe(1)
    })
  })
}
