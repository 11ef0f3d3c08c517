/** The three pages: campaigns (paginated), one campaign, mailboxes. Every value shown is escaped by `html`. */
import type { Campaign, CampaignStatus, Explanation, Mailbox, Scheduler } from '@mailcadence/core'
import { sendsChart } from './chart.js'
import { formatInstant, type Html, html } from './html.js'

export interface PageContext {
  scheduler: Scheduler
  /** Mount path without a trailing slash ('' at the root). */
  base: string
  now: Date
  csrfToken: string
  pageSize: number
}

const STATUSES: readonly CampaignStatus[] = ['IN_PROGRESS', 'PAUSED', 'DRAFT', 'COMPLETED', 'CANCELLED']

/** Notices an action's redirect may ask for; anything else in `?done=` is ignored, never echoed. */
export const NOTICES: Record<string, string> = {
  paused: 'Campaign paused.',
  resumed: 'Campaign resumed.',
  stopped: 'Campaign stopped.',
  'mailbox-paused': 'Mailbox paused.',
  'mailbox-resumed': 'Mailbox resumed.',
}

function notice(done: string | null): Html | null {
  const text = done === null ? undefined : NOTICES[done]
  return text ? html`<p class="notice" role="status">${text}</p>` : null
}

const badge = (status: string) => html`<span class="badge s-${status}">${status}</span>`

function reasonsList(explanation: Explanation): Html {
  if (explanation.sending) return html`<span class="ok">sending: the next tick can send</span>`
  return html`<ul class="reasons">${explanation.reasons.map(
    (r) =>
      html`<li><code>${r.code}</code> ${r.message}${r.until ? html` <span class="muted">(until ${formatInstant(r.until)})</span>` : ''}</li>`,
  )}</ul>`
}

/** When the next send can happen: now, after every reason with an end has cleared, or unknown. */
function nextSend(explanation: Explanation): string {
  if (explanation.sending) return 'now'
  if (explanation.reasons.some((r) => !r.until)) return '—'
  const latest = Math.max(...explanation.reasons.map((r) => r.until!.getTime()))
  return `not before ${formatInstant(new Date(latest))}`
}

function actionButton(ctx: PageContext, path: string, label: string, danger = false): Html {
  return html`<form class="inline" method="post" action="${ctx.base}${path}"><input type="hidden" name="_csrf" value="${ctx.csrfToken}"><button type="submit"${danger ? html` class="danger"` : ''}>${label}</button></form>`
}

function campaignActions(ctx: PageContext, campaign: Campaign): Html {
  const path = `/campaigns/${encodeURIComponent(campaign.id)}`
  const buttons: Html[] = []
  if (campaign.status === 'IN_PROGRESS') buttons.push(actionButton(ctx, `${path}/pause`, 'Pause'))
  if (campaign.status === 'PAUSED') buttons.push(actionButton(ctx, `${path}/resume`, 'Resume'))
  if (campaign.status !== 'CANCELLED') buttons.push(actionButton(ctx, `${path}/stop`, 'Stop', true))
  return html`<div class="actions">${buttons}</div>`
}

export async function campaignsPage(
  ctx: PageContext,
  query: { status: CampaignStatus | undefined; after: string | undefined; done: string | null },
): Promise<{ title: string; body: Html }> {
  const page = await ctx.scheduler.listCampaigns({
    ...(query.status ? { status: query.status } : {}),
    ...(query.after ? { after: query.after } : {}),
    limit: ctx.pageSize,
  })
  const explanations = await Promise.all(page.campaigns.map((c) => ctx.scheduler.explain(c.id)))
  const statusParam = query.status ? `status=${query.status}&` : ''
  const filters = html`<p class="filters"><a href="${ctx.base}/"${query.status ? '' : html` class="on"`}>All</a>${STATUSES.map(
    (s) => html`<a href="${ctx.base}/?status=${s}"${query.status === s ? html` class="on"` : ''}>${s}</a>`,
  )}</p>`
  const rows = page.campaigns.map((c, i) => {
    const e = explanations[i]!
    return html`<tr data-campaign-id="${c.id}"><td><a href="${ctx.base}/campaigns/${encodeURIComponent(c.id)}">${c.name}</a></td>
<td>${badge(c.status)}</td><td class="num">${e.campaignDailySent} / ${c.maxEmailsPerDay}</td>
<td class="num">${nextSend(e)}</td><td>${reasonsList(e)}</td></tr>`
  })
  const nav = html`<nav class="pages">${query.after ? html`<a href="${ctx.base}/?${statusParam}">« First page</a>` : ''}${
    page.next
      ? html`<a rel="next" href="${ctx.base}/?${statusParam}after=${encodeURIComponent(page.next)}">Next page »</a>`
      : ''
  }</nav>`
  const body = html`${notice(query.done)}<h1>Campaigns</h1>${filters}<div class="card"><table>
<thead><tr><th>Campaign</th><th>Status</th><th>Sent today / max</th><th>Next send</th><th>Why not sending</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="5" class="muted">No campaigns.</td></tr>`}</tbody></table>${nav}</div>`
  return { title: 'Campaigns', body }
}

function usageBar(sent: number, limit: number): Html {
  const pct = limit > 0 ? Math.min(100, Math.round((sent / limit) * 100)) : 100
  return html`<div class="bar${sent >= limit ? ' full' : ''}" role="meter" aria-valuenow="${sent}" aria-valuemax="${limit}"><span style="width:${pct}%"></span></div>`
}

function pauseState(mailbox: Pick<Mailbox, 'pausedUntil' | 'pauseReason'>, now: Date): Html {
  if (!mailbox.pausedUntil || mailbox.pausedUntil <= now) return html`<span class="ok">active</span>`
  const until =
    mailbox.pausedUntil.getUTCFullYear() >= 9999
      ? 'until resumed'
      : `until ${formatInstant(mailbox.pausedUntil)}`
  return html`<span class="badge s-PAUSED">paused</span> ${until}${mailbox.pauseReason ? html`<div class="error">${mailbox.pauseReason}</div>` : ''}`
}

export async function campaignPage(
  ctx: PageContext,
  id: string,
  done: string | null,
): Promise<{ title: string; body: Html }> {
  const campaign = await ctx.scheduler.getCampaign(id)
  const [explanation, perDay, recent, failures, mailboxes] = await Promise.all([
    ctx.scheduler.explain(id),
    ctx.scheduler.sendsPerDay(id, { days: 7 }),
    ctx.scheduler.recentSends(id, { limit: 50 }),
    ctx.scheduler.failures(id, { limit: 50 }),
    ctx.scheduler.listMailboxes(),
  ])
  const emails = new Map(mailboxes.map((m) => [m.id, m.email]))
  const q = explanation.queue
  const stat = (label: string, value: number | string) =>
    html`<div class="stat"><span class="muted">${label}</span><b>${value}</b></div>`
  const usage = explanation.mailboxes.map(
    (m) =>
      html`<tr><td>${m.email}</td><td class="num">${m.currentDailySent} / ${m.dailyEmailLimit}</td><td>${usageBar(m.currentDailySent, m.dailyEmailLimit)}</td><td>${pauseState(m, ctx.now)}</td></tr>`,
  )
  const log = recent.map(
    (e) =>
      html`<tr><td class="num">${formatInstant(e.sentAt)}</td><td>${e.to}</td><td class="num">${e.step + 1}</td><td>${e.subject}</td><td>${emails.get(e.mailboxId) ?? e.mailboxId}</td></tr>`,
  )
  const failed = failures.map(
    (f) =>
      html`<tr><td class="num">${formatInstant(f.item.updatedAt)}</td><td>${f.to}</td><td class="num">${f.item.step + 1}</td><td class="num">${f.item.attempts}</td><td class="error">${f.item.lastError ?? ''}</td></tr>`,
  )
  const week = perDay.reduce((n, d) => n + d.sent, 0)
  const body = html`${notice(done)}<p><a href="${ctx.base}/">« Campaigns</a></p>
<h1>${campaign.name} ${badge(campaign.status)}</h1>${campaignActions(ctx, campaign)}
<div class="grid"><section class="card"><h2>Why it is or is not sending</h2>${reasonsList(explanation)}
<p class="muted">Window ${campaign.allowedDays} ${hhmm(campaign.startHour, campaign.startMinute)}–${hhmm(campaign.endHour, campaign.endMinute)} ${campaign.timezone}; every ${campaign.delayBetweenEmails}s ± ${Math.round(campaign.jitter * 100)}%; sent today ${explanation.campaignDailySent} of ${campaign.maxEmailsPerDay}.</p></section>
<section class="card"><h2>Queue</h2><div class="stats">${stat('pending', q.pending)}${stat('sending', q.sending)}${stat('sent', q.sent)}${stat('failed', q.failed)}${stat('cancelled', q.cancelled)}</div>
<p class="muted">Next scheduled: ${formatInstant(q.nextScheduledAt)}</p></section></div>
<section class="card"><h2>Sends per day (${campaign.timezone}), last 7 days: ${week}</h2>${sendsChart(perDay)}</section>
<section class="card"><h2>Mailboxes today</h2><table><thead><tr><th>Mailbox</th><th>Sent / limit</th><th>Usage</th><th>State</th></tr></thead><tbody>${usage}</tbody></table></section>
<section class="card" id="log"><h2>Recent sends</h2><table><thead><tr><th>Sent</th><th>To</th><th>Step</th><th>Subject</th><th>From</th></tr></thead>
<tbody>${log.length ? log : html`<tr><td colspan="5" class="muted">Nothing sent yet.</td></tr>`}</tbody></table></section>
<section class="card" id="failures"><h2>Failures</h2><table><thead><tr><th>When</th><th>To</th><th>Step</th><th>Attempts</th><th>Server's answer</th></tr></thead>
<tbody>${failed.length ? failed : html`<tr><td colspan="5" class="muted">No failures.</td></tr>`}</tbody></table></section>`
  return { title: campaign.name, body }
}

export async function mailboxesPage(
  ctx: PageContext,
  done: string | null,
): Promise<{ title: string; body: Html }> {
  const mailboxes = await ctx.scheduler.listMailboxes()
  const rows = mailboxes.map((m) => {
    const path = `/mailboxes/${encodeURIComponent(m.id)}`
    const paused = m.pausedUntil !== null && m.pausedUntil > ctx.now
    return html`<tr data-mailbox-id="${m.id}"><td>${m.email}</td><td>${m.name ?? ''}</td><td class="num">${m.dailyEmailLimit}</td><td>${m.timezone}</td>
<td>${pauseState(m, ctx.now)}</td><td>${paused ? actionButton(ctx, `${path}/resume`, 'Resume') : actionButton(ctx, `${path}/pause`, 'Pause')}</td></tr>`
  })
  const body = html`${notice(done)}<h1>Mailboxes</h1><div class="card"><table>
<thead><tr><th>Address</th><th>Name</th><th>Daily limit</th><th>Day in</th><th>State</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="6" class="muted">No mailboxes.</td></tr>`}</tbody></table></div>`
  return { title: 'Mailboxes', body }
}

function hhmm(hour: number, minute: number): string {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`
}
