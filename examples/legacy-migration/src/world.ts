/**
 * The app as it runs during the migration, on a fake clock: its data (two shared mailboxes, two
 * campaigns of three steps), the legacy cron every minute, the mailcadence worker every 30 s, and
 * optionally a shadow scheduler. `src/main.ts` and the tests drive it phase by phase.
 */
import { createPrismaStore } from '@mailcadence/adapter-prisma'
import {
  createScheduler,
  isInWindow,
  nextWindowOpen,
  type Scheduler,
  type Transport,
} from '@mailcadence/core'
import { createFakeClock, createSeededRandom, type FakeClock } from '@mailcadence/core/testing'
import { openDatabase, type PrismaClient } from './db.js'
import { createLegacySender, type LegacySender } from './legacy.js'
import { createMigration, type Migration } from './migrate.js'

/** Monday 5 January 2026, 08:00 in Warsaw. */
export const MONDAY = new Date('2026-01-05T07:00:00Z')

const FIRST_NAMES = ['Jan', 'Ola', 'Piotr', 'Kasia', 'Tomek', 'Ewa', 'Marek', 'Zofia', 'Adam', 'Ania']

export interface SeedOptions {
  /** Leads per campaign. Default 12. */
  leads?: number
}

/** The two mailboxes' `dailyEmailLimit`s: Anna's is the one that binds. */
export const MAILBOX_LIMITS = { 'anna@acme.test': 6, 'bartek@acme.test': 14 } as const
/** The two campaigns: `maxEmailsPerDay`, `delayBetweenEmails` (seconds). */
export const CAMPAIGNS = [
  { name: 'Warsaw SaaS founders', maxEmailsPerDay: 10, delayBetweenEmails: 1800, domain: 'saas' },
  { name: 'Kraków agencies', maxEmailsPerDay: 6, delayBetweenEmails: 1800, domain: 'agency' },
] as const
/** Days each step waits after the previous one. */
export const STEP_DELAYS = [0, 2, 2] as const

/** The app's legacy data, as it stands before the migration: both campaigns `IN_PROGRESS`. */
export async function seedLegacyApp(db: PrismaClient, options: SeedOptions = {}): Promise<number[]> {
  await db.mailbox.createMany({
    data: [
      { email: 'anna@acme.test', name: 'Anna Nowak', dailyEmailLimit: MAILBOX_LIMITS['anna@acme.test'] },
      {
        email: 'bartek@acme.test',
        name: 'Bartek Wiśniewski',
        dailyEmailLimit: MAILBOX_LIMITS['bartek@acme.test'],
      },
    ],
  })
  const ids: number[] = []
  for (const c of CAMPAIGNS) {
    const campaign = await db.campaign.create({
      data: {
        name: c.name,
        status: 'IN_PROGRESS',
        timezone: 'Europe/Warsaw',
        startHour: 9,
        startMinute: 0,
        endHour: 17,
        endMinute: 0,
        allowedDays: 'MON,TUE,WED,THU,FRI',
        delayBetweenEmails: c.delayBetweenEmails,
        maxEmailsPerDay: c.maxEmailsPerDay,
        steps: {
          create: [
            {
              position: 0,
              subject: 'Quick question, {{firstName}}',
              body: 'Hi {{firstName}}, does {{company}} still send its outreach by hand?',
            },
            { position: 1, delayDays: STEP_DELAYS[1], body: 'Following up on my note, {{firstName}}.' },
            {
              position: 2,
              delayDays: STEP_DELAYS[2],
              body: 'Last one from me, {{firstName}}: shall I close your file?',
            },
          ],
        },
        leads: {
          create: Array.from({ length: options.leads ?? 12 }, (_, i) => {
            const firstName = FIRST_NAMES[i % FIRST_NAMES.length]!
            return {
              email: `${firstName.toLowerCase()}.${i}@${c.domain}${i}.example`,
              firstName,
              company: `${c.domain === 'saas' ? 'SaaS' : 'Agency'} ${i}`,
            }
          }),
        },
      },
    })
    ids.push(campaign.id)
  }
  return ids
}

export interface World {
  db: PrismaClient
  clock: FakeClock
  legacy: LegacySender
  migration: Migration
  /** The live scheduler: mailcadence on the app's database, through its Prisma Client. */
  live: Scheduler
  /** The shadow scheduler, while one runs. */
  shadow: Scheduler | null
  /** Whether the legacy cron still runs. */
  legacyOn: boolean
}

export function createWorld(options: {
  file: string
  transport: Transport
  log?: (line: string) => void
  start?: Date
  /** Whether the live scheduler checks the legacy `SendLog` before each send. Default true. */
  beforeSend?: boolean
}): World {
  const db = openDatabase(options.file)
  const clock = createFakeClock(options.start ?? MONDAY)
  const log = options.log ?? (() => {})
  const migration = createMigration({ db, clock, log })
  const live = createScheduler({
    store: createPrismaStore(db),
    transport: options.transport,
    clock,
    random: createSeededRandom(2026),
    ...migration.hooks,
    ...(options.beforeSend === false ? { beforeSend: undefined } : {}),
  })
  const legacy = createLegacySender({ db, transport: options.transport, clock, log })
  return { db, clock, legacy, migration, live, shadow: null, legacyOn: true }
}

/**
 * Runs both systems until `end`: the legacy cron each minute (then its sends are counted in
 * mailcadence), the mailcadence worker and the shadow on a 30 s beat, each sleeping until its
 * last tick's `nextDueAt` (at most 10 minutes) when nothing is due before. Nights and weekends,
 * when no campaign's window is open, are skipped.
 */
export async function runUntil(world: World, end: Date): Promise<void> {
  const { clock, db } = world
  const windows = await db.campaign.findMany()
  let legacyMinute = -1
  let liveDue = 0
  let shadowDue = 0
  const dueAfter = (result: { nextDueAt: Date | null }, now: number) =>
    Math.min(result.nextDueAt?.getTime() ?? Number.POSITIVE_INFINITY, now + 600_000)
  while (clock.now() < end) {
    const now = clock.now()
    if (!windows.some((w) => isInWindow(w, now))) {
      const open = new Date(Math.min(...windows.map((w) => nextWindowOpen(w, now).getTime())))
      clock.set(open < end ? open : end)
      liveDue = 0
      shadowDue = 0
      continue
    }
    const minute = Math.floor(now.getTime() / 60_000)
    if (world.legacyOn && minute !== legacyMinute) {
      legacyMinute = minute
      await world.legacy.processScheduledCampaigns()
      await world.migration.recordLegacySends(world.live)
    }
    if (now.getTime() >= liveDue) {
      const result = await world.live.tick()
      await world.migration.settle()
      liveDue = dueAfter(result, now.getTime())
    }
    if (world.shadow && now.getTime() >= shadowDue) {
      shadowDue = dueAfter(await world.shadow.tick(), now.getTime())
    }
    const next = new Date(now.getTime() + 30_000)
    if (clock.now() < next) clock.set(next < end ? next : end)
  }
}

/** Warsaw time, for the walkthrough's lines: `Wed 07 12:00`. */
export function warsaw(at: Date): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Warsaw',
    weekday: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  })
    .format(at)
    .replace(',', '')
}
