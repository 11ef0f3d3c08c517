/**
 * RFC 5322 header-field syntax, shared by message headers, the DSN fields of RFC 3464 §2.1 and the
 * ARF fields of RFC 5965 §3.1 (all three are "name: value" lines, folded with leading white space).
 */

/** Field name (lower case) → its unfolded values, in order of appearance. */
export type Fields = ReadonlyMap<string, readonly string[]>

/** Unfolds RFC 5322 §2.2.3 folding (CRLF followed by white space) into single spaces. */
export function unfold(value: string): string {
  return value.replace(/\r?\n[ \t]+/g, ' ').trim()
}

/** Parses one block of fields; lines that are not fields (no colon, no fold) are ignored. */
export function parseFields(block: string): Fields {
  const fields = new Map<string, string[]>()
  let name: string | null = null
  let value = ''
  const flush = (): void => {
    if (name === null) return
    const list = fields.get(name) ?? []
    list.push(value.trim())
    fields.set(name, list)
    name = null
  }
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (/^[ \t]/.test(line) && name !== null) {
      value += ` ${line.trim()}`
      continue
    }
    flush()
    const match = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line)
    if (match) {
      name = match[1]!.toLowerCase()
      value = match[2]!
    }
  }
  flush()
  return fields
}

/** Splits a text into the blocks that blank lines separate (RFC 3464 §2.1: per-message, per-recipient). */
export function splitBlocks(text: string): string[] {
  const blocks: string[][] = [[]]
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') blocks.push([])
    else blocks[blocks.length - 1]!.push(line)
  }
  return blocks.filter((lines) => lines.length > 0).map((lines) => lines.join('\n'))
}

/** The first value of a field, or null. */
export function first(fields: Fields, name: string): string | null {
  return fields.get(name)?.[0] ?? null
}

/** The header block at the start of a message text: its lines up to the first blank one (leading blanks skipped). */
export function headerBlockOf(message: string): string {
  const lines = message.split(/\r\n|\r|\n/)
  const start = lines.findIndex((line) => line.trim() !== '')
  if (start === -1) return ''
  const end = lines.findIndex((line, index) => index > start && line.trim() === '')
  return lines.slice(start, end === -1 ? undefined : end).join('\n')
}

/** The bare address in `Name <a@b>`, `<a@b>`, `rfc822; a@b` or `a@b`, lower case; null when none. */
export function addressIn(value: string | null): string | null {
  if (value === null) return null
  const bare = value.replace(/^\s*[A-Za-z0-9-]+\s*;/, '')
  const angled = /<([^<>\s]+@[^<>\s]+)>/.exec(bare)
  const plain = angled ? angled[1]! : /[^\s<>"';,()]+@[^\s<>"';,()]+/.exec(bare)?.[0]
  return plain ? plain.replace(/\.$/, '').toLowerCase() : null
}
