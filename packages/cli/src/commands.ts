/** The commands, each given a scheduler (or a pool, for `migrate`) and returning what to print. */
import { migrate } from '@mailcadence/adapter-postgres'
import type { Explanation, Scheduler } from '@mailcadence/core'
import type pg from 'pg'
import { UsageError } from './errors.js'
import { instant, json, printable, table } from './format.js'

export interface Output {
  json: boolean
}

const reasonCodes = (e: Explanation) => (e.sending ? 'sending' : e.reasons.map((r) => r.code).join(', '))

export async function status(
  scheduler: Scheduler,
  out: Output,
  query: { status?: string; after?: string; limit: number },
): Promise<string> {
  const page = await scheduler.listCampaigns({
    ...(query.status ? { status: query.status as never } : {}),
    ...(query.after ? { after: query.after } : {}),
    limit: query.limit,
  })
  const explained = await Promise.all(page.campaigns.map((c) => scheduler.explain(c.id)))
  const rows = page.campaigns.map((c, i) => ({
    id: c.id,
    name: c.name,
    status: c.status,
    sentToday: explained[i]!.campaignDailySent,
    maxEmailsPerDay: c.maxEmailsPerDay,
    pending: explained[i]!.queue.pending,
    sending: explained[i]!.sending,
    reasons: explained[i]!.reasons,
  }))
  if (out.json) return json({ campaigns: rows, next: page.next })
  if (rows.length === 0) return 'No campaigns.'
  const body = table(
    ['ID', 'NAME', 'STATUS', 'TODAY', 'PENDING', 'WHY NOT SENDING'],
    rows.map((r, i) => [
      r.id,
      r.name,
      r.status,
      `${r.sentToday}/${r.maxEmailsPerDay}`,
      r.pending,
      r.sending ? '-' : reasonCodes(explained[i]!),
    ]),
  )
  return page.next ? `${body}\n\nMore: mailcadence status --after ${page.next}` : body
}

export async function explain(scheduler: Scheduler, out: Output, campaignId: string): Promise<string> {
  const [campaign, e] = await Promise.all([scheduler.getCampaign(campaignId), scheduler.explain(campaignId)])
  if (out.json) return json(e)
  const head = `Campaign ${campaign.id} "${printable(campaign.name)}" is ${e.status}: ${e.sending ? 'the next tick can send' : 'not sending'}`
  const reasons = e.reasons.map(
    (r) => `  ${r.code}: ${printable(r.message)}${r.until ? ` (until ${instant(r.until)})` : ''}`,
  )
  const boxes = table(
    ['MAILBOX', 'SENT TODAY', 'PAUSED'],
    e.mailboxes.map((m) => [
      m.email,
      `${m.currentDailySent}/${m.dailyEmailLimit}`,
      m.pausedUntil ? `until ${instant(m.pausedUntil)} ${m.pauseReason ?? ''}` : '-',
    ]),
  )
  return [head, ...reasons, '', boxes].join('\n')
}

export async function stats(scheduler: Scheduler, out: Output, campaignId: string): Promise<string> {
  const [e, perDay] = await Promise.all([
    scheduler.explain(campaignId),
    scheduler.sendsPerDay(campaignId, { days: 7 }),
  ])
  const result = {
    queue: e.queue,
    sentToday: e.campaignDailySent,
    maxEmailsPerDay: e.maxEmailsPerDay,
    perDay,
  }
  if (out.json) return json(result)
  const q = e.queue
  return [
    table(
      ['PENDING', 'SENDING', 'SENT', 'FAILED', 'CANCELLED', 'NEXT SCHEDULED'],
      [[q.pending, q.sending, q.sent, q.failed, q.cancelled, instant(q.nextScheduledAt)]],
    ),
    `Sent today: ${e.campaignDailySent}/${e.maxEmailsPerDay}`,
    '',
    table(
      ['DAY', 'SENT'],
      perDay.map((d) => [d.day, d.sent]),
    ),
  ].join('\n')
}

export async function log(
  scheduler: Scheduler,
  out: Output,
  campaignId: string,
  query: { since: Date | undefined; limit: number },
): Promise<string> {
  const all = await scheduler.sendLog(campaignId)
  const since = query.since
  const entries = (since ? all.filter((e) => e.sentAt >= since) : all).slice(-query.limit)
  if (out.json) return json(entries)
  if (entries.length === 0) return 'Nothing sent.'
  return table(
    ['SENT', 'TO', 'STEP', 'SUBJECT', 'MAILBOX'],
    entries.map((e) => [instant(e.sentAt), e.to, e.step + 1, e.subject, e.mailboxId]),
  )
}

export async function transition(
  scheduler: Scheduler,
  out: Output,
  action: 'pause' | 'resume' | 'stop',
  campaignId: string,
): Promise<string> {
  const campaign =
    action === 'pause'
      ? await scheduler.pauseCampaign(campaignId)
      : action === 'resume'
        ? await scheduler.resumeCampaign(campaignId)
        : await scheduler.stopCampaign(campaignId)
  if (out.json) return json({ id: campaign.id, status: campaign.status })
  return `Campaign ${campaign.id} "${printable(campaign.name)}" is ${campaign.status}.`
}

export async function runMigrate(pool: pg.Pool, out: Output, schema: string | undefined): Promise<string> {
  const result = await migrate(pool, schema ? { schema } : {})
  if (out.json) return json(result)
  return result.applied.length
    ? `Schema ${result.schema}: applied migration ${result.applied.join(', ')}; now at version ${result.version}.`
    : `Schema ${result.schema} is up to date (version ${result.version}).`
}

/** `--since`: an ISO date or date-time, or a span back from now such as `30m`, `24h`, `7d`. */
export function parseSince(value: string, now: Date): Date {
  const span = /^(\d+)(m|h|d)$/.exec(value)
  if (span) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm' | 'h' | 'd']
    return new Date(now.getTime() - Number(span[1]) * unit)
  }
  const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? new Date(value) : null
  if (!date || Number.isNaN(date.getTime()))
    throw new UsageError(
      `--since: "${printable(value)}" is not a date (2026-01-05, 2026-01-05T09:00Z) or a span (30m, 24h, 7d)`,
    )
  return date
}
