/**
 * A host app on Prisma and SQLite that runs an outreach campaign with mailcadence.
 *
 * The app has its own model (`Contact`); mailcadence's models live in the same schema and the same
 * database, reached through the same `PrismaClient`. The campaign goes to the contacts the app's
 * user selected, over two mailboxes, inside a 09:00–17:00 Warsaw window, with a follow-up a day
 * later. Mail goes to the console; time is simulated (Monday to Thursday in a second or two) by a
 * host loop that sleeps until each tick's `nextDueAt`.
 *
 *   pnpm --filter @mailcadence/example-prisma-sqlite start
 */
import { rmSync } from 'node:fs'
import { createPrismaStore } from '@mailcadence/adapter-prisma'
import { createScheduler, type Transport } from '@mailcadence/core'
import { createFakeClock } from '@mailcadence/core/testing'
import { openDatabase } from './db.js'

const file = process.env.EXAMPLE_DB ?? 'dev.db'
for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
const prisma = openDatabase(file)

// The app's own data, as it would already have it.
const people = [
  'Jan',
  'Ola',
  'Piotr',
  'Kasia',
  'Tomek',
  'Ewa',
  'Marek',
  'Zofia',
  'Adam',
  'Ania',
  'Igor',
  'Lena',
]
await prisma.contact.createMany({
  data: people.map((name, i) => ({
    email: `${name.toLowerCase()}@client${i}.example`,
    firstName: name,
    company: `Client ${i}`,
    selected: i < 10,
  })),
})

const warsaw = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Warsaw',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
})
const consoleTransport: Transport = {
  async send(message, context) {
    const step = context.step === 0 ? 'first' : 'follow-up'
    console.log(
      `${warsaw.format(context.now)}  ${context.mailbox.email} → ${message.to.address}  ${step}: ${message.subject}`,
    )
    return undefined
  },
}

const clock = createFakeClock(new Date('2026-01-05T07:00:00Z')) // Monday 08:00 in Warsaw
const scheduler = createScheduler({ store: createPrismaStore(prisma), transport: consoleTransport, clock })

const anna = await scheduler.createMailbox({
  email: 'anna@acme.test',
  name: 'Anna',
  dailyEmailLimit: 5,
  timezone: 'Europe/Warsaw',
})
const bartek = await scheduler.createMailbox({
  email: 'bartek@acme.test',
  name: 'Bartek',
  dailyEmailLimit: 5,
  timezone: 'Europe/Warsaw',
})
const campaign = await scheduler.createCampaign({
  name: 'New year outreach',
  timezone: 'Europe/Warsaw',
  startHour: 9,
  endHour: 17,
  allowedDays: 'MON,TUE,WED,THU,FRI',
  delayBetweenEmails: 600,
  maxEmailsPerDay: 8,
  mailboxIds: [anna.id, bartek.id],
  steps: [
    {
      subject: 'Quick question, {{firstName|there}}',
      text: 'Hi {{firstName|there}}, does {{company|your team}} …',
    },
    { delayDays: 1, text: 'Following up on my note, {{firstName|there}}.' },
  ],
})
const selected = await prisma.contact.findMany({ where: { selected: true }, orderBy: { id: 'asc' } })
const added = await scheduler.addLeads(
  campaign.id,
  selected.map((c) => ({ email: c.email, firstName: c.firstName, company: c.company })),
)
console.log(`Campaign "${campaign.name}": ${added.added} leads from the app's contacts`)
await scheduler.startCampaign(campaign.id)

// The host's loop: tick, then sleep until the next due instant (an hour when nothing is due).
const end = new Date('2026-01-08T17:00:00Z')
while (clock.now() < end) {
  const result = await scheduler.tick()
  const next = result.nextDueAt?.getTime() ?? clock.now().getTime() + 3_600_000
  clock.set(new Date(Math.min(Math.max(next, clock.now().getTime() + 1), end.getTime())))
}

const stats = await scheduler.queueStats(campaign.id)
console.log(`Queue: ${stats.sent} sent, ${stats.pending} pending, ${stats.failed} failed`)
console.log(`Campaign status: ${(await scheduler.getCampaign(campaign.id)).status}`)

// mailcadence's tables are the app's tables: query them with the same client, next to its own.
const log = await prisma.mcSendLog.findMany({ orderBy: { sentAt: 'asc' } })
const contacts = new Map((await prisma.contact.findMany()).map((c) => [c.email, c]))
const reached = new Set(log.map((entry) => contacts.get(entry.to)?.firstName))
console.log(`Send log: ${log.length} emails to ${reached.size} contacts (${[...reached].join(', ')})`)

await scheduler.close()
await prisma.$disconnect()
