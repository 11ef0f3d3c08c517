/**
 * Ids are `bigint` identities in the database and decimal strings at the API. A string that is not
 * one (`'nope'`) names nothing: the store answers "not found" without asking the server, instead of
 * letting a cast fail.
 */
const DECIMAL = /^[1-9][0-9]{0,18}$/
const MAX_BIGINT = 9223372036854775807n

/** Whether `id` can be a row id (a positive bigint in canonical decimal form). */
export function isId(id: unknown): id is string {
  return typeof id === 'string' && DECIMAL.test(id) && BigInt(id) <= MAX_BIGINT
}

/** The ids among `ids` that can be row ids, without repeats. */
export function validIds(ids: readonly unknown[]): string[] {
  return [...new Set(ids.filter(isId))]
}
