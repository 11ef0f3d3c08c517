/**
 * Leads: intake, replies and suppression.
 *
 * Stopping a lead and cancelling its pending items run as two statements in one transaction: the
 * first locks the lead, so the second's snapshot (taken after the lock) sees any follow-up a
 * completion enqueued before it; a completion that comes later waits for the lock and then finds
 * the lead stopped. Suppression and intake exclude each other per address through advisory locks
 * on a hash bucket of the address, so an address cannot slip in while it is being suppressed.
 */
import {
  type AddLeadsOutcome,
  type Lead,
  type LeadStatus,
  MailcadenceError,
  type NewLead,
} from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import { leadColumns, type Row, toLead } from './rows.js'
import { lockKey, type Tables } from './schema.js'

/** Address buckets for the intake/suppression locks: few enough for one call to take them all. */
export const BUCKETS = 64

export async function addLeads(
  s: Session,
  t: Tables,
  campaignId: string,
  leads: readonly NewLead[],
  now: Date,
): Promise<AddLeadsOutcome> {
  const notFound = () => new MailcadenceError('not-found', `campaign ${campaignId} does not exist`)
  if (!isId(campaignId)) throw notFound()
  return s.transaction(async (tx) => {
    const [campaign] = await tx.query(`SELECT 1 FROM ${t.campaigns} WHERE id = $1`, [campaignId])
    if (!campaign) throw notFound()
    if (leads.length === 0) return { added: [], duplicates: 0, suppressed: [] }
    const keys = leads.map((l) => l.emailKey)
    // Shared: intakes do not wait for each other, only for a suppression or an import (importLeads
    // takes these locks exclusively) of one of their addresses.
    await tx.query(
      `SELECT pg_advisory_xact_lock_shared($1::int, b)
       FROM (SELECT DISTINCT hashtext(k) & ${BUCKETS - 1} AS b FROM unnest($2::text[]) k ORDER BY 1) buckets`,
      [lockKey(t.schema, 'suppress'), keys],
    )
    const [row] = await tx.query<{ added: Row[]; refused: string[] }>(
      `WITH input AS (
         SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
             $9::text[], $10::text[], $11::text[])
           WITH ORDINALITY AS x (email, email_key, first_name, last_name, company, variables, timezone, country,
             window_key, ord)
       ),
       firsts AS (SELECT DISTINCT ON (email_key) * FROM input ORDER BY email_key, ord),
       refused AS (
         SELECT f.email_key, f.ord FROM firsts f
         WHERE EXISTS (SELECT 1 FROM ${t.suppressions} s WHERE s.email_key = f.email_key)
           AND NOT EXISTS (SELECT 1 FROM ${t.leads} l WHERE l.campaign_id = $1 AND l.email_key = f.email_key)
       ),
       added AS (
         INSERT INTO ${t.leads} AS l
           (campaign_id, email, email_key, first_name, last_name, company, variables, status, timezone, country,
            window_key, created_at, updated_at)
         SELECT $1, f.email, f.email_key, f.first_name, f.last_name, f.company, f.variables::jsonb, 'active',
           f.timezone, f.country, f.window_key, $8, $8
         FROM firsts f
         WHERE NOT EXISTS (SELECT 1 FROM ${t.suppressions} s WHERE s.email_key = f.email_key)
         ORDER BY f.ord
         ON CONFLICT (campaign_id, email_key) DO NOTHING
         RETURNING ${leadColumns('l')}, l.email_key, l.window_key
       ),
       enqueued AS (
         INSERT INTO ${t.items} (campaign_id, lead_id, step, status, scheduled_at, window_key, created_at, updated_at)
         SELECT $1, a.id::bigint, 0, 'pending', $8, a.window_key, $8, $8 FROM added a ORDER BY a.id::bigint
       ),
       -- A new lead may be in a zone whose window opens before the deferral ends (Store.deferCampaigns).
       forgotten AS (
         UPDATE ${t.campaigns} SET deferred_until = NULL
         WHERE id = $1 AND deferred_until IS NOT NULL AND EXISTS (SELECT 1 FROM added)
       )
       SELECT
         (SELECT coalesce(json_agg(a ORDER BY a.id::bigint), '[]') FROM added a) AS added,
         (SELECT coalesce(array_agg(r.email_key ORDER BY r.ord), '{}') FROM refused r) AS refused`,
      [
        campaignId,
        leads.map((l) => l.email),
        keys,
        leads.map((l) => l.firstName),
        leads.map((l) => l.lastName),
        leads.map((l) => l.company),
        leads.map((l) => JSON.stringify(l.variables ?? {})),
        now,
        leads.map((l) => l.timezone ?? null),
        leads.map((l) => l.country ?? null),
        leads.map((l) => l.windowKey ?? ''),
      ],
    )
    const added = (row?.added ?? []).map((r) => toLead(r))
    const suppressed = row?.refused ?? []
    return { added, duplicates: leads.length - added.length - suppressed.length, suppressed }
  })
}

export async function getLead(
  s: Session,
  t: Tables,
  campaignId: string,
  emailKey: string,
): Promise<Lead | null> {
  if (!isId(campaignId)) return null
  const [row] = await s.query<Row>(
    `SELECT ${leadColumns('l')} FROM ${t.leads} l WHERE l.campaign_id = $1 AND l.email_key = $2`,
    [campaignId, emailKey],
  )
  return row ? toLead(row) : null
}

/** Every lead of a campaign, oldest first (ties in insertion order). Not on the hot path. */
export async function listLeads(s: Session, t: Tables, campaignId: string): Promise<Lead[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<Row>(
    `SELECT ${leadColumns('l')} FROM ${t.leads} l WHERE l.campaign_id = $1 ORDER BY l.created_at, l.id`,
    [campaignId],
  )
  return rows.map((r) => toLead(r))
}

export async function stopLead(
  s: Session,
  t: Tables,
  campaignId: string,
  emailKey: string,
  status: Exclude<LeadStatus, 'active'>,
  reason: string,
  now: Date,
): Promise<{ lead: Lead; cancelled: number } | null> {
  if (!isId(campaignId)) return null
  return s.transaction(async (tx) => {
    const [row] = await tx.query<Row>(
      `WITH cur AS (
         SELECT ${leadColumns('l')} FROM ${t.leads} l
         WHERE l.campaign_id = $1 AND l.email_key = $2 FOR NO KEY UPDATE
       ),
       upd AS (
         UPDATE ${t.leads} AS l SET status = $3, updated_at = $4
         FROM cur WHERE l.id = cur.id::bigint
           AND (cur.status = 'active' OR (cur.status = 'completed' AND $3 = 'replied'))
         RETURNING ${leadColumns('l')}
       )
       SELECT upd.* FROM upd
       UNION ALL
       SELECT cur.* FROM cur WHERE NOT EXISTS (SELECT 1 FROM upd)`,
      [campaignId, emailKey, status, now],
    )
    if (!row) return null
    const lead = toLead(row)
    // Pending items are cancelled even if the lead had already stopped: none should be left.
    const cancelled = await tx.query(
      `UPDATE ${t.items} SET status = 'cancelled', last_error = $3, updated_at = $4
       WHERE campaign_id = $1 AND lead_id = $2 AND status = 'pending'
       RETURNING id`,
      [campaignId, lead.id, reason, now],
    )
    return { lead, cancelled: cancelled.length }
  })
}

export async function suppress(
  s: Session,
  t: Tables,
  emailKey: string,
  reason: string,
  now: Date,
): Promise<{ cancelled: number }> {
  return s.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1::int, hashtext($2) & ${BUCKETS - 1})`, [
      lockKey(t.schema, 'suppress'),
      emailKey,
    ])
    // Leads are locked in id order, so two suppressions of one address cannot deadlock.
    await tx.query(
      `WITH listed AS (
         INSERT INTO ${t.suppressions} (email_key, reason, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (email_key) DO NOTHING
       ),
       locked AS (SELECT l.id FROM ${t.leads} l WHERE l.email_key = $1 ORDER BY l.id FOR NO KEY UPDATE)
       UPDATE ${t.leads} AS l SET status = 'suppressed', updated_at = $3
       FROM locked WHERE l.id = locked.id AND l.status = 'active'`,
      [emailKey, reason, now],
    )
    const cancelled = await tx.query(
      `UPDATE ${t.items} AS q SET status = 'cancelled', last_error = $2, updated_at = $3
       FROM ${t.leads} l
       WHERE l.email_key = $1 AND q.campaign_id = l.campaign_id AND q.lead_id = l.id AND q.status = 'pending'
       RETURNING q.id`,
      [emailKey, reason, now],
    )
    return { cancelled: cancelled.length }
  })
}
