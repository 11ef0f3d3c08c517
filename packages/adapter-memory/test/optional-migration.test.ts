/**
 * The migration methods are an optional capability of a store: one without them serves every other
 * scheduler method, and the migration methods say what is missing instead of crashing.
 */
import { createScheduler, isMailcadenceError, type Store } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport } from '@mailcadence/core/testing'
import { expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'

function storeWithoutMigration(): Store {
  const { importLeads, recordExternalSends, getCampaignByExternalId, ...rest } = createMemoryStore()
  return rest
}

it('a store without the migration methods sends, and importCampaign/recordExternalSends throw invalid-state', async () => {
  const clock = createFakeClock(new Date('2026-01-05T12:00:00Z'))
  const transport = createRecordingTransport()
  const scheduler = createScheduler({ store: storeWithoutMigration(), transport, clock, random: () => 0.5 })
  const mailbox = await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 5 })
  const campaign = await scheduler.createCampaign({
    name: 'plain',
    mailboxIds: [mailbox.id],
    steps: [{ subject: 'Hi', text: 'Hello' }],
  })
  await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com' }])
  await scheduler.startCampaign(campaign.id)
  expect((await scheduler.tick()).sent).toBe(1)

  const refused = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => null,
      (e: unknown) => e,
    )
    expect(isMailcadenceError(error, 'invalid-state')).toBe(true)
    expect((error as Error).message).toMatch(/migration methods/)
  }
  await refused(scheduler.recordExternalSends([{ id: 'x-1', sentAt: clock.now() }]))
  await refused(
    scheduler.importCampaign({
      externalId: 'legacy-1',
      campaign: { name: 'old', mailboxIds: [mailbox.id], steps: [{ subject: 'Hi', text: 'Hello' }] },
      leads: [],
    }),
  )
  await scheduler.close()
})
