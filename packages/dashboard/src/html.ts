/**
 * HTML building with escaping by default: `html` is a tagged template whose interpolated values
 * are escaped unless they are already `Html` (built by `html` itself). Every value a page shows
 * goes through it, so a lead named `<script>` stays text.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
}

/** Markup that is already safe: made by `html`, never from a string of data. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!)
}

type Part = Html | string | number | null | undefined | false | readonly Part[]

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return ''
  if (part instanceof Html) return part.value
  if (Array.isArray(part)) return part.map(render).join('')
  return escapeHtml(String(part))
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!
  })
  return new Html(out)
}

/** `2026-01-05 09:00 UTC`: one format for every instant shown. */
export function formatInstant(date: Date | null | undefined): string {
  if (!date) return '—'
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

const CSS = `
:root{color-scheme:light;--fg:#1d2430;--muted:#5d6b7e;--line:#e3e7ee;--bg:#f6f7f9;--card:#fff;--accent:#2f6fde;--ok:#1f8a4c;--warn:#b7791f;--bad:#c53030}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#17202f;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#cfd8e6;text-decoration:none}header a:hover{color:#fff}
header strong{font-size:15px;letter-spacing:.02em}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:20px;margin:4px 0 16px}h2{font-size:15px;margin:0 0 10px}
a{color:var(--accent)}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eef1f5;color:var(--muted)}
.s-IN_PROGRESS{background:#e3f5ea;color:var(--ok)}.s-PAUSED{background:#fdf3e1;color:var(--warn)}
.s-CANCELLED{background:#fde8e8;color:var(--bad)}.s-COMPLETED{background:#e8f0fd;color:var(--accent)}
ul.reasons{margin:0;padding-left:18px}ul.reasons code{color:var(--muted)}
.ok{color:var(--ok)}.muted{color:var(--muted)}.error{color:var(--bad);word-break:break-word}
.stats{display:flex;gap:12px;flex-wrap:wrap}
.stat{flex:1;min-width:90px;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.stat b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.bar{height:10px;background:#eef1f5;border-radius:5px;overflow:hidden;min-width:120px}
.bar span{display:block;height:100%;background:var(--accent)}.bar.full span{background:var(--bad)}
form.inline{display:inline}
button{font:inherit;padding:4px 12px;border-radius:6px;border:1px solid var(--line);background:#fff;cursor:pointer}
button:hover{border-color:var(--accent)}button.danger{color:var(--bad)}
.actions{display:flex;gap:8px;margin:-4px 0 16px}
nav.pages{display:flex;gap:12px;margin-top:12px}
.filters a{margin-right:10px}.filters a.on{font-weight:600;color:var(--fg);text-decoration:none}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}svg rect.day{fill:var(--accent)}
.notice{padding:10px 14px;border-radius:6px;background:#fdf3e1;margin-bottom:16px}
`

export function layout(input: { title: string; base: string; body: Html; status?: number }): Response {
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${input.title} · mailcadence</title><style>${new Html(CSS)}</style></head>
<body><header><strong>mailcadence</strong><a href="${input.base}/">Campaigns</a><a href="${input.base}/mailboxes">Mailboxes</a></header>
<main>${input.body}</main></body></html>`
  return new Response(page.value, { status: input.status ?? 200, headers: pageHeaders() })
}

/** No script may run on these pages at all: the CSP is a second wall behind the escaping. */
export function pageHeaders(extra: Record<string, string> = {}): Headers {
  const headers = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  })
  for (const [k, v] of Object.entries(extra)) headers.set(k, v)
  return headers
}
