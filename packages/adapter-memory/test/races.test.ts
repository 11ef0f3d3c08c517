import { createScheduler, type Store } from '@mailcadence/core'
import { runStoreRaces } from '@mailcadence/core/conformance'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryStore, type MemoryStore } from '../src/index.js'

// One process's memory has no second connection: both sides share the store. The races still
// interleave calls at every await, and this run shows the suite's checks hold on a reference store.
runStoreRaces('memory', async () => {
  const store = createMemoryStore()
  return { a: store, b: store }
})

describe('addLeads racing stopCampaign', () => {
  it('cancels the leads it added when the stop landed between its status read and its insert', async () => {
    const memory = createMemoryStore()
    const clock = createFakeClock()
    // The stop (from another process) lands exactly in that gap, every time.
    const store: Store = Object.assign(Object.create(memory) as Store, {
      async addLeads(...args: Parameters<Store['addLeads']>) {
        await memory.setCampaignStatus(
          args[0],
          { from: ['IN_PROGRESS'], to: 'CANCELLED', cancelPending: 'campaign stopped' },
          clock.now(),
        )
        return memory.addLeads(...args)
      },
    })
    const scheduler = createScheduler({ store, transport: createRecordingTransport(), clock })
    const box = await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 10 })
    const campaign = await scheduler.createCampaign({
      name: 'stopped meanwhile',
      mailboxIds: [box.id],
      steps: [{ subject: 'Hi', text: 'Hello' }],
    })
    await scheduler.startCampaign(campaign.id)
    await scheduler.addLeads(campaign.id, [{ email: 'late@example.com' }])
    expect((await scheduler.getCampaign(campaign.id)).status).toBe('CANCELLED')
    expect(await scheduler.queueStats(campaign.id)).toMatchObject({ pending: 0, cancelled: 1 })
  })
})

describe('importCampaign racing stopCampaign', () => {
  it('cancels the leads it imported when the stop landed between its status read and its insert', async () => {
    const memory = createMemoryStore()
    const clock = createFakeClock()
    const store: Store = Object.assign(Object.create(memory) as Store, {
      async importLeads(...args: Parameters<MemoryStore['importLeads']>) {
        await memory.setCampaignStatus(
          args[0],
          { from: ['DRAFT', 'IN_PROGRESS'], to: 'CANCELLED', cancelPending: 'campaign stopped' },
          clock.now(),
        )
        return memory.importLeads(...args)
      },
    })
    const scheduler = createScheduler({ store, transport: createRecordingTransport(), clock })
    const box = await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 10 })
    const result = await scheduler.importCampaign({
      externalId: 'legacy-1',
      campaign: {
        name: 'stopped meanwhile',
        mailboxIds: [box.id],
        steps: [{ subject: 'Hi', text: 'Hello' }],
      },
      leads: [{ email: 'late@example.com' }],
    })
    expect((await scheduler.getCampaign(result.campaignId)).status).toBe('CANCELLED')
    expect(await scheduler.queueStats(result.campaignId)).toMatchObject({ pending: 0, cancelled: 1 })
  })
})
