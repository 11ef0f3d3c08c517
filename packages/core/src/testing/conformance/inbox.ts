import { expect, it } from 'vitest'
import type { InboundMessage } from '../../inbound/types.js'
import type { Store } from '../../store.js'
import { supportsInbox } from '../../store-kit/index.js'
import { campaign, DAY, drain, type Env, type EnvFn, HOUR, mailbox } from './harness.js'

/** The store's inbox methods; a store without them fails here (the shipped stores all have them). */
function inboxOf(store: Store) {
  if (!supportsInbox(store)) throw new Error('the store lacks the InboxStore methods (see store.ts)')
  return store
}

/** A campaign of two steps a day apart that has sent step 0 to `emails`. */
async function sentTo(e: Env, emails: string[], extra: Parameters<typeof campaign>[1] = {}) {
  const box = await e.scheduler.createMailbox(mailbox())
  const created = await e.scheduler.createCampaign(
    campaign([box.id], {
      steps: [
        { subject: 'Hi', text: 'Hello' },
        { delayDays: 1, text: 'Following up' },
      ],
      ...extra,
    }),
  )
  await e.scheduler.addLeads(
    created.id,
    emails.map((email) => ({ email })),
  )
  await e.scheduler.startCampaign(created.id)
  await drain(e.scheduler)
  const messageIdOf = (to: string) => e.transport.sent.find((s) => s.to === to && s.step === 0)!.messageId
  return { box, campaign: created, messageIdOf }
}

let inboundCount = 0
const inbound = (kind: InboundMessage['kind'], linked: string[], extra: Partial<InboundMessage> = {}) => {
  inboundCount++
  return { messageId: `<inbound-${inboundCount}@conformance.test>`, kind, linkedMessageIds: linked, ...extra }
}

/**
 * Issue #15: what comes back from the inbox. Sends found by Message-ID, inbound messages applied at
 * most once (also from several schedulers at once), a lead postponed never earlier, a domain's
 * leads stopped by exact suffix, cursors kept per mailbox and folder, `stopOnReply` kept.
 */
export function inboxTests(env: EnvFn): void {
  it('finds sends by Message-ID with their lead, and nothing for other ids', async () => {
    const e = await env()
    const store = inboxOf(e.store)
    const { campaign: c, messageIdOf } = await sentTo(e, ['a@example.com', 'b@example.com'])
    const id = messageIdOf('a@example.com')
    const found = await store.findSentByMessageIds(['<nope@x>', id, id])
    expect(found).toHaveLength(1)
    expect(found[0]!.send).toMatchObject({ campaignId: c.id, messageId: id, step: 0, to: 'a@example.com' })
    expect(found[0]!.lead).toMatchObject({ campaignId: c.id, email: 'a@example.com', status: 'active' })
    expect(await store.findSentByMessageIds(['<nope@x>'])).toEqual([])
    expect(await store.findSentByMessageIds([])).toEqual([])
  })

  it('finds a send by a long Message-ID, compared exactly (no case or trailing-space match)', async () => {
    const e = await env()
    const store = inboxOf(e.store)
    // Core builds `<uuid@mailbox-domain>`; a domain may be ~250 characters, the id near 290.
    const domain = `${['a', 'b', 'c', 'd'].map((c) => c.repeat(60)).join('.')}.test`
    const box = await e.scheduler.createMailbox(mailbox({ email: `s@${domain}` }))
    const created = await e.scheduler.createCampaign(
      campaign([box.id], { steps: [{ subject: 'Hi', text: 'Hello' }] }),
    )
    await e.scheduler.addLeads(created.id, [{ email: 'long@example.com' }])
    await e.scheduler.startCampaign(created.id)
    await drain(e.scheduler)
    const id = e.transport.sent.find((s) => s.to === 'long@example.com')!.messageId
    expect(id.length).toBeGreaterThan(255)
    const found = await store.findSentByMessageIds([id])
    expect(found.map((f) => f.send.messageId)).toEqual([id])
    expect(await store.findSentByMessageIds([id.toUpperCase(), `${id} `, id.slice(0, 200)])).toEqual([])
  })

  it('records an inbound message once, and reads it back', async () => {
    const e = await env()
    const store = inboxOf(e.store)
    const now = e.clock.now()
    expect(await store.getInbound('<m1@x>')).toBeNull()
    const record = { messageId: '<m1@x>', kind: 'reply', campaignId: null, leadId: null }
    expect(await store.recordInbound(record, now)).toBe(true)
    expect(await store.recordInbound({ ...record, kind: 'bounce' }, new Date(now.getTime() + HOUR))).toBe(
      false,
    )
    expect(await store.getInbound('<m1@x>')).toEqual({ ...record, processedAt: now })
    // Compared exactly: another case is another id.
    expect(await store.getInbound('<M1@x>')).toBeNull()
  })

  it('applies a reply at most once, even from several schedulers at once, and stops the lead’s sends', async () => {
    const e = await env()
    const { campaign: c, messageIdOf } = await sentTo(e, ['a@example.com', 'b@example.com'])
    const message = inbound('reply', [messageIdOf('a@example.com')])
    const schedulers = [e.scheduler, e.another(), e.another(), e.another()]
    const results = await Promise.all(schedulers.map((s) => s.applyInbound(message)))
    expect(results.filter((r) => r.status === 'applied')).toHaveLength(1)
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(3)
    for (const r of results) expect(r).toMatchObject({ matched: true, campaignId: c.id })
    e.clock.advance(2 * DAY)
    await drain(e.scheduler)
    const followUps = e.transport.sent.filter((s) => s.step === 1).map((s) => s.to)
    expect(followUps).toEqual(['b@example.com'])
    expect((await e.store.getLead(c.id, 'a@example.com'))?.status).toBe('replied')
  })

  it('postpones a lead’s next pending email, never earlier, and the tick waits for it', async () => {
    const e = await env()
    const store = inboxOf(e.store)
    const { campaign: c } = await sentTo(e, ['a@example.com'])
    const [, pending] = await e.store.listQueueItems(c.id)
    expect(pending).toMatchObject({ step: 1, status: 'pending' })
    const due = pending!.scheduledAt.getTime()
    const later = new Date(due + 3 * DAY)
    const moved = await store.postponeLead(c.id, 'a@example.com', later, e.clock.now())
    expect(moved).toMatchObject({ id: pending!.id, step: 1, status: 'pending', scheduledAt: later })
    const earlier = await store.postponeLead(c.id, 'a@example.com', new Date(due), e.clock.now())
    expect(earlier?.scheduledAt).toEqual(later)
    expect(await store.postponeLead(c.id, 'nobody@example.com', later, e.clock.now())).toBeNull()
    e.clock.set(new Date(later.getTime() - 1))
    await drain(e.scheduler)
    expect(e.transport.sent).toHaveLength(1)
    e.clock.set(later)
    await drain(e.scheduler)
    expect(e.transport.sent.map((s) => s.step)).toEqual([0, 1])
    // Nothing pending any more.
    expect(
      await store.postponeLead(c.id, 'a@example.com', new Date(later.getTime() + DAY), e.clock.now()),
    ).toBeNull()
  })

  it('leaves an email being sent alone: only pending ones move', async () => {
    const e = await env()
    const store = inboxOf(e.store)
    const { campaign: c } = await sentTo(e, ['a@example.com'])
    e.clock.advance(DAY)
    const release = e.transport.hold()
    const ticking = e.scheduler.tick()
    await e.transport.whenHeld(1)
    const until = new Date(e.clock.now().getTime() + 5 * DAY)
    expect(await store.postponeLead(c.id, 'a@example.com', until, e.clock.now())).toBeNull()
    release()
    await ticking
    const items = await e.store.listQueueItems(c.id)
    expect(items.map((i) => [i.step, i.status])).toEqual([
      [0, 'sent'],
      [1, 'sent'],
    ])
    expect(items[1]!.scheduledAt.getTime()).toBeLessThan(until.getTime())
  })

  it('stops the active leads of a domain by exact suffix, and no one else', async () => {
    const e = await env()
    const store = inboxOf(e.store)
    const emails = ['a@abc.com', 'b@abc.com', 'c@sub.abc.com', 'd@xabc.com', 'e@a.c.com']
    const { campaign: c } = await sentTo(e, emails)
    await e.scheduler.markReplied(c.id, 'a@abc.com')
    // `_` and `%` are literal, not patterns.
    expect(await store.stopLeadsOfDomain(c.id, 'a_c.com', 'completed', 'x', e.clock.now())).toEqual({
      leads: [],
      cancelled: 0,
    })
    expect((await store.stopLeadsOfDomain(c.id, '%', 'completed', 'x', e.clock.now())).leads).toEqual([])
    const result = await store.stopLeadsOfDomain(
      c.id,
      'abc.com',
      'completed',
      'a colleague replied',
      e.clock.now(),
    )
    expect(result.leads.map((l) => l.email)).toEqual(['b@abc.com'])
    expect(result.cancelled).toBe(1)
    const statuses = Object.fromEntries((await e.store.listLeads(c.id)).map((l) => [l.email, l.status]))
    expect(statuses).toEqual({
      'a@abc.com': 'replied',
      'b@abc.com': 'completed',
      'c@sub.abc.com': 'active',
      'd@xabc.com': 'active',
      'e@a.c.com': 'active',
    })
    const items = await e.store.listQueueItems(c.id)
    const lead = (await e.store.getLead(c.id, 'b@abc.com'))!
    expect(items.find((i) => i.leadId === lead.id && i.step === 1)).toMatchObject({
      status: 'cancelled',
      lastError: 'a colleague replied',
    })
  })

  it('keeps stopOnReply with the campaign, and a domain reply stops colleagues through applyInbound', async () => {
    const e = await env()
    const { campaign: c, messageIdOf } = await sentTo(e, ['a@acme.test', 'b@acme.test', 'c@gmail.com'], {
      stopOnReply: 'domain',
    })
    expect((await e.scheduler.getCampaign(c.id)).stopOnReply).toBe('domain')
    await e.scheduler.applyInbound(inbound('reply', [messageIdOf('a@acme.test')]))
    expect((await e.store.getLead(c.id, 'b@acme.test'))?.status).toBe('completed')
    expect((await e.store.getLead(c.id, 'c@gmail.com'))?.status).toBe('active')
    const updated = await e.scheduler.updateCampaign(c.id, { stopOnReply: 'lead' })
    expect(updated.stopOnReply).toBe('lead')
    expect((await e.scheduler.getCampaign(c.id)).stopOnReply).toBe('lead')
  })

  it('a hard bounce suppresses the address in every campaign', async () => {
    const e = await env()
    const { box, campaign: c, messageIdOf } = await sentTo(e, ['a@example.com'])
    const other = await e.scheduler.createCampaign(campaign([box.id], { name: 'Other' }))
    await e.scheduler.addLeads(other.id, [{ email: 'a@example.com' }])
    const result = await e.scheduler.applyInbound(
      inbound('bounce', [messageIdOf('a@example.com')], { severity: 'hard' }),
    )
    expect(result.actions.map((a) => a.type)).toEqual(['stopped', 'suppressed'])
    expect((await e.store.getLead(c.id, 'a@example.com'))?.status).toBe('bounced')
    expect((await e.store.getLead(other.id, 'a@example.com'))?.status).toBe('suppressed')
    expect((await e.scheduler.queueStats(other.id)).pending).toBe(0)
  })

  it('keeps one cursor per mailbox and folder, compared exactly, and replaces it', async () => {
    const e = await env()
    const store = inboxOf(e.store)
    const now = e.clock.now()
    expect(await store.getInboxCursor('1', 'INBOX')).toBeNull()
    await store.saveInboxCursor('1', 'INBOX', { uidValidity: '4294967295', lastUid: 4294967295 }, now)
    await store.saveInboxCursor('1', 'inbox', { uidValidity: '1', lastUid: 0 }, now)
    await store.saveInboxCursor('2', 'INBOX', { uidValidity: '2', lastUid: 7 }, now)
    await store.saveInboxCursor('1', 'Boîte/Réponses', { uidValidity: '3', lastUid: 9 }, now)
    expect(await store.getInboxCursor('1', 'INBOX')).toEqual({
      uidValidity: '4294967295',
      lastUid: 4294967295,
    })
    expect(await store.getInboxCursor('1', 'inbox')).toEqual({ uidValidity: '1', lastUid: 0 })
    expect(await store.getInboxCursor('2', 'INBOX')).toEqual({ uidValidity: '2', lastUid: 7 })
    expect(await store.getInboxCursor('1', 'Boîte/Réponses')).toEqual({ uidValidity: '3', lastUid: 9 })
    await store.saveInboxCursor('1', 'INBOX', { uidValidity: '5', lastUid: 1 }, now)
    expect(await store.getInboxCursor('1', 'INBOX')).toEqual({ uidValidity: '5', lastUid: 1 })
  })
}
