/**
 * The part of a reply its author wrote: the quoted message and the signature removed. Each rule
 * follows a format mail clients actually produce (plain text, or mailparser's text of an HTML part,
 * where a `<blockquote>` becomes `> ` lines).
 */

/** Labels of a header block a client pastes above the quoted message (Outlook and its translations). */
const FROM_LABEL = /^\s*\*?(?:from|von|de|od|van|da)\s*\*?\s*:/i
const OTHER_LABEL =
  /^\s*\*?(?:sent|date|to|subject|cc|gesendet|datum|an|betreff|envoye|envoyé|date|a|à|objet|enviado|fecha|para|asunto|wysłano|wyslano|data|do|temat|dw)\s*\*?\s*:/i

/**
 * Separator lines: "-----Original Message-----" (Outlook), "---------- Forwarded message ---------"
 * (Gmail), Zoho's "============ Forwarded message ============", translated.
 */
const ORIGINAL_MESSAGE =
  /^\s*[-=]{2,}\s*(?:original message|ursprüngliche nachricht|ursprungliche nachricht|message d'origine|mensaje original|oryginalna wiadomość|wiadomość oryginalna|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|przekazana wiadomość)\s*[-=]{2,}/i

/** Zoho Mail's attribution: "---- On Mon, 05 Jan 2026 10:00:00 +0000 Alice <a@b> wrote ----". */
const ZOHO_ATTRIBUTION = /^\s*-{3,}\s*on\b.*\bwrote\s*-{3,}/i

/** Outlook's rule above the header block in plain text: a line of underscores. */
const OUTLOOK_RULE = /^\s*_{10,}\s*$/

/**
 * Attribution lines ending in "wrote:" (Gmail "On Mon, 5 Jan 2026 at 10:00, Alice <a@b> wrote:",
 * Apple Mail, Thunderbird "On 1/5/26 10:00, Alice wrote:") and their translations: German
 * "Am … schrieb …:", French "Le … a écrit :", Spanish "El … escribió:", Polish "W dniu … pisze:" /
 * "… napisał(a):".
 */
const ATTRIBUTION_VERB =
  /(?<!\p{L})(?:wrote|schrieb|a écrit|a ecrit|escribió|escribio|napisał\(a\)|napisała|napisał|napisal|pisze)(?!\p{L})/iu
const ATTRIBUTION_END = new RegExp(`${ATTRIBUTION_VERB.source}\\s*:\\s*$`, 'iu')
const ATTRIBUTION_START = /^\s*(?:on|am|le|el|w dniu|dnia)\s/i

/**
 * The line a phone client appends ("Sent from my iPhone", "Get Outlook for Android", "Von meinem
 * iPhone gesendet", "Envoyé de mon iPhone", "Enviado desde mi iPhone", "Wysłane z iPhone'a"): like a
 * signature, it ends the author's text.
 */
const MOBILE_SIGNATURE =
  /^\s*(?:sent from my|sent from outlook|get outlook for|gesendet von meinem|von meinem \S+ gesendet|envoyé de mon|envoye de mon|enviado desde mi|wysłane z)\b/i

/** RFC 3676 §4.3 signature separator `-- ` (many clients drop the trailing space). */
const SIGNATURE = /^-- ?$/

/** True for a line a reply client quotes with (`>` after optional white space, RFC 3676 §4.5). */
export function isQuotedLine(line: string): boolean {
  return line.trimStart().startsWith('>')
}

/** Index of the first line where the quoted original starts, or the line count when none does. */
function quoteStart(lines: readonly string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if ([ORIGINAL_MESSAGE, ZOHO_ATTRIBUTION, SIGNATURE, MOBILE_SIGNATURE].some((rule) => rule.test(line)))
      return i
    if (isAttribution(line)) return i
    if (ATTRIBUTION_END.test(line)) return i === 0 ? i : wrappedStart(lines, i)
    if (OUTLOOK_RULE.test(line) && FROM_LABEL.test(nextText(lines, i) ?? '')) return i
    if (FROM_LABEL.test(line) && lines.slice(i + 1, i + 5).some((next) => OTHER_LABEL.test(next))) return i
  }
  return lines.length
}

/** "On … wrote:", "Am … schrieb Alice <a@b>:" (German puts the name after the verb). */
function isAttribution(line: string): boolean {
  return ATTRIBUTION_START.test(line) && ATTRIBUTION_VERB.test(line) && /:\s*$/.test(line)
}

/** Gmail wraps a long attribution at 78 columns: "On Mon, … Alice <" / "alice@example.com> wrote:". */
function wrappedStart(lines: readonly string[], end: number): number {
  const previous = lines[end - 1]
  return previous !== undefined && ATTRIBUTION_START.test(previous) ? end - 1 : end
}

function nextText(lines: readonly string[], after: number): string | undefined {
  return lines.slice(after + 1).find((line) => line.trim() !== '')
}

/**
 * The author's own text: everything above the first quote marker (attribution, Outlook header
 * block, original-message separator, signature separator), with any remaining `>` line dropped
 * (inline replies interleave quotes), trimmed. Never contains a line that starts with `>`.
 */
export function ownText(text: string): string {
  const lines = text.split(/\r\n|\r|\n/)
  return lines
    .slice(0, quoteStart(lines))
    .filter((line) => !isQuotedLine(line))
    .join('\n')
    .trim()
}
