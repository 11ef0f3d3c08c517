/**
 * The hostile values the fuzz model mixes into valid inputs, grouped in families so that a family
 * can be run on its own.
 */
import type * as FastCheck from 'fast-check'

/** fast-check's namespace, loaded on demand (it is an optional peer dependency of core). */
export type Fc = typeof FastCheck

/**
 * Families of hostile input:
 * - `numbers`: NaN, ±Infinity, 1e9, 1e13, −1, 2³¹, 2⁵³, fractions where integers go;
 * - `strings`: empty, huge, NUL/CR/LF, header injection, lone UTF-16 surrogates;
 * - `types`: wrong types, null, `Object.create(null)`, Symbols, BigInts, functions, arrays;
 * - `names`: template variables named like `Object.prototype` members (`constructor`, `__proto__`…);
 * - `dates`: invalid `Date`s, dates as strings or numbers, the far past and future.
 */
export type FuzzFamily = 'numbers' | 'strings' | 'types' | 'names' | 'dates'

export const FUZZ_FAMILIES: readonly FuzzFamily[] = ['numbers', 'strings', 'types', 'names', 'dates']

/** Variable names that are `Object.prototype` members: a template must treat them as data. */
export const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']

const HUGE = 'x'.repeat(200_000)

/** Built on demand: a Symbol or a null-prototype object must not be shared across runs' mutations. */
function hostileValues(family: FuzzFamily): Array<() => unknown> {
  switch (family) {
    case 'numbers':
      return [NaN, Infinity, -Infinity, 1e9, 1e13, -1, 2 ** 31, 2 ** 53, 0.5, -0, Number.MAX_VALUE].map(
        (n) => () => n,
      )
    case 'strings':
      return [
        '',
        '   ',
        HUGE,
        'a\0b',
        'Hello\r\nBcc: victim@example.com',
        'line\nbreak',
        '\uD800',
        'lone \uDFFF low',
        '{{',
        '{{ unknownVariable }}',
        '𝒳 emoji 🚀 RTL \u202E',
      ].map((s) => () => s)
    case 'types':
      return [
        () => null,
        () => undefined,
        () => true,
        () => 42,
        () => 'a string',
        () => [],
        () => ({}),
        () => Object.create(null),
        () => Object.assign(Object.create(null), { email: 'proto@example.com' }),
        () => Symbol('fuzz'),
        () => BigInt(1),
        () => () => 'function',
        () => [1, 2, 3],
      ]
    case 'names':
      return PROTOTYPE_NAMES.map((name) => () => name)
    case 'dates':
      return [
        () => new Date(NaN),
        () => new Date(8.64e15),
        () => new Date(-8.64e15),
        () => new Date('0001-01-01T00:00:00Z'),
        () => new Date('9999-12-31T23:59:59Z'),
        () => '2026-01-05T10:00:00Z',
        () => 1767607200000,
        () => ({ getTime: () => 0 }),
      ]
  }
}

/** One mutation: `value()` replaces the value at `path` of a valid input (`[]`: the whole input). */
export interface Mutation {
  family: FuzzFamily
  path: ReadonlyArray<string | number>
  /** Index into the family's hostile values. */
  pick: number
}

export function hostileValue(mutation: Mutation): unknown {
  const values = hostileValues(mutation.family)
  return values[mutation.pick % values.length]!()
}

/** A mutation of one of `paths` with a value from one of `families` (two times in three), or none. */
export function mutationArb(
  fc: Fc,
  families: readonly FuzzFamily[],
  paths: ReadonlyArray<ReadonlyArray<string | number>>,
): FastCheck.Arbitrary<Mutation | null> {
  if (families.length === 0) return fc.constant(null)
  const mutation = fc.record({
    family: fc.constantFrom(...families),
    path: fc.constantFrom(...paths),
    pick: fc.nat(40),
  })
  return fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: mutation })
}

/** Copies a generated (plain) value so that a mutation never touches fast-check's own copy. */
function copy<T>(value: T): T {
  if (value instanceof Date) return new Date(value.getTime()) as T
  if (Array.isArray(value)) return value.map(copy) as T
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) out[key] = copy(v)
    return out as T
  }
  return value
}

/** The valid input with the mutation applied (a fresh copy either way). */
export function applyMutation<T>(valid: T, mutation: Mutation | null): T {
  const result = copy(valid)
  if (!mutation) return result
  if (mutation.path.length === 0) return hostileValue(mutation) as T
  let target = result as Record<string | number, unknown>
  for (const key of mutation.path.slice(0, -1)) {
    const next = target[key]
    if (typeof next !== 'object' || next === null) {
      // The path goes through a value that is not there (a step the input lacks): create it.
      target[key] = typeof key === 'number' ? [] : {}
    }
    target = target[key] as Record<string | number, unknown>
  }
  const last = mutation.path[mutation.path.length - 1]!
  if (last === '__proto__')
    Object.defineProperty(target, last, { value: hostileValue(mutation), enumerable: true })
  else target[last] = hostileValue(mutation)
  return result
}

/** Describes a mutation for a counterexample, without printing a 200 kB string or throwing on a Symbol. */
export function describeMutation(mutation: Mutation | null): string {
  if (!mutation) return 'valid'
  const value = hostileValue(mutation)
  return `${mutation.path.join('.') || '(whole input)'} := ${describeValue(value)}`
}

export function describeValue(value: unknown): string {
  if (typeof value === 'symbol') return 'Symbol()'
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'function') return 'function'
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === null)
    return 'Object.create(null)'
  if (typeof value === 'string' && value.length > 40)
    return `"${value.slice(0, 20)}…" (${value.length} chars)`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
