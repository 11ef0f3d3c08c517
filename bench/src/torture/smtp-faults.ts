/**
 * An SMTP server that drops connections mid-DATA, stalls, or answers slowly, at random; the
 * scheduler keeps sending through it until every email is settled, and nothing goes twice.
 */
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler } from '@mailcadence/core'
import { createFakeClock, createSeededRandom } from '@mailcadence/core/testing'
import { createSmtpTransport } from '@mailcadence/transport-smtp'
import { checkInvariants, type Delivery } from './invariants.js'

/**
 * A scripted SMTP server whose behaviour per message is drawn at random. Deliveries are
 * recorded from the message's own `X-Item` header when the server accepts it.
 */
async function startFaultyServer(random: () => number) {
  const accepted: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let data: string | null = null
    let fate: 'ok' | 'drop' | 'stall' | 'slow' = 'ok'
    socket.write('220 faulty.test ESMTP\r\n')
    socket.on('data', (chunk) => {
      const text = chunk.toString('utf8')
      if (data !== null) {
        if (fate === 'drop') return void socket.destroy()
        data += text
        if (!data.includes('\r\n.\r\n')) return
        const item = /^X-Item: (\S+)/m.exec(data)?.[1] ?? 'unknown'
        data = null
        if (fate === 'stall') return
        const answer = () => {
          accepted.push(item)
          socket.write('250 2.0.0 queued\r\n')
        }
        if (fate === 'slow') setTimeout(answer, 150 + random() * 300)
        else answer()
        return
      }
      for (const line of text.split('\r\n').filter(Boolean)) {
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-faulty.test\r\n250 8BITMIME\r\n')
        else if (verb === 'DATA') {
          const r = random()
          fate = r < 0.1 ? 'drop' : r < 0.15 ? 'stall' : r < 0.35 ? 'slow' : 'ok'
          data = ''
          socket.write('354 go ahead\r\n')
        } else if (verb === 'QUIT') socket.end('221 bye\r\n')
        else if (verb === 'RSET' || verb === 'NOOP') socket.write('250 OK\r\n')
        else socket.write('250 2.1.0 OK\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

export async function smtpFaultsScenario(quick: boolean): Promise<string[]> {
  const random = createSeededRandom(99)
  const server = await startFaultyServer(random)
  const clock = createFakeClock(new Date('2026-01-05T08:00:00Z'))
  const store = createMemoryStore()
  const base = createSmtpTransport({
    sendTimeout: 700,
    pool: { maxConnections: 3 },
    resolve: () => ({ host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true }),
  })
  // Tag each message with its item so the server's record can be matched to the queue.
  const transport = {
    ...base,
    send: (message: Parameters<typeof base.send>[0], context: Parameters<typeof base.send>[1]) =>
      base.send(
        {
          ...message,
          headers: {
            ...message.headers,
            'X-Item': `${context.campaignId}/${context.leadId}/${context.step}`,
          },
        },
        context,
      ),
  }
  const scheduler = createScheduler({
    store,
    transport,
    clock,
    random,
    lookahead: 0,
    concurrency: 6,
    maxSendsPerCampaignPerTick: 20,
    retry: { maxAttempts: 8, baseDelayMs: 60_000, maxDelayMs: 600_000 },
  })
  const mailboxes = [await scheduler.createMailbox({ email: 'anna@acme.test', dailyEmailLimit: 10_000 })]
  const campaign = await scheduler.createCampaign({
    name: 'Faulty SMTP',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    mailboxIds: mailboxes.map((m) => m.id),
    steps: [
      { subject: 'Hi', text: 'one' },
      { delayDays: 0, text: 'two' },
    ],
  })
  const leads = quick ? 30 : 300
  await scheduler.addLeads(
    campaign.id,
    Array.from({ length: leads }, (_, i) => ({ email: `lead${i}@example.com` })),
  )
  await scheduler.startCampaign(campaign.id)
  for (let round = 0; round < 400; round++) {
    const stats = await scheduler.queueStats(campaign.id)
    if (stats.pending === 0 && stats.sending === 0) break
    await scheduler.tick()
    // Retries wait minutes; mailbox pauses (none expected here) would wait longer.
    clock.advance(5 * 60_000)
  }
  const finalCampaign = (await store.getCampaign(campaign.id)) ?? campaign
  await scheduler.close()
  await server.close()
  const deliveries: Delivery[] = server.accepted.map((tag) => {
    const [campaignId, leadId, step] = tag.split('/')
    return {
      campaignId: campaignId!,
      leadId: leadId!,
      step: Number(step),
      mailboxId: mailboxes[0]!.id,
      at: new Date(0),
    }
  })
  const problems = await checkInvariants({ store, campaigns: [finalCampaign], mailboxes, deliveries })
  const stats = await store.queueStats(campaign.id)
  if (stats.pending > 0) problems.push(`${stats.pending} items still pending after the run`)
  const log = await store.listSendLog(campaign.id)
  // A send recorded as sent must have reached the server (a stall or drop is never recorded as sent).
  const reached = new Set(server.accepted)
  for (const entry of log) {
    if (!reached.has(`${entry.campaignId}/${entry.leadId}/${entry.step}`))
      problems.push(`recorded sent but never accepted: ${entry.leadId}/${entry.step}`)
  }
  console.log(
    `  smtp faults: ${log.length} sent, ${stats.failed} failed, ${server.accepted.length} accepted by the server`,
  )
  return problems
}
