import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/memory/index.js'
import { campaign, createHarness, DAY, drain, type Env, mailbox } from '../src/testing/conformance/harness.js'

const harness = createHarness(() => createMemoryStore())
afterEach(() => harness.cleanup())

/** A campaign of two steps a day apart that has sent step 0 to `email`. */
async function sentTo(e: Env, email: string) {
  const box = await e.scheduler.createMailbox(mailbox())
  const created = await e.scheduler.createCampaign(
    campaign([box.id], {
      steps: [
        { subject: 'Hi', text: 'Hello' },
        { delayDays: 1, text: 'Following up' },
      ],
    }),
  )
  await e.scheduler.addLeads(created.id, [{ email }])
  await e.scheduler.startCampaign(created.id)
  await drain(e.scheduler)
  const messageId = e.transport.sent.find((s) => s.to === email && s.step === 0)!.messageId
  return { campaign: created, messageId }
}

describe('applyInbound', () => {
  it('postpones at most a year for an out-of-office back on 9999-12-31', async () => {
    const e = await harness.env()
    const { messageId } = await sentTo(e, 'a@example.com')
    const result = await e.scheduler.applyInbound({
      messageId: '<ooo-far@x>',
      kind: 'out-of-office',
      linkedMessageIds: [messageId],
      returnDate: '9999-12-31',
    })
    expect(result.actions).toHaveLength(1)
    const action = result.actions[0]!
    expect(action.type).toBe('postponed')
    if (action.type === 'postponed')
      expect(action.scheduledAt.getTime()).toBeLessThanOrEqual(e.clock.now().getTime() + 365 * DAY)
  })

  it('keeps the first 100 of more than 10,000 linked Message-IDs instead of refusing the message', async () => {
    const e = await harness.env()
    const { messageId } = await sentTo(e, 'a@example.com')
    const linked = [messageId, ...Array.from({ length: 10_500 }, (_, i) => `<ref-${i}@x>`)]
    const result = await e.scheduler.applyInbound({
      messageId: '<many@x>',
      kind: 'reply',
      linkedMessageIds: linked,
    })
    expect(result).toMatchObject({ status: 'applied', matched: true, matchedMessageId: messageId })
  })
})

describe('applyInbound and long Message-IDs of our own', () => {
  it('matches a reply to a Message-ID longer than 250 characters (a mailbox on a long domain)', async () => {
    const e = await harness.env()
    const domain = `${'d'.repeat(55)}.${'o'.repeat(55)}.${'m'.repeat(55)}.${'a'.repeat(55)}.example`
    const box = await e.scheduler.createMailbox(mailbox({ email: `anna@${domain}` }))
    const created = await e.scheduler.createCampaign(
      campaign([box.id], { steps: [{ subject: 'Hi', text: 'Hello' }] }),
    )
    await e.scheduler.addLeads(created.id, [{ email: 'a@example.com' }])
    await e.scheduler.startCampaign(created.id)
    await drain(e.scheduler)
    const messageId = e.transport.sent[0]!.messageId
    expect(messageId.length).toBeGreaterThan(250)
    const result = await e.scheduler.applyInbound({
      messageId: '<reply-long@x>',
      kind: 'reply',
      linkedMessageIds: [messageId],
    })
    expect(result).toMatchObject({ status: 'applied', matched: true, matchedMessageId: messageId })
  })
})

describe('applyInbound with a store that lost a race', () => {
  /** A memory store whose postponeLead returns the item as if reserved meanwhile (`sending`). */
  const racing = createHarness(() => {
    const store = createMemoryStore()
    return new Proxy(store, {
      get(target, name, receiver) {
        if (name !== 'postponeLead') return Reflect.get(target, name, receiver)
        return async (...args: Parameters<typeof store.postponeLead>) => {
          const item = await store.postponeLead(...args)
          return item === null ? null : { ...item, status: 'sending' as const }
        }
      },
    })
  })
  afterEach(() => racing.cleanup())

  it('does not report postponed for an email that is going out now', async () => {
    const e = await racing.env()
    const { messageId } = await sentTo(e, 'a@example.com')
    const result = await e.scheduler.applyInbound({
      messageId: '<ooo-race@x>',
      kind: 'out-of-office',
      linkedMessageIds: [messageId],
    })
    expect(result.actions).toEqual([{ type: 'recorded', reason: 'out-of-office: nothing pending' }])
  })
})

describe('applyInbound of an unmatched message', () => {
  it('records nothing, so the same message matches once its send is written; matched ones stay once', async () => {
    const e = await harness.env()
    const { messageId } = await sentTo(e, 'a@example.com')
    // A bounce read before its send was written down: its Message-ID is not known yet.
    const early = {
      messageId: '<bounce-early@x>',
      kind: 'bounce' as const,
      linkedMessageIds: ['<not-yet@x>'],
    }
    expect(await e.scheduler.applyInbound(early)).toMatchObject({ status: 'unmatched', matched: false })
    expect(await e.scheduler.applyInbound(early)).toMatchObject({ status: 'unmatched', matched: false })
    // Now it links to a known send (as if the send was written meanwhile): applied, then duplicate.
    const later = { ...early, linkedMessageIds: [messageId], severity: 'hard' as const }
    expect(await e.scheduler.applyInbound(later)).toMatchObject({ status: 'applied', matched: true })
    expect(await e.scheduler.applyInbound(later)).toMatchObject({ status: 'duplicate', matched: true })
  })
})
