/**
 * What both servers share: a scheduler on the memory store whose emails carry a one-click
 * unsubscribe link, and the unsubscribe handler for those links. Emails go to a recording
 * transport (nothing leaves the machine); the first one is sent at start so there is a real link.
 */
import { randomBytes } from 'node:crypto'
import { createMemoryStore } from '@mailcadence/adapter-memory'
import { createScheduler, type Scheduler } from '@mailcadence/core'
import { createRecordingTransport, type RecordingTransport } from '@mailcadence/core/testing'
import { createUnsubscribe, type Unsubscribe } from '@mailcadence/inbox'

export interface Demo {
  scheduler: Scheduler
  unsubscribe: Unsubscribe
  transport: RecordingTransport
  campaignId: string
  /** The link in the `List-Unsubscribe` header of the email sent at start. */
  link: string
}

/**
 * `UNSUBSCRIBE_KEY` (32 bytes or more, e.g. `openssl rand -base64 32`) signs the links; without it a
 * random key is made, so links stop working when the process restarts. `PUBLIC_URL` is where the
 * handler is reachable from the internet (an `https:` URL, as RFC 8058 requires).
 */
export async function createDemo(env: Record<string, string | undefined> = process.env): Promise<Demo> {
  const transport = createRecordingTransport()
  // The scheduler asks for a link at send time; the handler needs the scheduler to suppress. The
  // arrow function breaks the circle: `unsubscribe` is set before anything is sent.
  let unsubscribe: Unsubscribe | undefined
  const scheduler = createScheduler({
    store: createMemoryStore(),
    transport,
    lookahead: 0,
    unsubscribeUrl: (lead, campaign) => unsubscribe?.url(lead, campaign),
  })
  unsubscribe = createUnsubscribe({
    scheduler,
    baseUrl: env.PUBLIC_URL ?? 'https://mail.example.test/unsubscribe',
    secrets: [{ id: 'k1', key: env.UNSUBSCRIBE_KEY ?? randomBytes(32) }],
  })
  const mailbox = await scheduler.createMailbox({
    email: 'anna@acme.test',
    name: 'Anna',
    dailyEmailLimit: 50,
  })
  const campaign = await scheduler.createCampaign({
    name: 'Q1 outreach',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    mailboxIds: [mailbox.id],
    steps: [
      { subject: 'Hi {{firstName|there}}', text: 'Hello!\n\nNot interested? {{unsubscribeUrl}}' },
      { delayDays: 3, text: 'Following up.' },
    ],
  })
  await scheduler.addLeads(campaign.id, [{ email: 'jan@example.com', firstName: 'Jan' }])
  await scheduler.startCampaign(campaign.id)
  await scheduler.tick()
  const header = transport.sent[0]?.headers['List-Unsubscribe'] ?? ''
  return {
    scheduler,
    unsubscribe,
    transport,
    campaignId: campaign.id,
    link: header.slice(1, header.indexOf('>')),
  }
}

/** The same link on this server, to try it locally (the public host replaced by the local one). */
export function localLink(link: string, origin: string): string {
  const url = new URL(link)
  return `${origin}${url.pathname}${url.search}`
}
