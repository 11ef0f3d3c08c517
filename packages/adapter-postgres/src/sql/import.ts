/**
 * Migrating from another sender: leads imported with their history, and sends the other system
 * made, counted once each.
 *
 * `importLeads` runs one statement per chunk of leads, in a transaction that first takes the
 * intake/suppression advisory locks of the chunk's address buckets *exclusively*, in bucket order.
 * `addLeads` takes the same locks shared and `suppress` takes one exclusively, so while the import
 * statement runs no other intake or suppression of those addresses is in progress: what its
 * snapshot says is in the campaign or suppressed stays true until it commits, and its inserts never
 * wait on another transaction's uncommitted lead (which, with inputs in different orders, could
 * deadlock). Concurrent imports of overlapping addresses therefore run one after the other, and the
 * later one finds the leads `existing`. Within the statement each lead, its history (sent items and
 * send-log rows) and its next step are inserted together, so no lead is ever half imported. Leads
 * given with `advance` that the statement finds already here are then moved forward one by one
 * (advance.ts).
 *
 * `recordExternalSends` is one statement per chunk of sends. It locks the campaigns it counts for
 * first, in id order, as reservations and completions lock a campaign before a mailbox count; then
 * claims the keys (`INSERT … ON CONFLICT DO NOTHING`, in key order, so a concurrent call reporting
 * the same key waits for this one and then finds it taken); then adds only the new keys to the
 * mailbox counts (upserts in mailbox/day order) and to the campaign rows.
 */
import {
  type ExternalSend,
  type ImportedLead,
  type ImportLeadsOutcome,
  MailcadenceError,
} from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import { advanceLead } from './advance.js'
import { BUCKETS } from './leads.js'
import { leadColumns, type Row, toLead } from './rows.js'
import { lockKey, type Tables } from './schema.js'

/** Leads per import statement: big enough to keep round trips few, small enough to hold locks briefly. */
export const IMPORT_CHUNK = 1000

/** External sends per statement. */
export const EXTERNAL_CHUNK = 5000

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Mailbox ids of imported history and next steps must be ids of this store's mailboxes. */
function checkMailboxes(leads: readonly ImportedLead[]): void {
  leads.forEach((lead, i) => {
    const bad = (field: string, id: unknown) =>
      new MailcadenceError('not-found', `leads[${i}].${field}: mailbox ${String(id)} does not exist`, {
        field: `leads[${i}].${field}`,
      })
    lead.history.forEach((h, j) => {
      if (!isId(h.mailboxId)) throw bad(`history[${j}].mailboxId`, h.mailboxId)
    })
    if (lead.next !== null && lead.next.mailboxId !== null && !isId(lead.next.mailboxId)) {
      throw bad('next.mailboxId', lead.next.mailboxId)
    }
  })
}

/**
 * The import statement. $1 campaign, $2–$10 one array per lead field (history and next as JSON
 * text), $11 now, $12–$14 zone, country and window key (copied to every item of the lead). History entries become `sent` items (`scheduledAt = sentAt`, no thread fields:
 * the thread travels on the next step) and send-log rows; `next` becomes a `pending` item.
 */
export function importSql(t: Tables): string {
  return `WITH
  camp AS MATERIALIZED (SELECT c.id FROM ${t.campaigns} c WHERE c.id = $1),
  input AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
      $9::text[], $10::text[], $12::text[], $13::text[], $14::text[])
      WITH ORDINALITY AS x (email, email_key, first_name, last_name, company, variables, status, history, next,
        timezone, country, window_key, ord)
  ),
  firsts AS MATERIALIZED (
    SELECT DISTINCT ON (i.email_key) i.*,
      EXISTS (SELECT 1 FROM ${t.leads} l WHERE l.campaign_id = $1 AND l.email_key = i.email_key) AS present,
      EXISTS (SELECT 1 FROM ${t.suppressions} s WHERE s.email_key = i.email_key) AS barred
    FROM input i ORDER BY i.email_key, i.ord
  ),
  added AS MATERIALIZED (
    INSERT INTO ${t.leads} AS l
      (campaign_id, email, email_key, first_name, last_name, company, variables, status, timezone, country,
       window_key, created_at, updated_at)
    SELECT camp.id, f.email, f.email_key, f.first_name, f.last_name, f.company, f.variables::jsonb, f.status,
      f.timezone, f.country, f.window_key, $11, $11
    FROM firsts f, camp
    WHERE NOT f.present AND NOT f.barred
    ORDER BY f.ord
    ON CONFLICT (campaign_id, email_key) DO NOTHING
    RETURNING ${leadColumns('l')}, l.email_key
  ),
  mine AS MATERIALIZED (
    SELECT a.id::bigint AS lead_id, a.email, f.ord, f.history::jsonb AS history, f.next::jsonb AS next,
      f.window_key
    FROM added a JOIN firsts f ON f.email_key = a.email_key
  ),
  hist AS MATERIALIZED (
    SELECT m.lead_id, m.email, m.ord, m.window_key, h.n, (h.e->>'step')::int AS step, (h.e->>'sentAt')::timestamptz AS sent_at,
      (h.e->>'mailboxId')::bigint AS mailbox_id, h.e->>'messageId' AS message_id, h.e->>'subject' AS subject
    FROM mine m, jsonb_array_elements(m.history) WITH ORDINALITY AS h (e, n)
  ),
  logged AS (
    INSERT INTO ${t.sendLog} (campaign_id, lead_id, step, mailbox_id, message_id, recipient, subject, sent_at)
    SELECT $1, h.lead_id, h.step, h.mailbox_id, h.message_id, h.email, h.subject, h.sent_at
    FROM hist h ORDER BY h.ord, h.n
  ),
  -- One INSERT for history and next steps, so each lead's items are created in step order.
  items AS (
    INSERT INTO ${t.items}
      (campaign_id, lead_id, step, status, scheduled_at, attempts, mailbox_id, thread_refs, message_id,
       thread_subject, sent_at, window_key, created_at, updated_at)
    SELECT $1, x.lead_id, x.step, x.status, x.scheduled_at, 0, x.mailbox_id, x.refs, x.message_id,
      x.thread_subject, x.sent_at, x.window_key, $11, $11
    FROM (
      SELECT h.lead_id, h.step, 'sent' AS status, h.sent_at AS scheduled_at, h.mailbox_id, '{}'::text[] AS refs,
        h.message_id, NULL::text AS thread_subject, h.sent_at, h.window_key, h.ord, h.n
      FROM hist h
      UNION ALL
      SELECT m.lead_id, (m.next->>'step')::int, 'pending', (m.next->>'scheduledAt')::timestamptz,
        (m.next->>'mailboxId')::bigint,
        ARRAY(SELECT jsonb_array_elements_text(coalesce(m.next->'references', '[]'::jsonb))),
        NULL, m.next->>'threadSubject', NULL, m.window_key, m.ord, NULL
      FROM mine m WHERE jsonb_typeof(m.next) = 'object'
    ) x
    ORDER BY x.ord, x.n NULLS LAST
  ),
  -- A new lead may be in a zone whose window opens before the deferral ends (Store.deferCampaigns).
  forgotten AS (
    UPDATE ${t.campaigns} SET deferred_until = NULL
    WHERE id = $1 AND deferred_until IS NOT NULL AND EXISTS (SELECT 1 FROM added)
  )
  SELECT
    EXISTS (SELECT 1 FROM camp) AS found,
    (SELECT coalesce(json_agg(a ORDER BY m.ord), '[]') FROM added a JOIN mine m ON m.lead_id = a.id::bigint)
      AS imported,
    (SELECT coalesce(array_agg(i.email_key ORDER BY i.ord), '{}')
     FROM input i JOIN firsts f ON f.email_key = i.email_key
     WHERE NOT (f.barred AND NOT f.present)
       AND NOT (i.ord = f.ord AND EXISTS (SELECT 1 FROM added a WHERE a.email_key = i.email_key))) AS existing,
    (SELECT coalesce(array_agg(f.email_key ORDER BY f.ord), '{}') FROM firsts f WHERE f.barred AND NOT f.present)
      AS suppressed`
}

export async function importLeads(
  s: Session,
  t: Tables,
  campaignId: string,
  leads: readonly ImportedLead[],
  now: Date,
): Promise<ImportLeadsOutcome> {
  const notFound = () => new MailcadenceError('not-found', `campaign ${campaignId} does not exist`)
  if (!isId(campaignId)) throw notFound()
  checkMailboxes(leads)
  if (leads.length === 0) {
    const [campaign] = await s.query(`SELECT 1 FROM ${t.campaigns} WHERE id = $1`, [campaignId])
    if (!campaign) throw notFound()
    return { imported: [], existing: [], suppressed: [], advanced: [], stale: [] }
  }
  const sql = importSql(t)
  const outcome: ImportLeadsOutcome = { imported: [], existing: [], suppressed: [], advanced: [], stale: [] }
  const suppressed = new Set<string>()
  // Each chunk commits on its own (every lead is atomic on its own, and later chunks see the
  // earlier ones: a repeat of an address imported by an earlier chunk is `existing`).
  for (const chunk of chunks(leads, IMPORT_CHUNK)) {
    const keys = chunk.map((l) => l.emailKey)
    const row = await s.transaction(async (tx) => {
      await tx.query(
        `SELECT pg_advisory_xact_lock($1::int, b)
         FROM (SELECT DISTINCT hashtext(k) & ${BUCKETS - 1} AS b FROM unnest($2::text[]) k ORDER BY 1) buckets`,
        [lockKey(t.schema, 'suppress'), keys],
      )
      const [result] = await tx.query<{
        found: boolean
        imported: Row[]
        existing: string[]
        suppressed: string[]
      }>(sql, [
        campaignId,
        chunk.map((l) => l.email),
        keys,
        chunk.map((l) => l.firstName),
        chunk.map((l) => l.lastName),
        chunk.map((l) => l.company),
        chunk.map((l) => JSON.stringify(l.variables ?? {})),
        chunk.map((l) => l.status),
        chunk.map((l) => JSON.stringify(l.history)),
        chunk.map((l) => (l.next === null ? null : JSON.stringify(l.next))),
        now,
        chunk.map((l) => l.timezone ?? null),
        chunk.map((l) => l.country ?? null),
        chunk.map((l) => l.windowKey ?? ''),
      ])
      return result
    })
    if (!row?.found) throw notFound()
    for (const r of row.imported) outcome.imported.push(toLead(r))
    outcome.existing.push(...row.existing)
    for (const key of row.suppressed) {
      if (suppressed.has(key)) continue
      suppressed.add(key)
      outcome.suppressed.push(key)
    }
  }
  // Leads given with `advance` that are already here are moved forward, one transaction each.
  const existing = new Set(outcome.existing)
  for (const lead of leads) {
    const advance = lead.advance
    if (advance === undefined || !existing.has(lead.emailKey)) continue
    existing.delete(lead.emailKey)
    outcome.existing.splice(outcome.existing.indexOf(lead.emailKey), 1)
    const moved = await advanceLead(s, t, campaignId, { ...lead, advance }, now)
    ;(moved ? outcome.advanced : outcome.stale).push(lead.emailKey)
  }
  return outcome
}

/**
 * The external-send statement. $1 keys, $2 mailbox ids, $3 mailbox day keys, $4 campaign ids, $5
 * campaign day keys, $6 campaign next slots, $7 now. The campaign's count is kept for its current
 * day on its row: new sends of a later day move it to that day, sends of an earlier day are not
 * kept. Applied in any order, the sends of one batch leave the same row as applied one by one.
 */
export function externalSendsSql(t: Tables): string {
  return `WITH
  input AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
      WITH ORDINALITY AS x (key, mailbox_id, mailbox_day_key, campaign_id, campaign_day_key, next_slot_at, ord)
  ),
  locked AS MATERIALIZED (
    SELECT c.id FROM ${t.campaigns} c
    WHERE c.id IN (SELECT i.campaign_id FROM input i WHERE i.campaign_id IS NOT NULL)
    ORDER BY c.id
    FOR NO KEY UPDATE
  ),
  firsts AS MATERIALIZED (SELECT DISTINCT ON (i.key) i.* FROM input i ORDER BY i.key, i.ord),
  fresh AS MATERIALIZED (
    INSERT INTO ${t.externalSends} AS e
      (key, mailbox_id, mailbox_day_key, campaign_id, campaign_day_key, recorded_at)
    SELECT f.key, f.mailbox_id, f.mailbox_day_key, f.campaign_id, f.campaign_day_key, $7
    FROM firsts f
    WHERE (SELECT count(*) FROM locked) >= 0
    ORDER BY f.key
    ON CONFLICT (key) DO NOTHING
    RETURNING e.key
  ),
  news AS MATERIALIZED (SELECT f.* FROM firsts f JOIN fresh n ON n.key = f.key),
  boxes AS (
    INSERT INTO ${t.mailboxDays} AS d (mailbox_id, day_key, sent)
    SELECT n.mailbox_id, n.mailbox_day_key, count(*)::int FROM news n
    WHERE n.mailbox_id IS NOT NULL AND n.mailbox_day_key IS NOT NULL
    GROUP BY n.mailbox_id, n.mailbox_day_key
    ORDER BY n.mailbox_id, n.mailbox_day_key
    ON CONFLICT (mailbox_id, day_key) DO UPDATE SET sent = d.sent + EXCLUDED.sent
  ),
  latest AS (
    SELECT n.campaign_id, max(n.campaign_day_key COLLATE "C") AS day_key, max(n.next_slot_at) AS next_slot_at
    FROM news n JOIN locked l ON l.id = n.campaign_id
    WHERE n.campaign_day_key IS NOT NULL
    GROUP BY n.campaign_id
  ),
  per_campaign AS (
    SELECT x.*, (SELECT count(*)::int FROM news n
                 WHERE n.campaign_id = x.campaign_id AND n.campaign_day_key = x.day_key) AS sent
    FROM latest x
  ),
  camps AS (
    UPDATE ${t.campaigns} AS c
    SET day_sent = CASE WHEN c.day_key IS NULL OR c.day_key COLLATE "C" < p.day_key THEN p.sent
                        WHEN c.day_key = p.day_key THEN c.day_sent + p.sent
                        ELSE c.day_sent END,
        day_key = CASE WHEN c.day_key IS NULL OR c.day_key COLLATE "C" < p.day_key THEN p.day_key
                       ELSE c.day_key END,
        next_slot_at = greatest(c.next_slot_at, p.next_slot_at)
    FROM per_campaign p
    WHERE c.id = p.campaign_id
  )
  SELECT count(*)::int AS recorded FROM fresh`
}

export async function recordExternalSends(
  s: Session,
  t: Tables,
  sends: readonly ExternalSend[],
  now: Date,
): Promise<{ recorded: number }> {
  if (sends.length === 0) return { recorded: 0 }
  const sql = externalSendsSql(t)
  let recorded = 0
  for (const chunk of chunks(sends, EXTERNAL_CHUNK)) {
    // An id that cannot be a row id names nothing of this store: that part is not counted.
    const box = (x: ExternalSend) => (x.mailbox !== undefined && isId(x.mailbox.id) ? x.mailbox : undefined)
    const camp = (x: ExternalSend) =>
      x.campaign !== undefined && isId(x.campaign.id) ? x.campaign : undefined
    const [row] = await s.query<{ recorded: number }>(sql, [
      chunk.map((x) => x.key),
      chunk.map((x) => box(x)?.id ?? null),
      chunk.map((x) => box(x)?.dayKey ?? null),
      chunk.map((x) => camp(x)?.id ?? null),
      chunk.map((x) => camp(x)?.dayKey ?? null),
      chunk.map((x) => camp(x)?.nextSlotAt ?? null),
      now,
    ])
    recorded += Number(row?.recorded ?? 0)
  }
  return { recorded }
}
