/**
 * What both servers show: a scheduler in shadow mode (the whole engine runs, nothing is sent) on
 * the memory store, with two mailboxes and a campaign that "sends" every few seconds while you
 * watch, and the operator check every dashboard needs.
 */
import { timingSafeEqual } from 'node:crypto'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type Scheduler } from '@mailcadence/core'

export async function createDemoScheduler(): Promise<Scheduler> {
  const scheduler = createScheduler({ store: createMemoryStore(), mode: 'shadow', interval: 2000 })
  const anna = await scheduler.createMailbox({ email: 'anna@acme.test', name: 'Anna', dailyEmailLimit: 40 })
  const ben = await scheduler.createMailbox({ email: 'ben@acme.test', name: 'Ben', dailyEmailLimit: 25 })
  const campaign = await scheduler.createCampaign({
    name: 'Q1 outreach',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 4,
    maxEmailsPerDay: 60,
    mailboxIds: [anna.id, ben.id],
    steps: [{ subject: 'Hi {{firstName|there}}', text: 'Hello {{firstName|there}}, …' }],
  })
  await scheduler.addLeads(
    campaign.id,
    Array.from({ length: 80 }, (_, i) => ({ email: `lead${i}@example.com`, firstName: `Lead ${i}` })),
  )
  await scheduler.startCampaign(campaign.id)
  await scheduler.createCampaign({ name: 'Partners (draft)', mailboxIds: [ben.id], steps: campaign.steps })
  return scheduler
}

/**
 * HTTP Basic authentication against `DASHBOARD_USER` / `DASHBOARD_PASSWORD` (default
 * `admin` / `change-me`). In your app, check your own session instead.
 */
export function basicAuth(env: Record<string, string | undefined> = process.env) {
  const expected = Buffer.from(`${env.DASHBOARD_USER ?? 'admin'}:${env.DASHBOARD_PASSWORD ?? 'change-me'}`)
  return (request: Request): true | Response => {
    const header = request.headers.get('authorization') ?? ''
    const given = Buffer.from(
      header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : '',
    )
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true
    return new Response('Authentication required', {
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="mailcadence", charset="UTF-8"' },
    })
  }
}
