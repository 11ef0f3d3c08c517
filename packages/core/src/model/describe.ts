/**
 * What an error message may say about a value it refuses: a short, escaped excerpt. Whatever the
 * value (a 1 MB string, a Symbol, a BigInt, an object without a prototype, a revoked Proxy),
 * describing it never throws, never runs the value's own code (`toString`, getters) and never
 * echoes CR, LF, NUL or other control characters raw into a message or a log line.
 */

/** Most characters of a string's content quoted in a message. */
const EXCERPT_CHARS = 40

/** A short, printable description of any value, for error messages (at most about 60 characters). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return clip(`${value.toString()}n`)
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
    default:
      return describeObject(value as object | null)
  }
}

function describeObject(value: object | null): string {
  if (value === null) return 'null'
  try {
    if (Array.isArray(value)) return `an array of ${value.length}`
    if (value instanceof Date) {
      const time = value.getTime()
      return Number.isNaN(time) ? 'an invalid Date' : `the Date ${new Date(time).toISOString()}`
    }
    return Object.getPrototypeOf(value) === null ? 'an object without a prototype' : 'an object'
  } catch {
    // A revoked Proxy throws on every look.
    return 'an object'
  }
}

/** The string, quoted, its control characters and lone surrogates escaped, cut after a few words. */
export function quote(value: string): string {
  let shown = ''
  let taken = 0
  // Whole code points: a surrogate pair stays one character; a lone surrogate is escaped.
  for (const ch of value.length > 4 * EXCERPT_CHARS ? value.slice(0, 4 * EXCERPT_CHARS) : value) {
    const escaped = escapeChar(ch)
    if (shown.length + escaped.length > EXCERPT_CHARS) break
    shown += escaped
    taken += ch.length
  }
  return taken < value.length ? `"${shown}…" (${value.length} characters)` : `"${shown}"`
}

const ESCAPES: Record<string, string> = {
  '\r': '\\r',
  '\n': '\\n',
  '\t': '\\t',
  '\0': '\\0',
  '"': '\\"',
  '\\': '\\\\',
}

function escapeChar(ch: string): string {
  const known = ESCAPES[ch]
  if (known !== undefined) return known
  const code = ch.codePointAt(0) ?? 0
  const unprintable =
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0xd800 && code <= 0xdfff)
  return unprintable ? `\\u${code.toString(16).padStart(4, '0')}` : ch
}

function clip(text: string): string {
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}… (${text.length} characters)` : text
}
