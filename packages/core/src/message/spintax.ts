/**
 * Spintax: `{Hi|Hello|Hey}` picks one alternative per lead, groups nest (`{Hi|Hello {there|friend}}`),
 * and `\{`, `\|`, `\}` write the characters themselves. Template variables (`{{firstName}}`,
 * `{{firstName|there}}`) are tokens of their own: a `{{` opens a variable when a `}}` follows with
 * no brace or backslash between them; otherwise each `{` opens a group, so `}}` may close two groups at once.
 * A brace pair with no `|` at its top level is not a choice: it prints as written, braces included
 * (so CSS in an html body and a lone `{code}` keep their braces). Braces must balance.
 *
 * The choice is a pure function of a seed (campaign, lead, step, field: see {@link spinSeed}), so a
 * retry, a preview and the send pick the same words, and it happens before variables are filled:
 * spinning yields template parts, so text from a lead's data is never spun.
 */

import { isMessageVariable, parseTemplate, type TemplatePart } from './template.js'

/** A piece of a parsed text: literal text, a variable token (its inner text), or a group. */
export type SpinNode = string | { variable: string } | SpinGroup

/**
 * A brace group: with two or more alternatives a choice, with one a literal pair of braces around
 * its content. `index` numbers the groups of a text in source order (each group's own seed).
 */
export interface SpinGroup {
  choices: SpinNode[][]
  index: number
}

/** A spintax error: what is wrong and at which character (0-based). */
export class SpintaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message)
  }
}

/** Characters `\` escapes; any other backslash is a literal backslash. */
const ESCAPABLE = new Set(['{', '|', '}'])

/** Parses a text into nodes, or throws a {@link SpintaxError} (unbalanced braces). */
export function parseSpintax(text: string): SpinNode[] {
  const root: SpinNode[][] = [[]]
  const stack: Array<{ group: SpinGroup; start: number }> = []
  let groups = 0
  let literal = ''
  let current = root[0] as SpinNode[]
  const flush = (): void => {
    if (literal) current.push(literal)
    literal = ''
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (ch === '\\' && ESCAPABLE.has(text[i + 1] ?? '')) {
      literal += text[++i]
    } else if (ch === '{' && text[i + 1] === '{' && variableEnd(text, i) !== -1) {
      const end = variableEnd(text, i)
      flush()
      current.push({ variable: text.slice(i + 2, end) })
      i = end + 1
    } else if (ch === '{') {
      flush()
      const group: SpinGroup = { choices: [[]], index: groups++ }
      current.push(group)
      stack.push({ group, start: i })
      current = group.choices[0] as SpinNode[]
    } else if (ch === '|' && stack.length > 0) {
      flush()
      const group = (stack.at(-1) as { group: SpinGroup }).group
      current = []
      group.choices.push(current)
    } else if (ch === '}') {
      if (stack.length === 0) throw new SpintaxError('has "}" without a matching "{"', i)
      flush()
      stack.pop()
      const parent = stack.at(-1)
      current = parent ? (parent.group.choices.at(-1) as SpinNode[]) : (root[0] as SpinNode[])
    } else {
      literal += ch
    }
  }
  const open = stack.at(-1)
  if (open) throw new SpintaxError('has "{" without a closing "}"', open.start)
  flush()
  return root[0] as SpinNode[]
}

/** Where the `}}` of a variable opened by `{{` at `at` starts, or -1 if it is not a variable. */
function variableEnd(text: string, at: number): number {
  const close = text.indexOf('}}', at + 2)
  if (close === -1) return -1
  const inner = text.slice(at + 2, close)
  // No brace and no backslash inside: `{{\}}` is an escaped brace in two groups, not a variable.
  return /[{}\\]/.test(inner) ? -1 : close
}

/** The text of nodes: `parseSpintax(printSpintax(nodes))` gives the nodes back (normalised). */
export function printSpintax(nodes: readonly SpinNode[]): string {
  let out = ''
  for (const node of nodes) {
    if (typeof node === 'string') out += node.replace(/[{|}]/g, (ch) => `\\${ch}`)
    else if ('variable' in node) out += `{{${node.variable}}}`
    else out += `{${node.choices.map(printSpintax).join('|')}}`
  }
  return out
}

/** Every variable token of every alternative, as template parts (for validation). */
export function spinVariables(nodes: readonly SpinNode[]): string[] {
  const out: string[] = []
  for (const node of nodes) {
    if (typeof node === 'string') continue
    if ('variable' in node) out.push(node.variable)
    else for (const choice of node.choices) out.push(...spinVariables(choice))
  }
  return out
}

/**
 * Variables a spintax template uses in any alternative, and which of them have no fallback
 * (conservatively required of every lead: any lead may draw the alternative that uses it).
 * Message variables are filled by the email, so never required.
 */
export function spintaxVariables(template: string): { used: Set<string>; required: Set<string> } {
  const used = new Set<string>()
  const required = new Set<string>()
  for (const inner of spinVariables(parsedSpintax(template))) {
    for (const part of parseTemplate(`{{${inner}}}`)) {
      if (typeof part === 'string') continue
      used.add(part.name)
      if (part.fallback === undefined && !isMessageVariable(part.name)) required.add(part.name)
    }
  }
  return { used, required }
}

/**
 * Every text the nodes can spin to, as template source (variables as `{{…}}`), up to `limit`
 * of them (for tests and previews of small texts: the count grows as a product).
 */
export function enumerateSpintax(nodes: readonly SpinNode[], limit = 10_000): string[] {
  let outs = ['']
  for (const node of nodes) {
    let pieces: string[]
    if (typeof node === 'string') pieces = [node]
    else if ('variable' in node) pieces = [`{{${node.variable}}}`]
    else if (node.choices.length === 1) {
      pieces = enumerateSpintax(node.choices[0] as SpinNode[], limit).map((s) => `{${s}}`)
    } else pieces = node.choices.flatMap((choice) => enumerateSpintax(choice, limit))
    const next: string[] = []
    for (const a of outs) for (const b of pieces) if (next.length < limit) next.push(a + b)
    outs = next
  }
  return outs
}

/** The seed of one field of one lead's step: campaign, lead key, step and field. */
export function spinSeed(campaignId: string, leadKey: string, step: number, field: string): string {
  return [campaignId, leadKey, String(step), field].join('\u0000')
}

/**
 * Spins nodes with a seed: each group's alternative is `hashUnit(seed, group index) × count`, so
 * each group is uniform over its own alternatives and independent of the others. Returns template
 * parts: literal text and the variables, still to be filled.
 */
export function spin(nodes: readonly SpinNode[], seed: string): TemplatePart[] {
  const parts: TemplatePart[] = []
  const push = (part: TemplatePart): void => {
    const last = parts.at(-1)
    if (typeof part === 'string' && typeof last === 'string') parts[parts.length - 1] = last + part
    else parts.push(part)
  }
  const walk = (list: readonly SpinNode[]): void => {
    for (const node of list) {
      if (typeof node === 'string') push(node)
      else if ('variable' in node) for (const part of parseTemplate(`{{${node.variable}}}`)) push(part)
      else if (node.choices.length === 1) {
        push('{')
        walk(node.choices[0] as SpinNode[])
        push('}')
      } else {
        const pick = Math.floor(hashUnit(`${seed}\u0000${node.index}`) * node.choices.length)
        walk(node.choices[pick] as SpinNode[])
      }
    }
  }
  walk(nodes)
  return parts
}

/**
 * A stable hash of a string to [0, 1) with 53 bits (cyrb53): the same in every process and
 * version of Node, unlike `Math.random`, so a choice made from it is made again on a retry.
 */
export function hashUnit(text: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  const bits = 4294967296 * (2097151 & h2) + (h1 >>> 0)
  return bits / 2 ** 53
}

/** Parsed texts by their source: a campaign spins the same few templates for every email. */
const parsedTexts = new Map<string, readonly SpinNode[]>()
const PARSED_LIMIT = 1024

/** `parseSpintax`, remembered (bounded like template.ts's cache). */
export function parsedSpintax(text: string): readonly SpinNode[] {
  let nodes = parsedTexts.get(text)
  if (nodes === undefined) {
    nodes = parseSpintax(text)
    if (parsedTexts.size >= PARSED_LIMIT) parsedTexts.clear()
    parsedTexts.set(text, nodes)
  }
  return nodes
}
