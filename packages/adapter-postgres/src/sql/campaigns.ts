/**
 * Campaigns: settings, the status compare-and-set, auto-completion and the runnable list.
 *
 * Status changes lock the campaign row (`FOR NO KEY UPDATE`, the same lock every reservation of
 * the campaign takes), so once a pause or stop has committed no reservation can see the old status.
 */
import {
  type Campaign,
  type CampaignDeferral,
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
  windowTimezone: ['window_timezone', 'text'],
  stopOnReply: ['stop_on_reply', 'text'],
  recipientDomainLimit: ['recipient_domain_limit', 'jsonb'],
  providerMatching: ['provider_matching', 'text'],
  skipDates: ['skip_dates', 'text[]'],
  mailboxIds: ['mailbox_ids', 'text[]'],
  steps: ['steps', 'jsonb'],
  variables: ['variables', 'text[]'],
} as const satisfies Record<Setting, readonly [string, string]>

/** `externalId` is the campaign's identity in another system, set once at creation: not a setting. */
type Setting = Exclude<keyof NewCampaign, 'externalId'>

/** Attempts to read back the campaign that won a concurrent create with the same `externalId`. */
const EXTERNAL_ID_ATTEMPTS = 3

/**
 * Defaults of the settings a caller written before they existed may leave out (the columns'
 * defaults): absent means "as before".
 */
const ABSENT_MEANS: Partial<Record<Setting, unknown>> = {
  stopOnReply: 'lead',
  recipientDomainLimit: null,
  providerMatching: 'off',
}

function settingValue(field: Setting, value: unknown): unknown {
  // jsonb travels as text: pg would otherwise send a JS array as a PostgreSQL array literal. A null
  // limit stays SQL NULL (JSON.stringify would make it the JSON value `null`).
  if (field === 'steps') return JSON.stringify(value)
  if (field === 'recipientDomainLimit') return value === null ? null : JSON.stringify(value)
  return value
}

export async function createCampaign(
  s: Session,
  t: Tables,
  input: NewCampaign,
  now: Date,
): Promise<Campaign> {
  const fields = Object.keys(SETTINGS) as Setting[]
  const values: unknown[] = fields.map((f) => settingValue(f, input[f] ?? ABSENT_MEANS[f]))
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
  // New settings may open the window sooner: a deferral made under the old ones no longer holds.
  // The version moves in the same write as the settings: a deferral read before it no longer holds.
  const sets = ['updated_at = $2', 'deferred_until = NULL', 'settings_version = c.settings_version + 1']
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
  return s.transaction(async (tx) => {
    // The row lock first, the queue after, in a statement of its own: one statement would read the
    // queue in a snapshot taken before it waited for the lock (held by a `startCampaign` that came
    // after an `addLeads`, say), so it could complete a campaign over a lead added meanwhile.
    const [running] = await tx.query(
      `SELECT 1 FROM ${t.campaigns} WHERE id = $1 AND status = 'IN_PROGRESS' FOR NO KEY UPDATE`,
      [campaignId],
    )
    if (!running) return false
    // Items only become pending or sending from pending or sending (or from addLeads), so a snapshot
    // that shows none cannot hide one that a concurrent call is about to create from them.
    const rows = await tx.query(
      `UPDATE ${t.campaigns} AS c SET status = 'COMPLETED', updated_at = $2
       WHERE c.id = $1 AND c.status = 'IN_PROGRESS'
         AND NOT EXISTS (SELECT 1 FROM ${t.items} q WHERE q.campaign_id = $1 AND q.status = 'pending')
         AND NOT EXISTS (SELECT 1 FROM ${t.items} q WHERE q.campaign_id = $1 AND q.status = 'sending')
       RETURNING c.id`,
      [campaignId, now],
    )
    return rows.length > 0
  })
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
 * The due-campaign query (`Store.listDueCampaigns`). Each campaign's `next_due_at` is a lower bound
 * of its earliest pending item (migration 003), `deferred_until` the end of a deferral by core (its
 * window is closed until then), and `can_send_from` the later of the two, so only the running
 * campaigns that can send before `dueBefore` ($1), or that have no pending item (they may be
 * drained), are read through their partial indexes and probed in the queue; an idle tick reads no
 * queue rows at all, however many campaigns run. A probed campaign comes back as
 * - `due`: its earliest item is due before $1, or it has nothing pending nor in flight (drained);
 * - `stale`: its bound lags (nothing due before $1, or nothing pending any more): only its id and
 *   earliest item come back, and {@link raiseNextDue} moves the bound up;
 * and a last `later` row holds the earliest instant among the others, or null.
 */
export function dueSql(t: Tables, filtered: boolean): string {
  const only = filtered ? ' AND c.id = ANY($2::bigint[])' : ''
  // Two index scans rather than one OR: a plain index scan drops the index entries of row versions
  // no one can see any more as it meets them, where a bitmap scan (what an OR takes) would read
  // them again on every tick until VACUUM.
  return `WITH cand AS MATERIALIZED (
      SELECT c.id, c.next_due_at FROM ${t.campaigns} c
      WHERE c.status = 'IN_PROGRESS' AND c.can_send_from <= $1 AND c.next_due_at IS NOT NULL${only}
      UNION ALL
      SELECT c.id, c.next_due_at FROM ${t.campaigns} c
      WHERE c.status = 'IN_PROGRESS' AND c.next_due_at IS NULL${only}
    ),
    r AS MATERIALIZED (
      SELECT c.id, c.next_due_at, p.next_at,
        p.next_at IS NULL
          AND EXISTS (SELECT 1 FROM ${t.items} s WHERE s.campaign_id = c.id AND s.status = 'sending') AS in_flight
      FROM cand c
      LEFT JOIN LATERAL (
        SELECT q.scheduled_at AS next_at FROM ${t.items} q
        WHERE q.campaign_id = c.id AND q.status = 'pending'
        ORDER BY q.scheduled_at LIMIT 1
      ) p ON true
    )
    SELECT ${campaignColumns('c')}, r.next_at, 'due' AS kind, r.id AS sort_id
    FROM r JOIN ${t.campaigns} c ON c.id = r.id
    WHERE r.next_at <= $1 OR (r.next_at IS NULL AND NOT r.in_flight)
    UNION ALL
    SELECT ${NULL_CAMPAIGN}, r.next_at, 'stale', r.id
    FROM r WHERE r.next_at > $1 OR (r.next_at IS NULL AND r.next_due_at IS NOT NULL)
    UNION ALL
    SELECT ${NULL_CAMPAIGN}, LEAST(
        (SELECT min(r.next_at) FROM r WHERE r.next_at > $1),
        (SELECT min(c.can_send_from) FROM ${t.campaigns} c
         WHERE c.status = 'IN_PROGRESS' AND c.can_send_from > $1 AND c.next_due_at IS NOT NULL${only})),
      'later', NULL
    ORDER BY kind, sort_id`
}

/** Typed NULLs for the campaign columns of the `stale` and `later` rows of {@link dueSql}. */
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
  // Not prepared: planned for its `dueBefore`, the query reads only the due campaigns through
  // their index, while a generic plan (what a prepared statement settles on) cannot know how few
  // they are and scans every campaign. Planning costs a fraction of a millisecond.
  const rows = await s.query<Row>(
    dueSql(t, ids !== undefined),
    ids === undefined ? [filter.dueBefore] : [filter.dueBefore, ids],
  )
  let laterAt: Date | null = null
  const campaigns: RunnableCampaign[] = []
  const stale: string[] = []
  for (const r of rows) {
    if (r.kind === 'due') campaigns.push({ campaign: toCampaign(r), nextItemAt: dateOrNull(r.next_at) })
    else if (r.kind === 'stale') stale.push(String(r.sort_id))
    else laterAt = dateOrNull(r.next_at)
  }
  if (stale.length > 0) await raiseNextDue(s, t, stale)
  return { campaigns, laterAt }
}

/**
 * Moves `next_due_at` of these campaigns up to their earliest pending item (NULL when none), so
 * the next idle tick no longer reads them. It locks the rows first, skipping any another
 * transaction holds (a reservation, or a statement making items pending, which lowers the bound
 * itself: skipped rows stay stale until a later tick), and reads the queue in a statement of its
 * own, whose snapshot follows the locks: an item made pending by a transaction that committed
 * before is seen, and one made pending after waits for the lock in its trigger, then lowers the
 * bound again. Never waits, so it cannot deadlock.
 */
export async function raiseNextDue(s: Session, t: Tables, campaignIds: readonly string[]): Promise<void> {
  await s.transaction(async (tx) => {
    const locked = await tx.query<{ id: string }>(
      `SELECT c.id::text AS id FROM ${t.campaigns} c WHERE c.id = ANY($1::bigint[])
       ORDER BY c.id FOR NO KEY UPDATE SKIP LOCKED`,
      [campaignIds],
    )
    if (locked.length === 0) return
    await tx.query(
      `UPDATE ${t.campaigns} AS c SET next_due_at = (
         SELECT min(q.scheduled_at) FROM ${t.items} q WHERE q.campaign_id = c.id AND q.status = 'pending'
       )
       WHERE c.id = ANY($1::bigint[])`,
      [locked.map((r) => r.id)],
    )
  })
}

/**
 * Records core's deferrals (`Store.deferCampaigns`): `deferred_until` moves forward (never back) for
 * each running campaign still at the `settingsVersion` core read, skipping rows another transaction
 * holds. `updateCampaign` clears it and moves the version on.
 */
export async function deferCampaigns(
  s: Session,
  t: Tables,
  deferrals: readonly CampaignDeferral[],
): Promise<void> {
  const valid = deferrals.filter((d) => isId(d.campaignId) && Number.isSafeInteger(d.settingsVersion))
  if (valid.length === 0) return
  await s.query(
    `WITH d AS (
       SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[]) AS d (id, until, version)
     ),
     locked AS (
       SELECT c.id FROM ${t.campaigns} c
       WHERE c.id IN (SELECT d.id FROM d) AND c.status = 'IN_PROGRESS'
       ORDER BY c.id FOR NO KEY UPDATE SKIP LOCKED
     )
     UPDATE ${t.campaigns} AS c SET deferred_until = GREATEST(c.deferred_until, m.until)
     FROM (SELECT d.id, max(d.until) AS until, d.version FROM d GROUP BY d.id, d.version) m
     WHERE c.id = m.id AND c.id IN (SELECT l.id FROM locked l) AND c.settings_version = m.version`,
    [valid.map((d) => d.campaignId), valid.map((d) => d.until), valid.map((d) => d.settingsVersion)],
  )
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
