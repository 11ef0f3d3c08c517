/**
 * `Store.reserveSends`. The rules come from the store kit: `refusalFor` says why a request is
 * refused (and in which order the checks go), `rotationTurn` which mailbox an unassigned item
 * takes. This module reads the facts and takes the item, inside the caller's `BEGIN IMMEDIATE`:
 * nothing it read can change before it commits, so each check is a compare-and-set.
 */
import type { MailboxCandidate, ReserveOutcome, ReserveRequest } from '@mailcadence/core'
import { type ReservationFacts, refusalFor, rotationTurn } from '@mailcadence/core/store-kit'
import { type Db, type Row, rowId } from '../db.js'
import { earliestPending } from './due.js'
import { dateOrNull, T, toItem, toLead } from './rows.js'

export function reserveOne(db: Db, req: ReserveRequest, now: Date): ReserveOutcome {
  const cid = rowId(req.campaignId)
  const campaign =
    cid === undefined ? undefined : db.get<Row>(`SELECT * FROM ${T.campaigns} WHERE id = ?`, cid)
  if (cid === undefined || campaign === undefined) return { ok: false, reason: 'not-running' }
  const nowMs = now.getTime()
  const campaignCount = dayCount(db, T.campaignDays, 'campaign_id', cid, req.campaignDayKey)
  const earliest = earliestPending(db, cid)
  const keys = req.windowKeys === undefined ? undefined : JSON.stringify([...new Set(req.windowKeys)])
  const earliestListed = keys === undefined ? earliest : earliestWithKeys(db, cid, keys)
  const facts: ReservationFacts = {
    status: campaign.status as ReservationFacts['status'],
    nextSlotAt: dateOrNull(campaign.next_slot_at),
    campaignCount,
    earliestPendingAt: earliest === null ? null : new Date(earliest),
    earliestListedAt: earliestListed === null ? null : new Date(earliestListed),
  }
  // Every check but the mailboxes' is decided on the facts; `mailbox-limit` means they all passed.
  const refusal = refusalFor(req, facts, now)
  if (refusal.reason !== 'mailbox-limit') return refusal
  const lastMailboxId = campaign.last_mailbox_id === null ? null : String(campaign.last_mailbox_id)
  const choice = choose(db, cid, req, keys, lastMailboxId, nowMs)
  if (choice === undefined) return refusal

  // Every check passed: claim the pacing slot, both day counts and the item together.
  const { item, candidate } = choice
  const unassigned = item.mailbox_id === null
  db.run(
    `UPDATE ${T.campaigns} SET next_slot_at = ?, last_mailbox_id = CASE WHEN ? THEN ? ELSE last_mailbox_id END
     WHERE id = ?`,
    req.nextSlotAt.getTime(),
    unassigned ? 1 : 0,
    Number(candidate.mailboxId),
    cid,
  )
  bump(db, T.campaignDays, 'campaign_id', cid, req.campaignDayKey)
  bump(db, T.mailboxDays, 'mailbox_id', Number(candidate.mailboxId), candidate.dayKey)
  db.run(
    `UPDATE ${T.items} SET status = 'sending', lease_token = ?, lease_until = ?, mailbox_id = ?, message_id = ?,
       res_campaign_day_key = ?, res_mailbox_day_key = ?, updated_at = ?
     WHERE id = ?`,
    req.leaseToken,
    req.leaseUntil.getTime(),
    Number(candidate.mailboxId),
    candidate.messageId,
    req.campaignDayKey,
    candidate.dayKey,
    nowMs,
    item.id as number,
  )
  // The item left the queue: the campaign's next-due bound is its new earliest, exactly.
  const next = earliestPending(db, cid)
  db.run(`UPDATE ${T.campaigns} SET next_due_at = ? WHERE id = ?`, next, cid)
  const taken = db.get<Row>(`SELECT * FROM ${T.items} WHERE id = ?`, item.id as number)!
  const lead = db.get<Row>(`SELECT * FROM ${T.leads} WHERE id = ?`, item.lead_id as number)!
  return {
    ok: true,
    send: {
      item: toItem(taken),
      lead: toLead(lead),
      campaignDayKey: req.campaignDayKey,
      mailboxDayKey: candidate.dayKey,
      nextPendingAt: next === null ? null : new Date(next),
    },
  }
}

function earliestWithKeys(db: Db, cid: number, keys: string): number | null {
  const row = db.get<{ at: number | null }>(
    `SELECT min(scheduled_at) AS at FROM ${T.items}
     WHERE campaign_id = ? AND status = 'pending' AND window_key IN (SELECT value FROM json_each(?))`,
    cid,
    keys,
  )
  return row?.at ?? null
}

export function dayCount(db: Db, table: string, column: string, id: number, dayKey: string): number {
  const row = db.get<{ sent: number }>(
    `SELECT sent FROM ${table} WHERE ${column} = ? AND day_key = ?`,
    id,
    dayKey,
  )
  return row?.sent ?? 0
}

/** Adds one to a day count (the write lock is held: the limit was checked just before). */
export function bump(db: Db, table: string, column: string, id: number, dayKey: string): void {
  db.run(
    `INSERT INTO ${table} (${column}, day_key, sent) VALUES (?, ?, 1)
     ON CONFLICT (${column}, day_key) DO UPDATE SET sent = sent + 1`,
    id,
    dayKey,
  )
}

/**
 * The oldest due item that can leave, and from where: the earliest due head among, for each listed
 * window key, the pending items of each candidate mailbox with room (sticky items) and the
 * unassigned ones (from the candidate with room whose turn it is). Items of full or non-candidate
 * mailboxes are never read: each head is one probe of the pending index.
 */
function choose(
  db: Db,
  cid: number,
  req: ReserveRequest,
  keys: string | undefined,
  lastMailboxId: string | null,
  nowMs: number,
): { item: Row; candidate: MailboxCandidate } | undefined {
  // A mailbox offered twice is its first offer.
  const offered = new Map<string, { c: MailboxCandidate; ord: number }>()
  req.mailboxes.forEach((c, ord) => {
    if (!offered.has(c.mailboxId)) offered.set(c.mailboxId, { c, ord })
  })
  const withRoom = [...offered.values()].filter(
    ({ c }) =>
      rowId(c.mailboxId) !== undefined &&
      dayCount(db, T.mailboxDays, 'mailbox_id', Number(c.mailboxId), c.dayKey) < c.dailyEmailLimit,
  )
  if (withRoom.length === 0) return undefined
  const turn = rotationTurn(req, lastMailboxId)
  const first = withRoom.reduce((a, b) => (turn(b.c, b.ord) < turn(a.c, a.ord) ? b : a)).c

  const keyList: Array<string | undefined> = keys === undefined ? [undefined] : (JSON.parse(keys) as string[])
  let best: { item: Row; candidate: MailboxCandidate } | undefined
  const consider = (item: Row | undefined, candidate: MailboxCandidate) => {
    if (item === undefined || (item.scheduled_at as number) > nowMs) return
    if (best === undefined || isBefore(item, best.item)) best = { item, candidate }
  }
  for (const key of keyList) {
    consider(head(db, cid, key, null), first)
    for (const { c } of withRoom) consider(head(db, cid, key, Number(c.mailboxId)), c)
  }
  return best
}

function isBefore(a: Row, b: Row): boolean {
  const at = a.scheduled_at as number
  const bt = b.scheduled_at as number
  return at < bt || (at === bt && (a.id as number) < (b.id as number))
}

/** The earliest pending item of the campaign with this key (any, when undefined) and mailbox. */
function head(db: Db, cid: number, key: string | undefined, mailboxId: number | null): Row | undefined {
  const mailbox = mailboxId === null ? 'mailbox_id IS NULL' : 'mailbox_id = ?'
  const args = mailboxId === null ? [] : [mailboxId]
  if (key === undefined) {
    return db.get<Row>(
      `SELECT id, lead_id, scheduled_at, mailbox_id FROM ${T.items} INDEXED BY mailcadence_items_pending_by_mailbox
       WHERE campaign_id = ? AND status = 'pending' AND ${mailbox} ORDER BY scheduled_at, id LIMIT 1`,
      cid,
      ...args,
    )
  }
  return db.get<Row>(
    `SELECT id, lead_id, scheduled_at, mailbox_id FROM ${T.items} INDEXED BY mailcadence_items_pending_by_key
     WHERE campaign_id = ? AND status = 'pending' AND window_key = ? AND ${mailbox}
     ORDER BY scheduled_at, id LIMIT 1`,
    cid,
    key,
    ...args,
  )
}
