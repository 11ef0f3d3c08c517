/**
 * Campaigns: settings, the status compare-and-set, auto-completion and the runnable list.
 *
 * Status changes lock the campaign row (`FOR NO KEY UPDATE`, the same lock every reservation of
 * the campaign takes), so once a pause or stop has committed no reservation can see the old status.
 */
import {
  type Campaign,
  type CampaignPatch,
  type CampaignStatus,
  MailcadenceError,
  type NewCampaign,
  type RunnableCampaign,
} from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId, validIds } from '../ids.js'
import { campaignColumns, dateOrNull, type Row, toCampaign } from './rows.js'
import type { Tables } from './schema.js'

/** Settings a patch may replace, their columns and casts: the only names spliced into an UPDATE. */
const SETTINGS = {
  name: ['name', 'text'],
  timezone: ['timezone', 'text'],
  startHour: ['start_hour', 'integer'],
  startMinute: ['start_minute', 'integer'],
  endHour: ['end_hour', 'integer'],
  endMinute: ['end_minute', 'integer'],
  allowedDays: ['allowed_days', 'text'],
  delayBetweenEmails: ['delay_between_emails', 'integer'],
  jitter: ['jitter', 'double precision'],
  maxEmailsPerDay: ['max_emails_per_day', 'integer'],
  mailboxIds: ['mailbox_ids', 'text[]'],
  steps: ['steps', 'jsonb'],
  variables: ['variables', 'text[]'],
} as const satisfies Record<Setting, readonly [string, string]>

/** `externalId` is the campaign's identity in another system, set once at creation: not a setting. */
type Setting = Exclude<keyof NewCampaign, 'externalId'>

/** Attempts to read back the campaign that won a concurrent create with the same `externalId`. */
const EXTERNAL_ID_ATTEMPTS = 3

function settingValue(field: Setting, value: unknown): unknown {
  // jsonb travels as text: pg would otherwise send a JS array as a PostgreSQL array literal.
  return field === 'steps' ? JSON.stringify(value) : value
}

export async function createCampaign(
  s: Session,
  t: Tables,
  input: NewCampaign,
  now: Date,
): Promise<Campaign> {
  const fields = Object.keys(SETTINGS) as Setting[]
  const values: unknown[] = fields.map((f) => settingValue(f, input[f]))
  const externalId = input.externalId ?? null
  values.push(now, externalId)
  const [nowParam, externalParam] = [`$${values.length - 1}`, `$${values.length}::text`]
  const columns = fields.map((f) => SETTINGS[f][0])
  const params = fields.map((f, i) => `$${i + 1}::${SETTINGS[f][1]}`)
  // An externalId already taken inserts nothing (ON CONFLICT waits for a concurrent insert of the
  // same id to commit), and the same statement returns the campaign holding it. Only when that
  // campaign committed after this statement's snapshot is it invisible here: read it again below.
  const [row] = await s.query<Row>(
    `WITH inserted AS (
       INSERT INTO ${t.campaigns} AS c (${columns.join(', ')}, external_id, status, created_at, updated_at)
       VALUES (${params.join(', ')}, ${externalParam}, 'DRAFT', ${nowParam}, ${nowParam})
       ON CONFLICT (external_id) DO NOTHING
       RETURNING ${campaignColumns('c')}
     )
     SELECT * FROM inserted
     UNION ALL
     SELECT ${campaignColumns('c')} FROM ${t.campaigns} c
     WHERE ${externalParam} IS NOT NULL AND c.external_id = ${externalParam}
       AND NOT EXISTS (SELECT 1 FROM inserted)`,
    values,
  )
  if (row) return toCampaign(row)
  for (let attempt = 0; externalId !== null && attempt < EXTERNAL_ID_ATTEMPTS; attempt++) {
    const existing = await getCampaignByExternalId(s, t, externalId)
    if (existing) return existing
  }
  throw new MailcadenceError(
    'store-conflict',
    `campaign with externalId ${JSON.stringify(externalId)} was neither created nor found`,
  )
}

export async function getCampaign(s: Session, t: Tables, id: string): Promise<Campaign | null> {
  if (!isId(id)) return null
  const [row] = await s.query<Row>(`SELECT ${campaignColumns('c')} FROM ${t.campaigns} c WHERE c.id = $1`, [
    id,
  ])
  return row ? toCampaign(row) : null
}

export async function getCampaignByExternalId(
  s: Session,
  t: Tables,
  externalId: string,
): Promise<Campaign | null> {
  const [row] = await s.query<Row>(
    `SELECT ${campaignColumns('c')} FROM ${t.campaigns} c WHERE c.external_id = $1`,
    [externalId],
  )
  return row ? toCampaign(row) : null
}

export async function updateCampaign(
  s: Session,
  t: Tables,
  id: string,
  patch: CampaignPatch,
  now: Date,
): Promise<Campaign | null> {
  if (!isId(id)) return null
  const values: unknown[] = [id, now]
  const sets = ['updated_at = $2']
  for (const field of Object.keys(SETTINGS) as Setting[]) {
    const value = patch[field]
    if (value === undefined) continue
    values.push(settingValue(field, value))
    const [column, cast] = SETTINGS[field]
    sets.push(`${column} = $${values.length}::${cast}`)
  }
  const [row] = await s.query<Row>(
    `UPDATE ${t.campaigns} AS c SET ${sets.join(', ')} WHERE c.id = $1 RETURNING ${campaignColumns('c')}`,
    values,
  )
  return row ? toCampaign(row) : null
}

export async function setCampaignStatus(
  s: Session,
  t: Tables,
  id: string,
  change: { from: readonly CampaignStatus[]; to: CampaignStatus; cancelPending?: string },
  now: Date,
): Promise<{ changed: boolean; campaign: Campaign } | null> {
  if (!isId(id)) return null
  return s.transaction(async (tx) => {
    // The locking read returns the latest version of the row, so `from` is checked against it.
    const [row] = await tx.query<Row>(
      `WITH cur AS (
         SELECT ${campaignColumns('c')} FROM ${t.campaigns} c WHERE c.id = $1 FOR NO KEY UPDATE
       ),
       upd AS (
         UPDATE ${t.campaigns} AS c SET status = $3, updated_at = $4
         FROM cur WHERE c.id = cur.id::bigint AND cur.status = ANY($2::text[])
         RETURNING ${campaignColumns('c')}
       )
       SELECT true AS changed, upd.* FROM upd
       UNION ALL
       SELECT false AS changed, cur.* FROM cur WHERE NOT EXISTS (SELECT 1 FROM upd)`,
      [id, [...change.from], change.to, now],
    )
    if (!row) return null
    const changed = row.changed === true
    if (changed && change.cancelPending !== undefined) {
      // A statement of its own: its snapshot is taken after the lock above, so it sees every item
      // that a completion committed before we got the lock.
      await tx.query(
        `UPDATE ${t.items} SET status = 'cancelled', last_error = $2, updated_at = $3
         WHERE campaign_id = $1 AND status = 'pending'`,
        [id, change.cancelPending, now],
      )
    }
    return { changed, campaign: toCampaign(row) }
  })
}

export async function completeIfDrained(
  s: Session,
  t: Tables,
  campaignId: string,
  now: Date,
): Promise<boolean> {
  if (!isId(campaignId)) return false
  // Items only become pending or sending from pending or sending (or from addLeads), so a snapshot
  // that shows none cannot hide one that a concurrent call is about to create from them.
  const rows = await s.query(
    `UPDATE ${t.campaigns} AS c SET status = 'COMPLETED', updated_at = $2
     WHERE c.id = $1 AND c.status = 'IN_PROGRESS'
       AND NOT EXISTS (SELECT 1 FROM ${t.items} q WHERE q.campaign_id = $1 AND q.status = 'pending')
       AND NOT EXISTS (SELECT 1 FROM ${t.items} q WHERE q.campaign_id = $1 AND q.status = 'sending')
     RETURNING c.id`,
    [campaignId, now],
  )
  return rows.length > 0
}

/**
 * The runnable-campaign query. Every tick runs it: it reads the earliest pending item of each
 * running campaign through the partial pending index and checks for items in flight through the
 * partial sending index, so it never touches sent history.
 */
export function runnableSql(t: Tables, filtered: boolean): string {
  return `SELECT ${campaignColumns('c')}, p.next_at
    FROM ${t.campaigns} c
    LEFT JOIN LATERAL (
      SELECT q.scheduled_at AS next_at FROM ${t.items} q
      WHERE q.campaign_id = c.id AND q.status = 'pending'
      ORDER BY q.scheduled_at LIMIT 1
    ) p ON true
    WHERE c.status = 'IN_PROGRESS'${filtered ? ' AND c.id = ANY($1::bigint[])' : ''}
      AND (p.next_at IS NOT NULL
        OR NOT EXISTS (SELECT 1 FROM ${t.items} s WHERE s.campaign_id = c.id AND s.status = 'sending'))
    ORDER BY c.id`
}

/**
 * The due-campaign query (`Store.listDueCampaigns`): the same probes as {@link runnableSql}, one
 * index-only look-up of the earliest pending item per running campaign, but only the campaigns
 * that can send before `dueBefore` ($1) (or are drained) leave the database with their columns;
 * of the others only the earliest instant comes back, in a last row with a null id. An idle tick
 * over thousands of campaigns thus costs a few milliseconds, and never reads sent history.
 */
export function dueSql(t: Tables, filtered: boolean): string {
  return `WITH r AS MATERIALIZED (
      SELECT c.id, p.next_at FROM ${t.campaigns} c
      LEFT JOIN LATERAL (
        SELECT q.scheduled_at AS next_at FROM ${t.items} q
        WHERE q.campaign_id = c.id AND q.status = 'pending'
        ORDER BY q.scheduled_at LIMIT 1
      ) p ON true
      WHERE c.status = 'IN_PROGRESS'${filtered ? ' AND c.id = ANY($2::bigint[])' : ''}
        AND (p.next_at IS NOT NULL
          OR NOT EXISTS (SELECT 1 FROM ${t.items} s WHERE s.campaign_id = c.id AND s.status = 'sending'))
    )
    SELECT ${campaignColumns('c')}, r.next_at, false AS later, r.id AS sort_id
    FROM r JOIN ${t.campaigns} c ON c.id = r.id
    WHERE r.next_at IS NULL OR r.next_at <= $1
    UNION ALL
    SELECT ${NULL_CAMPAIGN}, (SELECT min(r.next_at) FROM r WHERE r.next_at > $1), true, NULL
    ORDER BY later, sort_id`
}

/** Typed NULLs for the campaign columns of the last row of {@link dueSql}. */
const NULL_CAMPAIGN = campaignColumns('c')
  .split(', ')
  .map(() => 'NULL')
  .join(', ')

export async function listDueCampaigns(
  s: Session,
  t: Tables,
  filter: { dueBefore: Date; ids?: readonly string[] },
): Promise<{ campaigns: RunnableCampaign[]; laterAt: Date | null }> {
  const ids = filter.ids === undefined ? undefined : validIds(filter.ids)
  if (ids !== undefined && ids.length === 0) return { campaigns: [], laterAt: null }
  const rows = await s.query<Row>(
    dueSql(t, ids !== undefined),
    ids === undefined ? [filter.dueBefore] : [filter.dueBefore, ids],
    { prepared: true },
  )
  let laterAt: Date | null = null
  const campaigns: RunnableCampaign[] = []
  for (const r of rows) {
    if (r.later === true) laterAt = dateOrNull(r.next_at)
    else campaigns.push({ campaign: toCampaign(r), nextItemAt: dateOrNull(r.next_at) })
  }
  return { campaigns, laterAt }
}

export async function listRunnableCampaigns(
  s: Session,
  t: Tables,
  filter?: { ids?: readonly string[] },
): Promise<RunnableCampaign[]> {
  const ids = filter?.ids === undefined ? undefined : validIds(filter.ids)
  if (ids !== undefined && ids.length === 0) return []
  const rows = await s.query<Row>(runnableSql(t, ids !== undefined), ids === undefined ? [] : [ids])
  return rows.map((r) => ({ campaign: toCampaign(r), nextItemAt: dateOrNull(r.next_at) }))
}
