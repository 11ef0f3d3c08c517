/**
 * Templates: `{{firstName}}`, with a fallback `{{firstName|there}}` used when the lead has no
 * value. Parsed once when a campaign is created, so a malformed template or an unknown
 * variable is refused then, never at send time.
 */

import { quote } from '../model/describe.js'

export const BUILT_IN_VARIABLES = ['email', 'firstName', 'lastName', 'company'] as const

/**
 * Variables each email fills itself rather than the lead: allowed in a step's text and html, not
 * in a subject, and never required of a lead. `{{unsubscribeUrl}}` is the URL the scheduler's
 * `unsubscribeUrl` hook answered for the email (its fallback, or '', when there is none).
 */
export const MESSAGE_VARIABLES = ['unsubscribeUrl'] as const

const messageVariables: ReadonlySet<string> = new Set(MESSAGE_VARIABLES)

/** True for a variable the email fills itself (see {@link MESSAGE_VARIABLES}). */
export function isMessageVariable(name: string): boolean {
  return messageVariables.has(name)
}

export type TemplatePart = string | { name: string; fallback: string | undefined }

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Splits a template into literal text and variable references. Throws a plain `Error` saying what is wrong. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = []
  let rest = template
  for (;;) {
    const open = rest.indexOf('{{')
    const strayClose = rest.indexOf('}}')
    if (open === -1) {
      if (strayClose !== -1) throw new Error('has "}}" without a matching "{{"')
      if (rest) parts.push(rest)
      return parts
    }
    if (strayClose !== -1 && strayClose < open) throw new Error('has "}}" without a matching "{{"')
    if (open > 0) parts.push(rest.slice(0, open))
    const close = rest.indexOf('}}', open + 2)
    if (close === -1) throw new Error('has "{{" without a closing "}}"')
    const inner = rest.slice(open + 2, close)
    if (inner.includes('{{')) throw new Error('has "{{" inside a variable')
    const bar = inner.indexOf('|')
    const name = (bar === -1 ? inner : inner.slice(0, bar)).trim()
    if (!NAME.test(name)) throw new Error(`has an invalid variable name ${quote(`{{${inner}}}`)}`)
    parts.push({ name, fallback: bar === -1 ? undefined : inner.slice(bar + 1).trim() })
    rest = rest.slice(close + 2)
  }
}

/**
 * Variables a template uses, and which of them have no fallback (so every lead must supply them;
 * message variables are filled by the email, so never required).
 */
export function templateVariables(template: string): { used: Set<string>; required: Set<string> } {
  const used = new Set<string>()
  const required = new Set<string>()
  for (const part of parseTemplate(template)) {
    if (typeof part === 'string') continue
    used.add(part.name)
    if (part.fallback === undefined && !isMessageVariable(part.name)) required.add(part.name)
  }
  return { used, required }
}

/**
 * Parsed templates by their text: a campaign has a few templates and renders them for every
 * email, so each is parsed once, not once per email. Bounded like the other caches of core, since
 * a long-running process may see many campaigns come and go.
 */
const parsedTemplates = new Map<string, readonly TemplatePart[]>()
const PARSED_TEMPLATE_LIMIT = 1024

function parsed(template: string): readonly TemplatePart[] {
  let parts = parsedTemplates.get(template)
  if (parts === undefined) {
    parts = parseTemplate(template)
    if (parsedTemplates.size >= PARSED_TEMPLATE_LIMIT) parsedTemplates.clear()
    parsedTemplates.set(template, parts)
  }
  return parts
}

export interface RenderOptions {
  /** Escape values for HTML (fallbacks too: they are text, not markup). */
  html?: boolean
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch)
}

/**
 * Fills a template. A variable that is missing or blank takes its fallback, or '' if it has
 * none (validation at `addLeads` already refused leads missing a required variable).
 */
export function renderTemplate(
  template: string,
  values: Readonly<Record<string, string | null | undefined>>,
  options: RenderOptions = {},
): string {
  return renderParts(parsed(template), values, options)
}

/** Fills parsed template parts (`renderTemplate`'s rule, for parts spintax has already chosen). */
export function renderParts(
  parts: readonly TemplatePart[],
  values: Readonly<Record<string, string | null | undefined>>,
  options: RenderOptions = {},
): string {
  let out = ''
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part
      continue
    }
    // Own values only: a variable named `constructor` is the lead's, not Object.prototype's.
    const value = Object.hasOwn(values, part.name) ? values[part.name] : undefined
    const text = value != null && value.trim() !== '' ? value : (part.fallback ?? '')
    out += options.html ? escapeHtml(text) : text
  }
  return out
}
