/**
 * The optional inspection reads of the `Store` contract (dashboards, the CLI). None runs on a
 * tick; each reads by an index prefix (the primary key, or `campaign_id` first) and a `LIMIT`.
 */
import type { Campaign, CampaignListQuery, FailedSend, Mailbox, SendLogEntry } from '@mailcadence/core'
import type { Session } from '../db.js'
import { isId } from '../ids.js'
import {
  campaignColumns,
  dateOrNull,
  itemColumns,
  mailboxColumns,
  type Row,
  sendLogColumns,
  toCampaign,
  toItem,
  toMailbox,
  toSendLogEntry,
} from './rows.js'
import type { Tables } from './schema.js'

/** Keyset pagination on the primary key: page 200 costs what page 1 does. */
export async function listCampaigns(s: Session, t: Tables, query: CampaignListQuery): Promise<Campaign[]> {
  if (query.after !== undefined && !isId(query.after)) return []
  const rows = await s.query<Row>(
    `SELECT ${campaignColumns('c')} FROM ${t.campaigns} c
     WHERE c.id > $1::bigint AND ($2::text IS NULL OR c.status = $2)
     ORDER BY c.id LIMIT $3`,
    [query.after ?? '0', query.status ?? null, query.limit],
  )
  return rows.map(toCampaign)
}

export async function listMailboxes(s: Session, t: Tables): Promise<Mailbox[]> {
  const rows = await s.query<Row>(`SELECT ${mailboxColumns('m')} FROM ${t.mailboxes} m ORDER BY m.id`)
  return rows.map(toMailbox)
}

export async function listFailedSends(
  s: Session,
  t: Tables,
  campaignId: string,
  limit: number,
): Promise<FailedSend[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<Row>(
    `SELECT ${itemColumns('q')}, l.email AS lead_email FROM ${t.items} q
     JOIN ${t.leads} l ON l.id = q.lead_id
     WHERE q.campaign_id = $1 AND q.status = 'failed'
     ORDER BY q.updated_at DESC, q.id DESC LIMIT $2`,
    [campaignId, limit],
  )
  return rows.map((row) => ({ item: toItem(row), to: String(row.lead_email) }))
}

export async function listRecentSends(
  s: Session,
  t: Tables,
  campaignId: string,
  limit: number,
): Promise<SendLogEntry[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<Row>(
    `SELECT ${sendLogColumns('g')} FROM ${t.sendLog} g WHERE g.campaign_id = $1 ORDER BY g.id DESC LIMIT $2`,
    [campaignId, limit],
  )
  return rows.map(toSendLogEntry)
}

export async function listSendTimes(
  s: Session,
  t: Tables,
  campaignId: string,
  from: Date,
  to: Date,
): Promise<Date[]> {
  if (!isId(campaignId)) return []
  const rows = await s.query<{ sent_at: unknown }>(
    `SELECT g.sent_at FROM ${t.sendLog} g
     WHERE g.campaign_id = $1 AND g.sent_at >= $2 AND g.sent_at < $3 ORDER BY g.sent_at`,
    [campaignId, from, to],
  )
  return rows.flatMap((row) => dateOrNull(row.sent_at) ?? [])
}
