import { addressIn, type Fields, first } from './fields.js'
import { messageIdsIn, uniqueIds } from './message-ids.js'

/**
 * Header rules: is a message machine-generated, and which sent messages does it refer to.
 */

/** Which header marks a message as automatic, or null when none does. */
export type AutoSignal =
  | 'auto-submitted'
  | 'x-autoreply'
  | 'x-autorespond'
  | 'precedence'
  | 'null-return-path'

/**
 * The first automatic-message marker present, in order of reliability:
 * - `Auto-Submitted` other than `no` (RFC 3834 §5: `auto-generated`, `auto-replied`, and
 *   `auto-notified` from RFC 5436; parameters and comments after `;` or `(` are ignored);
 * - `X-Autoreply` (Sieve/procmail vacation, Gmail, Zoho) and `X-Autorespond` (cPanel/Exim
 *   autoresponders), any value but `no`/`false`;
 * - `Precedence: auto_reply | bulk | junk` (the de-facto marker older responders set, RFC 3834 §3.1.8
 *   describes it; `list` is a mailing list, not an auto-reply);
 * - `Return-Path: <>`: the null reverse-path RFC 5321 §4.5.5 requires of notifications. The caller
 *   checks for a DSN first: a null sender without one is a vacation message (RFC 5230 §5), not a bounce.
 *
 * `X-Auto-Response-Suppress` is deliberately not a marker: Outlook sets it on ordinary mail as a
 * request to others' responders.
 */
export function autoSignal(headers: Fields): AutoSignal | null {
  const submitted = first(headers, 'auto-submitted')
  if (submitted !== null) {
    const keyword = submitted.split(/[;(]/)[0]!.trim().toLowerCase()
    if (keyword !== '' && keyword !== 'no') return 'auto-submitted'
  }
  if (isYes(first(headers, 'x-autoreply'))) return 'x-autoreply'
  if (isYes(first(headers, 'x-autorespond'))) return 'x-autorespond'
  const precedence = first(headers, 'precedence')?.trim().toLowerCase()
  if (precedence === 'auto_reply' || precedence === 'bulk' || precedence === 'junk') return 'precedence'
  if (hasNullReturnPath(headers)) return 'null-return-path'
  return null
}

function isYes(value: string | null): boolean {
  if (value === null) return false
  const word = value.trim().toLowerCase()
  return word !== 'no' && word !== 'false' && word !== '0'
}

/** `Return-Path: <>` (RFC 5321 §4.4: the delivering server records the reverse-path; empty for notices). */
export function hasNullReturnPath(headers: Fields): boolean {
  const returnPath = first(headers, 'return-path')
  return returnPath !== null && /^<\s*>$/.test(returnPath.trim())
}

/**
 * A sender that only mail systems use: the null return path, or `From` a mailer-daemon or postmaster
 * (RFC 5321 §4.5.1; Yahoo, Gmail and Exim sign bounces `MAILER-DAEMON@…`, Exchange `postmaster@…`).
 */
export function isMailSystemSender(headers: Fields): boolean {
  if (hasNullReturnPath(headers)) return true
  const from = addressIn(first(headers, 'from')) ?? ''
  return /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/.test(from)
}

/**
 * What the message's own headers link to: `In-Reply-To`, then every `References` entry newest
 * first (RFC 5322 §3.6.4 orders them oldest first; the newest is the message answered, and an
 * `In-Reply-To` some clients drop or mangle is backed up by it: mozilla/fx-private-relay#1988).
 */
export function linkedIdsOfHeaders(headers: Fields): string[] {
  const inReplyTo = (headers.get('in-reply-to') ?? []).flatMap((value) => messageIdsIn(value))
  const references = (headers.get('references') ?? []).flatMap((value) => messageIdsIn(value)).reverse()
  return uniqueIds([...inReplyTo, ...references])
}
