/**
 * Message-ID handling (RFC 5322 §3.6.4). IDs are compared exactly, so every ID leaves here in one
 * spelling: trimmed, one pair of angle brackets, case kept (the part left of `@` is case-sensitive).
 */

/** `<id>` for `id`, ` <id> `, `<id>`; null for an empty or bracket-only value. */
export function normaliseMessageId(value: string): string | null {
  const bare = value.trim().replace(/^<+/, '').replace(/>+$/, '').trim()
  if (bare === '' || /[\s<>]/.test(bare)) return null
  return `<${bare}>`
}

/**
 * Every Message-ID in a `References`/`In-Reply-To` value, in order. Bracketed IDs are taken as
 * written; some clients leave the brackets out, so a bracketless value is split on white space
 * and commas, keeping tokens with an `@`.
 */
export function messageIdsIn(value: string | null): string[] {
  if (value === null) return []
  const bracketed = value.match(/<[^<>\s]+>/g)
  const tokens = bracketed ?? value.split(/[\s,]+/).filter((token) => token.includes('@'))
  return tokens.map(normaliseMessageId).filter((id): id is string => id !== null)
}

/** `ids` without duplicates, first occurrence kept. */
export function uniqueIds(ids: readonly string[]): string[] {
  return [...new Set(ids)]
}
