/** Campaigns: settings, status, and the keyset listing for dashboards. */
import type {
  Campaign,
  CampaignListQuery,
  CampaignPatch,
  CampaignStatus,
  NewCampaign,
} from '@mailcadence/core'
import { type Db, type Row, rowId } from '../db.js'
import type { SqlValue } from '../driver.js'
import { jsonColumn, T, toCampaign } from './rows.js'

export function getCampaign(db: Db, id: string): Campaign | null {
  const rid = rowId(id)
  if (rid === undefined) return null
  const row = db.get<Row>(`SELECT * FROM ${T.campaigns} WHERE id = ?`, rid)
  return row === undefined ? null : toCampaign(row)
}

export function getCampaignByExternalId(db: Db, externalId: string): Campaign | null {
  const row = db.get<Row>(`SELECT * FROM ${T.campaigns} WHERE external_id = ?`, externalId)
  return row === undefined ? null : toCampaign(row)
}

/** Inserts a `DRAFT` campaign; with an `externalId` already taken, returns that campaign instead. */
export function createCampaign(db: Db, input: NewCampaign, now: Date): Campaign {
  const externalId = input.externalId ?? null
  if (externalId !== null) {
    const existing = getCampaignByExternalId(db, externalId)
    if (existing !== null) return existing
  }
  const { lastId } = db.run(
    `INSERT INTO ${T.campaigns} (name, status, external_id, mailbox_ids, steps, variables, timezone,
       start_hour, start_minute, end_hour, end_minute, allowed_days, window_timezone, skip_dates,
       delay_between_emails, jitter, max_emails_per_day, stop_on_reply, recipient_domain_limit,
       provider_matching, created_at, updated_at)
     VALUES (?, 'DRAFT', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    input.name,
    externalId,
    JSON.stringify(input.mailboxIds),
    JSON.stringify(input.steps),
    JSON.stringify(input.variables),
    input.timezone,
    input.startHour,
    input.startMinute,
    input.endHour,
    input.endMinute,
    input.allowedDays,
    input.windowTimezone,
    JSON.stringify(input.skipDates),
    input.delayBetweenEmails,
    input.jitter,
    input.maxEmailsPerDay,
    input.stopOnReply ?? 'lead',
    jsonColumn(input.recipientDomainLimit),
    input.providerMatching ?? 'off',
    now.getTime(),
    now.getTime(),
  )
  return getCampaign(db, String(lastId))!
}

/** Settings a patch may replace, with their column and how the value is stored. */
const CAMPAIGN_PATCH: ReadonlyArray<[keyof CampaignPatch, string, boolean]> = [
  ['name', 'name', false],
  ['mailboxIds', 'mailbox_ids', true],
  ['steps', 'steps', true],
  ['variables', 'variables', true],
  ['timezone', 'timezone', false],
  ['startHour', 'start_hour', false],
  ['startMinute', 'start_minute', false],
  ['endHour', 'end_hour', false],
  ['endMinute', 'end_minute', false],
  ['allowedDays', 'allowed_days', false],
  ['windowTimezone', 'window_timezone', false],
  ['skipDates', 'skip_dates', true],
  ['delayBetweenEmails', 'delay_between_emails', false],
  ['jitter', 'jitter', false],
  ['maxEmailsPerDay', 'max_emails_per_day', false],
  ['stopOnReply', 'stop_on_reply', false],
  ['recipientDomainLimit', 'recipient_domain_limit', true],
  ['providerMatching', 'provider_matching', false],
]

/**
 * Replaces settings and adds one to `settings_version` in the same statement; a deferral made
 * under the old settings is then ignored (it names the old version) and is cleared too.
 */
export function updateCampaign(db: Db, id: string, patch: CampaignPatch, now: Date): Campaign | null {
  const rid = rowId(id)
  if (rid === undefined) return null
  const sets = ['updated_at = ?', 'settings_version = settings_version + 1', 'deferred_until = NULL']
  const values: SqlValue[] = [now.getTime()]
  for (const [key, column, isJson] of CAMPAIGN_PATCH) {
    const value = patch[key]
    if (value === undefined) continue
    sets.push(`${column} = ?`)
    values.push(isJson ? jsonColumn(value as object | null) : (value as string | number | null))
  }
  const { changes } = db.run(`UPDATE ${T.campaigns} SET ${sets.join(', ')} WHERE id = ?`, ...values, rid)
  return changes === 0 ? null : getCampaign(db, id)
}

/** Compare-and-set on the status; with `cancelPending`, the campaign's pending items go with it. */
export function setCampaignStatus(
  db: Db,
  id: string,
  change: { from: readonly CampaignStatus[]; to: CampaignStatus; cancelPending?: string },
  now: Date,
): { changed: boolean; campaign: Campaign } | null {
  const campaign = getCampaign(db, id)
  if (campaign === null) return null
  if (!change.from.includes(campaign.status)) return { changed: false, campaign }
  db.run(`UPDATE ${T.campaigns} SET status = ?, updated_at = ? WHERE id = ?`, change.to, now.getTime(), id)
  if (change.cancelPending !== undefined) {
    db.run(
      `UPDATE ${T.items} SET status = 'cancelled', last_error = ?, updated_at = ?
       WHERE campaign_id = ? AND status = 'pending'`,
      change.cancelPending,
      now.getTime(),
      id,
    )
  }
  return { changed: true, campaign: getCampaign(db, id)! }
}

/** `IN_PROGRESS → COMPLETED` only when nothing is pending or sending. */
export function completeIfDrained(db: Db, id: string, now: Date): boolean {
  const rid = rowId(id)
  if (rid === undefined) return false
  const { changes } = db.run(
    `UPDATE ${T.campaigns} SET status = 'COMPLETED', updated_at = ?
     WHERE id = ? AND status = 'IN_PROGRESS'
       AND NOT EXISTS (SELECT 1 FROM ${T.items} WHERE campaign_id = ? AND status = 'pending')
       AND NOT EXISTS (SELECT 1 FROM ${T.items} WHERE campaign_id = ? AND status = 'sending')`,
    now.getTime(),
    rid,
    rid,
    rid,
  )
  return changes > 0
}

/** One page of campaigns in id order, after `after` (keyset pagination). */
export function listCampaigns(db: Db, query: CampaignListQuery): Campaign[] {
  const after = query.after === undefined ? 0 : rowId(query.after)
  if (after === undefined) return []
  const rows =
    query.status === undefined
      ? db.all<Row>(`SELECT * FROM ${T.campaigns} WHERE id > ? ORDER BY id LIMIT ?`, after, query.limit)
      : db.all<Row>(
          `SELECT * FROM ${T.campaigns} WHERE id > ? AND status = ? ORDER BY id LIMIT ?`,
          after,
          query.status,
          query.limit,
        )
  return rows.map(toCampaign)
}
