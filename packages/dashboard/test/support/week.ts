/**
 * A scheduler on the memory store after a simulated week (fake clock): known sends per day, a
 * lead whose name is markup, a failure with the server's answer, a mailbox paused by the server.
 */
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { type Campaign, createScheduler, type Scheduler } from '@mailcadence/core'
import { createFakeClock, createRecordingTransport, type FakeClock } from '@mailcadence/core/testing'

/** Sends per day from Monday 2026-01-05 to Sunday 2026-01-11 (Warsaw days). */
export const WEEK = [
  { day: '2026-01-05', sent: 4 },
  { day: '2026-01-06', sent: 7 },
  { day: '2026-01-07', sent: 2 },
  { day: '2026-01-08', sent: 9 },
  { day: '2026-01-09', sent: 5 },
  { day: '2026-01-10', sent: 0 },
  { day: '2026-01-11', sent: 0 },
]
export const SCRIPT_NAME = '<script>alert(1)</script>'
export const BOUNCE = '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown'

export interface Week {
  scheduler: Scheduler
  clock: FakeClock
  campaign: Campaign
  other: Campaign
}

export async function simulateWeek(): Promise<Week> {
  const clock = createFakeClock(new Date('2026-01-05T08:00:00.000Z'))
  const transport = createRecordingTransport()
  const scheduler = createScheduler({ store: createMemoryStore(), transport, clock, lookahead: 0 })
  const anna = await scheduler.createMailbox({
    email: 'anna@acme.test',
    name: 'Anna',
    dailyEmailLimit: 12,
    timezone: 'Europe/Warsaw',
  })
  const ben = await scheduler.createMailbox({
    email: 'ben@acme.test',
    name: 'Ben',
    dailyEmailLimit: 8,
    timezone: 'Europe/Warsaw',
  })
  const cleo = await scheduler.createMailbox({ email: 'cleo@acme.test', dailyEmailLimit: 20 })
  const campaign = await scheduler.createCampaign({
    name: 'Q1 outreach',
    timezone: 'Europe/Warsaw',
    startHour: 9,
    endHour: 17,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    maxEmailsPerDay: 20,
    mailboxIds: [anna.id, ben.id],
    steps: [{ subject: 'Hi {{firstName|there}}', text: 'Hello {{firstName|there}}' }],
  })
  const other = await scheduler.createCampaign({
    name: '<b>Partners</b> & "friends"',
    mailboxIds: [cleo.id],
    steps: [{ subject: 'Hello', text: 'Hi' }],
  })
  let n = 0
  for (const [i, { sent }] of WEEK.entries()) {
    if (sent === 0) continue
    clock.set(new Date(Date.UTC(2026, 0, 5 + i, 9)))
    // Thursday's first send bounces: one more lead that day keeps its sends at `sent`.
    const leads = Array.from({ length: sent + (i === 3 ? 1 : 0) }, () => ({
      email: `lead${n++}@example.com`,
      firstName: `Lead ${n}`,
    }))
    // Monday's first lead carries markup in its name; Thursday's first send bounces.
    if (i === 0) leads[0] = { email: 'script@example.com', firstName: SCRIPT_NAME }
    if (i === 3) leads[0] = { email: 'nobody@example.com', firstName: 'Nobody' }
    await scheduler.addLeads(campaign.id, leads)
    if ((await scheduler.getCampaign(campaign.id)).status !== 'IN_PROGRESS')
      await scheduler.startCampaign(campaign.id)
    if (i === 3) {
      transport.failNext(1, { responseCode: 550, response: BOUNCE })
      await scheduler.tick()
    }
    for (let t = 0; t < 50 && (await scheduler.tick()).sent > 0; t++) clock.advance(1000)
  }
  // Pending leads for the week ahead, so the campaign keeps running.
  clock.set(new Date('2026-01-11T12:00:00.000Z'))
  await scheduler.addLeads(campaign.id, [{ email: 'next@example.com' }, { email: 'after@example.com' }])
  if ((await scheduler.getCampaign(campaign.id)).status !== 'IN_PROGRESS')
    await scheduler.startCampaign(campaign.id)
  await scheduler.pauseMailbox(cleo.id, {
    until: new Date('2026-01-11T12:15:00.000Z'),
    reason: '421 4.7.0 Try again later, closing connection',
  })
  return { scheduler, clock, campaign, other }
}
