/**
 * mailcadence quick start. `pnpm demo` runs a working week of a campaign on a fake clock in a
 * few seconds; `pnpm demo -- --realtime` sends a short campaign in real time. Either way the
 * mail really travels over SMTP, to a sink on loopback that this script starts itself.
 *
 * From the repository's root, `pnpm demo` runs this file on the packages' TypeScript sources
 * (tsconfig.sources.json maps each `@mailcadence/` package to its `src` folder), so nothing is built first;
 * copied out of the repository, `pnpm start` runs it on the published packages.
 *
 * The state lives in a SQLite file (data/demo.sqlite, or MAILCADENCE_DEMO_FILE): run it again and
 * it finds last run's campaign, adds the same leads as an app does at start-up, and mails no one
 * twice. `--fresh` starts over.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { dirname, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSqliteStore } from '@mailcadence/adapter-sqlite'
import { createScheduler, type Mailbox, type Scheduler, type SchedulerEvent } from '@mailcadence/core'
import { createFakeClock, createSeededRandom } from '@mailcadence/core/testing'
import { ingestMessage } from '@mailcadence/inbox'
import { createSmtpTransport } from '@mailcadence/transport-smtp'
import { printForecastBeside } from './forecast-report.js'
import { localDateTime, printArrivals, printExplain, printWeek } from './report.js'
import { startSink } from './sink.js'

const realtime = process.argv.includes('--realtime')
const dataFile =
  process.env.MAILCADENCE_DEMO_FILE ?? fileURLToPath(new URL('../data/demo.sqlite', import.meta.url))
const shownFile = relative(process.cwd(), dataFile)

/** The demo's durable store; `fresh` deletes the file (and its WAL) first. */
function openStore(filename: string, fresh: boolean) {
  if (fresh) for (const suffix of ['', '-wal', '-shm']) rmSync(filename + suffix, { force: true })
  mkdirSync(dirname(filename), { recursive: true })
  return createSqliteStore({ filename })
}

function makeLeads(count: number) {
  const first = ['Jan', 'Zofia', 'Piotr', 'Łucja', 'Tomasz', 'Ewa', 'Kamil', 'Ola', 'Marek', 'Żaneta']
  return Array.from({ length: count }, (_, i) => ({
    email: `lead${i + 1}@example.com`,
    firstName: first[i % first.length],
    company: `Firma ${i + 1}`,
  }))
}

async function setUp(
  scheduler: Scheduler,
  options: { leads: number; delay: number; limit: number; followUpDays: number; allDay: boolean },
) {
  const mailboxes = await Promise.all(
    ['anna', 'bartek', 'celina'].map((name) =>
      scheduler.createMailbox({
        email: `${name}@acme.test`,
        name: name[0]!.toUpperCase() + name.slice(1),
        dailyEmailLimit: options.limit,
        timezone: 'Europe/Warsaw',
      }),
    ),
  )
  const campaign = await scheduler.createCampaign({
    name: 'Q1 outreach',
    timezone: 'Europe/Warsaw',
    ...(options.allDay
      ? { startHour: 0, endHour: 24, allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN' }
      : { startHour: 9, startMinute: 0, endHour: 17, endMinute: 0, allowedDays: 'MON,TUE,WED,THU,FRI' }),
    delayBetweenEmails: options.delay,
    jitter: 0.2,
    maxEmailsPerDay: 500,
    mailboxIds: mailboxes.map((m) => m.id),
    steps: [
      {
        subject: 'Quick question, {{firstName|there}}',
        text: 'Hi {{firstName|there}}, how does {{company}} handle outreach?',
      },
      { delayDays: options.followUpDays, text: 'Just bumping this up, {{firstName|there}}.' },
    ],
  })
  const added = await scheduler.addLeads(campaign.id, [
    ...makeLeads(options.leads),
    { email: 'not-an-address' },
  ])
  await scheduler.startCampaign(campaign.id)
  return { campaign, mailboxes, added }
}

/** The SMTP transport, pointed at the local sink for every mailbox. */
function smtpTo(port: number) {
  return createSmtpTransport({ resolve: () => ({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }) })
}

type SentEvent = Extract<SchedulerEvent, { type: 'sent' }>

/**
 * Zofia (lead 2) answers the first email on Tuesday evening, as her mail client would write it.
 * A host reads such messages from the mailbox (`createImapPoller`) and hands each to
 * `ingestMessage`: the reply is matched to the email it answers and her follow-up is cancelled.
 */
async function replyArrives(
  scheduler: Scheduler,
  sent: readonly SentEvent[],
  mailboxes: readonly Mailbox[],
  at: Date,
  timeZone: string,
) {
  const first = sent.find((s) => s.to === 'lead2@example.com' && s.step === 0)!
  const raw = [
    'From: Zofia <lead2@example.com>',
    `To: ${mailboxes.find((m) => m.id === first.mailboxId)!.email}`,
    `Subject: Re: ${first.subject}`,
    'Message-ID: <reply-zofia@example.com>',
    `In-Reply-To: ${first.messageId}`,
    `References: ${first.messageId}`,
    `Date: ${at.toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Thanks, we are set for this quarter. Happy to talk again in April.',
    '',
  ].join('\r\n')
  const result = await ingestMessage(scheduler, Buffer.from(raw))
  const cancelled = result.actions.reduce((n, a) => n + (a.type === 'stopped' ? a.cancelled : 0), 0)
  console.log(
    `\nZofia replies on ${localDateTime(at, timeZone)} to "${first.subject}". ingestMessage(): ${result.kind}, matched ${result.matchedMessageId}; her sequence stops (${cancelled} follow-up cancelled).`,
  )
}

async function simulatedWeek() {
  const sink = await startSink()
  // Monday 5 January 2026, 07:00 in Warsaw.
  const clock = createFakeClock(new Date('2026-01-05T06:00:00Z'))
  const skips = new Map<string, number>()
  const sent: SentEvent[] = []
  const scheduler = createScheduler({
    store: openStore(dataFile, process.argv.includes('--fresh')),
    transport: smtpTo(sink.port),
    clock,
    random: createSeededRandom(42),
    onEvent: (event) => {
      if (event.type === 'skipped') skips.set(event.reason, (skips.get(event.reason) ?? 0) + 1)
      if (event.type === 'sent') sent.push(event)
    },
  })
  const previous = (await scheduler.listCampaigns()).campaigns.find((c) => c.name === 'Q1 outreach')
  if (previous) {
    await restartStory(scheduler, previous.id)
    await scheduler.close()
    await sink.close()
    return
  }
  const { campaign, mailboxes, added } = await setUp(scheduler, {
    leads: 100,
    delay: 90,
    limit: 20,
    followUpDays: 2,
    allDay: false,
  })
  const forecast = await scheduler.forecast(campaign.id)
  console.log(
    `\nmailcadence demo: one working week on a fake clock (SQLite store in ${shownFile}, real SMTP to a local sink)\n`,
  )
  console.log(
    `Campaign "${campaign.name}": ${added.added} leads added (${added.invalid.length} refused: ${added.invalid.map((i) => `${i.email}: ${i.reason}`).join('; ')}),`,
  )
  console.log('two steps (follow-up 2 days later, same thread), 09:00–17:00 MON–FRI Europe/Warsaw,')
  console.log('90 s ± 20% between sends, 500 a day at most, three mailboxes of 20 a day each.\n')

  const end = new Date('2026-01-12T06:00:00Z')
  const blockedAt = new Date('2026-01-05T13:00:00Z') // Monday 14:00 in Warsaw
  const replyAt = new Date('2026-01-06T17:00:00Z') // Tuesday 18:00 in Warsaw
  let explained = false
  let replied = false
  let ticks = 0
  const started = performance.now()
  while (clock.now() < end) {
    // A host that ticks every 30 s, or sooner when the scheduler says something is due.
    const result = await scheduler.tick()
    ticks++
    const now = clock.now().getTime()
    const next = Math.max(
      now + 1,
      Math.min(now + 30_000, result.nextDueAt?.getTime() ?? Number.POSITIVE_INFINITY),
    )
    if (!replied && next >= replyAt.getTime()) {
      clock.set(replyAt)
      await replyArrives(scheduler, sent, mailboxes, replyAt, campaign.timezone)
      replied = true
      continue
    }
    if (!explained && next >= blockedAt.getTime()) {
      clock.set(blockedAt)
      printExplain(
        'explain() on Monday at 14:00 Warsaw time, when the campaign has stopped for the day:',
        await scheduler.explain(campaign.id),
        campaign.timezone,
      )
      explained = true
      continue
    }
    clock.set(new Date(next))
  }
  const elapsed = Math.round(performance.now() - started)
  printWeek({ sent, mailboxes, campaign, skips })
  printForecastBeside(forecast, sent, campaign.timezone)
  console.log('(Made before the week: it could not know that Zofia would reply and need no follow-up.)')
  const stats = await scheduler.queueStats(campaign.id)
  const nextScheduledAt = stats.nextScheduledAt?.toISOString() ?? null
  console.log(`\nQueue at the end: ${JSON.stringify({ ...stats, nextScheduledAt })}`)
  console.log(`Campaign status: ${(await scheduler.getCampaign(campaign.id)).status}`)
  console.log(`Simulated ${ticks} ticks over 7 days in ${elapsed} ms.`)
  await scheduler.close()
  printArrivals(sink.arrived)
  await sink.close()
}

/**
 * A second run finds last run's campaign in the file: the app "restarts", adds its leads again as
 * the quick start does at start-up, and ticks through the same week. Nothing is sent twice.
 */
async function restartStory(scheduler: Scheduler, campaignId: string) {
  const before = await scheduler.queueStats(campaignId)
  console.log(`\nmailcadence demo, run again: ${shownFile} already holds last run's campaign`)
  console.log(`(${before.sent} emails sent, ${before.pending} pending). The state survived the restart.\n`)
  const again = await scheduler.addLeads(campaignId, makeLeads(100))
  console.log(
    `The app adds its 100 leads again at start-up: ${again.added} added, ${again.duplicates} already in the campaign.`,
  )
  let sent = 0
  for (let i = 0; i < 20; i++) sent += (await scheduler.tick()).sent
  const after = await scheduler.queueStats(campaignId)
  console.log(`Ticks sent ${sent} emails: ${after.sent} in all, as before. No lead was mailed twice.`)
  console.log('\nStart over with: pnpm demo -- --fresh\n')
}

async function realTime() {
  const sink = await startSink()
  const t0 = Date.now()
  let completed = () => {}
  const scheduler = createScheduler({
    // Its own file, started afresh each time: real time cannot replay last run's week.
    store: openStore(dataFile.replace(/\.sqlite$/, '-realtime.sqlite'), true),
    transport: smtpTo(sink.port),
    interval: 1000,
    onEvent: (event) => {
      const at = `+${((Date.now() - t0) / 1000).toFixed(1)}s`.padStart(7)
      if (event.type === 'sent')
        console.log(`${at}  step ${event.step + 1} to ${event.to}: "${event.subject}"`)
      if (event.type === 'campaign-completed') {
        console.log(`${at}  campaign completed`)
        completed()
      }
    },
  })
  // Six leads, 3 s ± 20% between sends, follow-up 10 s after each first email; whatever the hour.
  // The first emails (due at once) leave before the follow-ups (due 10 s later), so six leads fit
  // twelve sends into about 35 s; a hundred would take five minutes before any follow-up.
  await setUp(scheduler, { leads: 6, delay: 3, limit: 50, followUpDays: 10 / 86_400, allDay: true })
  console.log(
    '\nmailcadence demo in real time over SMTP: 6 leads, 3 s ± 20% between sends, follow-ups 10 s after each first email;\nabout 35 s (40 s at most), or Ctrl+C.\n',
  )
  scheduler.start()
  await new Promise<void>((resolve) => {
    completed = resolve
    process.once('SIGINT', resolve)
    setTimeout(resolve, 40_000)
  })
  await scheduler.close()
  printArrivals(sink.arrived)
  await sink.close()
}

await (realtime ? realTime() : simulatedWeek())
