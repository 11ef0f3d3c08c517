import { expect, it } from 'vitest'
import { INPUT_LIMITS } from '../../model/limits.js'
import { campaign, DAY, type EnvFn, mailbox } from './harness.js'

/** A string of exactly `length` UTF-16 units mixing ASCII, Polish, CJK and emoji (pairs kept whole). */
function text(length: number, seed = 'Zażółć 日本 😀 ok '): string {
  let out = ''
  while (out.length < length) out += seed
  out = out.slice(0, length)
  // Never end on half of a surrogate pair.
  return /[\ud800-\udbff]$/.test(out) ? `${out.slice(0, -1)}x` : out
}

/**
 * Accepted means workable (issue #12): every value at its documented maximum (`INPUT_LIMITS`),
 * non-ASCII and emoji text, and variables named like `Object.prototype` members go through the
 * store and the engine: created, sent, the follow-up scheduled at its far instant and sent then,
 * a mailbox paused until the latest date, an external send at the latest date counted.
 */
export function extremeTests(env: EnvFn): void {
  it('accepts every input at its documented maximum and works with it', async () => {
    const L = INPUT_LIMITS
    const e = await env()
    const box = await e.scheduler.createMailbox(
      mailbox({
        name: text(L.nameLength),
        dailyEmailLimit: L.dailyEmailLimit,
        timezone: 'Pacific/Kiritimati',
      }),
    )
    const spare = await e.scheduler.createMailbox(mailbox({ dailyEmailLimit: L.dailyEmailLimit }))
    const odd = ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty']
    const longName = `v${'x'.repeat(L.variableNameLength - 1)}`
    const created = await e.scheduler.createCampaign(
      campaign([box.id, spare.id], {
        name: text(L.nameLength),
        maxEmailsPerDay: L.maxEmailsPerDay,
        delayBetweenEmails: L.delayBetweenEmails,
        jitter: 0,
        variables: [...odd, longName],
        steps: [
          {
            subject: `{{constructor|c}} {{toString}} {{${longName}|l}} ${text(L.nameLength - 150)}`,
            text: `{{__proto__|p}} {{valueOf|v}} ${text(L.bodyLength - 40)}`,
            html: `<p>{{hasOwnProperty|h}} {{${longName}|l}}</p>${text(L.bodyLength - 200)}`,
          },
          // Every template together at their maximum.
          { delayDays: L.delayDays, text: text(L.templatesLength - 2 * L.bodyLength - L.nameLength) },
        ],
      }),
    )
    expect(created.steps[1]?.delayDays).toBe(L.delayDays)

    // The longest variables a lead may carry, one of them filling the subject past its rendered maximum.
    const rest = L.leadVariablesLength - longName.length - 'constructorCtoStringTvalueOfV__proto__P'.length
    const variables = JSON.parse(
      JSON.stringify({ constructor: 'C', toString: 'T', valueOf: 'V', [longName]: text(rest) }).replace(
        '{',
        '{"__proto__":"P",',
      ),
    ) as Record<string, string>
    const added = await e.scheduler.addLeads(created.id, [
      {
        email: 'first@example.com',
        firstName: text(L.leadFieldLength),
        company: text(L.leadFieldLength),
        variables,
      },
      { email: 'second@example.com', variables: { toString: 'T2' } },
    ])
    expect(added).toEqual({ added: 2, duplicates: 0, invalid: [] })

    await e.scheduler.startCampaign(created.id)
    await e.scheduler.tick()
    // One send now; the next waits the longest pacing gap (30 days).
    expect(e.transport.sent).toHaveLength(1)
    const [first] = e.transport.sent
    if (first?.to === 'first@example.com') {
      expect(first.subject.startsWith('C T Zażółć')).toBe(true)
      expect(first.subject).toHaveLength(L.renderedSubjectLength)
      expect(first.text?.startsWith('P V ')).toBe(true)
    } else {
      expect(first?.subject.startsWith('c T2 l ')).toBe(true)
    }
    const reloaded = await e.scheduler.getCampaign(created.id)
    expect(reloaded.nextSlotAt?.getTime()).toBe(e.clock.now().getTime() + L.delayBetweenEmails * 1000)

    // The follow-up waits ten years, exactly.
    const items = await e.store.listQueueItems(created.id)
    const sent = items.find((i) => i.status === 'sent')!
    const followUp = items.find((i) => i.step === 1)!
    expect(followUp.scheduledAt.getTime()).toBe(sent.sentAt!.getTime() + L.delayDays * DAY)

    // Ten years on, the other lead's first email and, a pacing gap later, this follow-up go out.
    e.clock.set(followUp.scheduledAt)
    await e.scheduler.tick()
    e.clock.advance(L.delayBetweenEmails * 1000)
    await e.scheduler.tick()
    expect(e.transport.sent.map((s) => s.step).sort()).toEqual([0, 0, 1])
    expect(e.transport.sent.find((s) => s.step === 1)?.subject.startsWith('Re: ')).toBe(true)

    // A mailbox paused until the latest date, with the longest reason; explain() reads it back.
    const until = new Date(L.latestPauseUntil)
    const paused = await e.scheduler.pauseMailbox(box.id, { until, reason: text(L.reasonLength) })
    expect(paused.pausedUntil).toEqual(until)
    const [stored] = await e.store.getMailboxes([box.id])
    expect(stored?.pausedUntil).toEqual(until)
    await e.scheduler.explain(created.id)

    // An external send at the latest date, with the longest id, counts (its pacing slot after it too).
    const recorded = await e.scheduler.recordExternalSends([
      {
        id: 'x'.repeat(L.idLength),
        sentAt: new Date(L.latestDate),
        mailboxId: spare.id,
        campaignId: created.id,
      },
    ])
    expect(recorded.recorded).toBe(2)
    await e.scheduler.suppress('second@example.com', text(L.reasonLength))
    await e.scheduler.tick()
  })

  it('imports a lead whose progress is at the latest date, with the longest ids and thread', async () => {
    const L = INPUT_LIMITS
    const e = await env()
    const box = await e.scheduler.createMailbox(mailbox({ dailyEmailLimit: L.dailyEmailLimit }))
    const latest = new Date(L.latestDate)
    const messageId = (i: number) => `<${String(i).padStart(L.messageIdLength - 20, 'm')}@ząb.example.com>`
    const thread = Array.from({ length: L.threadLength }, (_, i) => messageId(i))
    const input = {
      externalId: 'e'.repeat(L.idLength),
      campaign: campaign([box.id], {
        steps: [
          { subject: 'Hi {{constructor|there}}', text: 'a' },
          { delayDays: L.delayDays, text: 'b' },
        ],
        variables: ['constructor'],
      }),
      leads: [
        {
          email: 'far@example.com',
          progress: {
            step: 0,
            sentAt: latest,
            mailbox: box.email,
            messageId: thread[thread.length - 1]!,
            thread,
            threadSubject: text(L.nameLength),
          },
        },
        { email: 'none@example.com', status: 'replied' as const, progress: null },
      ],
      sendLog: [
        {
          id: 'r'.repeat(L.idLength),
          to: 'far@example.com',
          subject: text(L.nameLength),
          sentAt: latest,
          mailbox: box.email,
        },
      ],
      sentToday: { [box.email]: 3 },
      start: true,
    }
    const report = await e.scheduler.analyzeImport(input as never)
    expect(report.leads).toMatchObject({ total: 2, imported: 2, refused: 0 })
    const result = await e.scheduler.importCampaign(input as never)
    expect(result.leads).toMatchObject({ imported: 2 })
    const items = await e.store.listQueueItems(result.campaignId)
    const next = items.find((i) => i.status === 'pending')!
    expect(next.scheduledAt.getTime()).toBe(latest.getTime() + L.delayDays * DAY)
    expect(next.references).toEqual(thread)
    await e.scheduler.tick()
    await e.scheduler.explain(result.campaignId)
    expect(await e.scheduler.sendLog(result.campaignId)).toHaveLength(1)
  })
}
