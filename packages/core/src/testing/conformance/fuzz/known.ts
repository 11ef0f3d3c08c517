/**
 * Open bugs of issue #12 the fuzz model finds on the current code, each with the mutations it
 * leaves out until the fix lands (the validation layer, templates, imports, pauses are being
 * fixed on other branches). Every run applies this list unless `includeKnownBugs` is set.
 * TODO(#12): remove each entry when its fix is merged; the list should end empty.
 */
import type { ApiMethod } from './actions.js'
import { type FuzzFamily, hostileValue, type Mutation } from './values.js'

interface KnownBug {
  bug: string
  /** A whole family still fails (its property is skipped). */
  family?: FuzzFamily
  /** The mutations that still fail. */
  matches?: (mutation: Mutation, method: ApiMethod, path: string) => boolean
}

const IMPORT = new Set<ApiMethod>(['analyzeImport', 'importCampaign'])
/** Methods whose first argument is not an id. */
const NOT_IDS = new Set<ApiMethod>([
  'createMailbox',
  'createCampaign',
  'suppress',
  'analyzeImport',
  'importCampaign',
  'recordExternalSends',
])

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    // TODO(#12, validation ranges): delayDays 1e9 / delayBetweenEmails 1e13 give invalid dates
    // (nextSlotAt, follow-up due); limits and delays >= 2^31 overflow Postgres integer columns.
    bug: 'numbers accepted outside what stores and dates can hold',
    matches: (m, _method, path) =>
      typeof hostileValue(m) === 'number' &&
      /(dailyEmailLimit|delayBetweenEmails|maxEmailsPerDay|delayDays)$/.test(path),
  },
  {
    // TODO(#12, normal form): NUL and lone UTF-16 surrogates pass validation; Postgres refuses
    // them (store-conflict, SQLSTATE 22P02 / 22021).
    bug: 'NUL and lone surrogates accepted by core, refused by Postgres',
    matches: (m) => {
      if (m.family !== 'strings') return false
      const value = hostileValue(m) as string
      return value.includes('\0') || /[\uD800-\uDFFF]/.test(value)
    },
  },
  {
    // TODO(#12, pauseMailbox until): a string or number `until` throws TypeError (memory) or
    // store-conflict (Postgres); an invalid Date silently does not pause; `reason` is stored
    // whatever its type (an invalid Date reaches the store).
    // store-conflict (Postgres); an invalid Date silently does not pause.
    bug: 'pauseMailbox({ until }) not validated',
    matches: (_m, method, path) => method === 'pauseMailbox' && path.startsWith('1'),
  },
  {
    // TODO(#12, import inputs): `progress: null`, a `thread` that is not an array, a non-string
    // send-log mailbox or subject, an unknown lead status, `sentToday` values: TypeError, store
    // refusals or a loop that never ends.
    bug: 'import inputs not validated',
    matches: (_m, method, path) => IMPORT.has(method) && /^0\.(leads|sendLog|sentToday)/.test(path),
  },
  {
    // TODO(#12, messages): a null-prototype object or a Symbol as a value crashes while the
    // error message quoting it is built (TypeError: Cannot convert … to primitive value).
    bug: 'Object.create(null) and Symbols crash error messages',
    matches: (m) => {
      if (m.family !== 'types') return false
      const value = hostileValue(m)
      return (
        typeof value === 'symbol' ||
        (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === null)
      )
    },
  },
  {
    // TODO(#12, dates computed from input): a valid but extreme Date (8.64e15, the last one JS
    // has) as recordExternalSends' sentAt throws RangeError while its pacing slot is computed.
    bug: 'extreme dates overflow the dates computed from them',
    matches: (m, method, path) =>
      m.family === 'dates' && method === 'recordExternalSends' && path === '0.0.sentAt',
  },
  {
    // TODO(#12, a type for every input): ids are not checked as strings, so an invalid Date given
    // as a mailbox or campaign id reaches the store (node-postgres then sends an invalid date).
    bug: 'ids not type-checked before the store',
    matches: (m, method, path) =>
      hostileValue(m) instanceof Date &&
      ((path === '0' && !NOT_IDS.has(method)) || /\.(mailboxId|campaignId)$/.test(path)),
  },
  {
    // TODO: found by this suite, not in the issue text: `exportProgress(id, null)` throws
    // TypeError (reading 'timeoutMs' of null) instead of invalid-input.
    bug: 'exportProgress options not validated',
    matches: (_m, method, path) => method === 'exportProgress' && path === '1',
  },
  {
    // TODO(#12, templates): variables named like Object.prototype members (`constructor`,
    // `__proto__`, `toString`…): addLeads throws TypeError (value.trim), or sends fail.
    bug: 'template variables named like Object.prototype members',
    family: 'names',
  },
]

/** True when a mutation is one a known bug still fails on. */
export function isKnownBugMutation(mutation: Mutation, method: ApiMethod): boolean {
  const path = mutation.path.join('.')
  return KNOWN_BUGS.some((k) => k.matches?.(mutation, method, path) === true)
}

/** The known bug a whole family still fails on, if any. */
export function knownBugOfFamily(family: FuzzFamily): string | undefined {
  return KNOWN_BUGS.find((k) => k.family === family)?.bug
}
