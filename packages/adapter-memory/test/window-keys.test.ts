/**
 * The memory store's pending index per window key: a reservation limited to some keys never
 * looks at the items of the others, however many they are (the conformance suite checks what it
 * returns; this checks what it costs, by counting heap operations, not by timing).
 */
import type { NewLead, ReserveRequest } from '@mailcadence/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PendingHeap } from '../../core/src/memory/heap.js'
import { createMemoryStore, type MemoryStore } from '../src/index.js'

const T0 = new Date('2026-03-02T09:00:00.000Z')
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000)

function lead(email: string, windowKey: string): NewLead {
  const [timezone, country] = windowKey === '' ? [null, null] : windowKey.split('|')
  return {
    email,
    emailKey: email,
    firstName: null,
    lastName: null,
    company: null,
    variables: {},
    timezone: timezone || null,
    country: country || null,
    windowKey,
  }
}

/** A started campaign on one mailbox with `closed` leads keyed `Asia/Tokyo|` added first, then one keyed `Europe/Warsaw|`. */
async function setup(
  closed: number,
): Promise<{ store: MemoryStore; campaignId: string; request: ReserveRequest }> {
  const store = createMemoryStore()
  const box = await store.createMailbox(
    { email: 'm@acme.test', name: null, dailyEmailLimit: 1_000_000, timezone: 'UTC', skipDates: [] },
    T0,
  )
  const campaign = await store.createCampaign(
    {
      name: 'zones',
      timezone: 'UTC',
      startHour: 0,
      startMinute: 0,
      endHour: 0,
      endMinute: 0,
      allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
      windowTimezone: 'lead',
      skipDates: [],
      delayBetweenEmails: 0,
      jitter: 0,
      maxEmailsPerDay: 1_000_000,
      mailboxIds: [box.id],
      steps: [{ subject: 'Hi', text: 'Hello' }],
      variables: [],
    },
    T0,
  )
  const tokyo = Array.from({ length: closed }, (_, i) => lead(`t${i}@example.com`, 'Asia/Tokyo|'))
  await store.addLeads(campaign.id, tokyo, T0)
  await store.addLeads(campaign.id, [lead('w@example.com', 'Europe/Warsaw|')], at(1))
  await store.setCampaignStatus(campaign.id, { from: ['DRAFT'], to: 'IN_PROGRESS' }, T0)
  const request: ReserveRequest = {
    campaignId: campaign.id,
    campaignDayKey: '2026-03-02',
    maxEmailsPerDay: 1_000_000,
    nextSlotAt: at(2),
    leaseToken: 'lease',
    leaseUntil: at(10),
    mailboxes: [
      { mailboxId: box.id, dayKey: '2026-03-02', dailyEmailLimit: 1_000_000, messageId: '<1@acme.test>' },
    ],
    windowKeys: ['Europe/Warsaw|'],
  }
  return { store, campaignId: campaign.id, request }
}

/** How many heap operations one reservation makes. */
async function heapOperationsOf(store: MemoryStore, request: ReserveRequest, now: Date): Promise<number> {
  const spies = (['peek', 'removeTop', 'push', 'pending', 'countDue'] as const).map((name) =>
    vi.spyOn(PendingHeap.prototype, name),
  )
  const [outcome] = await store.reserveSends([request], now)
  expect(outcome?.ok).toBe(true)
  const calls = spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0)
  for (const spy of spies) spy.mockRestore()
  return calls
}

describe('reserving with windowKeys', () => {
  afterEach(() => vi.restoreAllMocks())

  it('takes the open key’s item past 10,000 earlier items of a closed key, at the cost of 1 closed item', async () => {
    const large = await setup(10_000)
    const small = await setup(1)
    const largeOps = await heapOperationsOf(large.store, large.request, at(1))
    const smallOps = await heapOperationsOf(small.store, small.request, at(1))
    expect(largeOps).toBe(smallOps)
    expect(largeOps).toBeLessThan(20)
    const [item] = (await large.store.listQueueItems(large.campaignId)).filter((i) => i.status === 'sending')
    expect(item?.windowKey).toBe('Europe/Warsaw|')
  })

  it('refuses window-closed once the open key is drained, and takes the closed key’s items unfiltered', async () => {
    const { store, campaignId, request } = await setup(3)
    await store.reserveSends([request], at(1))
    const [closed] = await store.reserveSends([{ ...request, nextSlotAt: at(3) }], at(2))
    expect(closed).toEqual({ ok: false, reason: 'window-closed' })
    const [open] = await store.reserveSends([{ ...request, nextSlotAt: at(3), windowKeys: undefined }], at(2))
    expect(open?.ok && open.send.item.windowKey).toBe('Asia/Tokyo|')
    expect(await store.listWindowKeys(campaignId)).toEqual([{ windowKey: 'Asia/Tokyo|', nextAt: T0 }])
  })

  it('keeps an item’s key when it goes back to pending (retry, unassigned), and forgets a drained key', async () => {
    const { store, campaignId, request } = await setup(0)
    const [reserved] = await store.reserveSends([request], at(1))
    if (reserved?.ok !== true) throw new Error('expected a reservation')
    expect(await store.listWindowKeys(campaignId)).toEqual([])
    const retry = {
      kind: 'retry' as const,
      itemId: reserved.send.item.id,
      leaseToken: 'lease',
      attempts: 1,
      error: 'busy',
      retryAt: at(5),
      unassignMailbox: true,
    }
    expect(await store.completeSends([retry], at(2))).toEqual(['ok'])
    expect(await store.listWindowKeys(campaignId)).toEqual([{ windowKey: 'Europe/Warsaw|', nextAt: at(5) }])
    const [other] = await store.reserveSends(
      [{ ...request, windowKeys: ['Asia/Tokyo|'], nextSlotAt: at(6) }],
      at(5),
    )
    expect(other).toEqual({ ok: false, reason: 'window-closed' })
    const [again] = await store.reserveSends([{ ...request, nextSlotAt: at(6) }], at(5))
    expect(again?.ok && again.send.item.windowKey).toBe('Europe/Warsaw|')
  })
})
