/**
 * Schema names and qualified table names. The schema is the one identifier that cannot travel as
 * a query parameter, so it is checked against a strict pattern and then quoted; everything else
 * in every statement is a parameter.
 */
import { MailcadenceError } from '@mailcadence/core'

export const DEFAULT_SCHEMA = 'mailcadence'

/** Letters, digits and underscores, not starting with a digit, at most 63 bytes (PostgreSQL's limit). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Checks a schema name and returns it double-quoted, ready to splice into SQL. */
export function quoteSchema(schema: unknown): string {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) {
    throw new MailcadenceError(
      'invalid-input',
      'schema: must be an identifier: letters, digits and underscores, not starting with a digit, at most 63 characters',
      { field: 'schema' },
    )
  }
  return `"${schema}"`
}

/** Qualified names of the store's tables in one schema. */
export interface Tables {
  schema: string
  mailboxes: string
  campaigns: string
  leads: string
  suppressions: string
  items: string
  sendLog: string
  mailboxDays: string
  externalSends: string
  inbound: string
  inboxCursors: string
  counters: string
}

export function tablesOf(schema: string): Tables {
  const s = quoteSchema(schema)
  return {
    schema: s,
    mailboxes: `${s}.mailboxes`,
    campaigns: `${s}.campaigns`,
    leads: `${s}.leads`,
    suppressions: `${s}.suppressions`,
    items: `${s}.queue_items`,
    sendLog: `${s}.send_log`,
    mailboxDays: `${s}.mailbox_day_counts`,
    externalSends: `${s}.external_sends`,
    inbound: `${s}.inbound_messages`,
    inboxCursors: `${s}.inbox_cursors`,
    counters: `${s}.counters`,
  }
}

/**
 * A 32-bit key derived from the schema name, for advisory locks: different schemas in one database
 * do not wait for each other. (FNV-1a; collisions only cost an occasional needless wait.)
 */
export function lockKey(schema: string, purpose: string): number {
  let hash = 0x811c9dc5
  for (const ch of `mailcadence:${purpose}:${schema}`) {
    hash ^= ch.codePointAt(0) ?? 0
    hash = Math.imul(hash, 0x01000193)
  }
  return hash | 0
}
