/**
 * The handler's small HTML pages and the headers every answer carries: no cookies, no redirects,
 * nothing cached, no referrer (the URL holds the lead's token), no script.
 */

export type PageKind =
  | 'confirm'
  | 'done'
  | 'invalid'
  | 'not-one-click'
  | 'method'
  | 'unavailable'
  | 'too-large'

const TITLES: Record<PageKind, string> = {
  confirm: 'Unsubscribe',
  done: 'You are unsubscribed',
  invalid: 'This unsubscribe link is not valid',
  'not-one-click': 'Nothing was changed',
  method: 'Method not allowed',
  unavailable: 'Please try again',
  'too-large': 'Request too large',
}

const STATUS: Record<PageKind, number> = {
  confirm: 200,
  done: 200,
  invalid: 400,
  'not-one-click': 400,
  method: 405,
  unavailable: 503,
  'too-large': 413,
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch)

/**
 * The address as the page shows it: its first character and domain (`j…@example.com`), enough for
 * the reader to recognise it, not enough to give it away to whoever else opens the link.
 */
export function maskedAddress(email: string): string {
  const at = email.lastIndexOf('@')
  return at <= 0 ? '…' : `${email.slice(0, 1)}…${email.slice(at)}`
}

function body(kind: PageKind, address: string | null): string {
  switch (kind) {
    case 'confirm':
      return `<p>Stop all emails to <strong>${escapeHtml(address ?? '')}</strong>?</p>
<form method="post"><button type="submit" name="List-Unsubscribe" value="One-Click">Unsubscribe</button></form>`
    case 'done':
      return `<p>${escapeHtml(address ?? 'This address')} will not receive any more emails from us.</p>`
    case 'invalid':
      return '<p>The link may be incomplete or out of date. Please copy the whole link from the email, or reply to the email and ask to be removed.</p>'
    case 'not-one-click':
      return '<p>The request did not ask to unsubscribe (it needs <code>List-Unsubscribe=One-Click</code>). Use the button on the unsubscribe page.</p>'
    case 'method':
      return '<p>Open the link in a browser, or send a POST request.</p>'
    case 'unavailable':
      return '<p>We could not record your request just now. Please try again in a few minutes.</p>'
    case 'too-large':
      return '<p>The request body is too large.</p>'
  }
}

/** A finished answer: status, headers and (except for HEAD) the page. */
export function page(kind: PageKind, options: { address?: string | null; head?: boolean } = {}): Response {
  const title = TITLES[kind]
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1.25rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body(kind, options.address ?? null)}
</body></html>
`
  const headers = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-robots-tag': 'noindex',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  })
  if (kind === 'method') headers.set('allow', 'GET, HEAD, POST')
  return new Response(options.head ? null : html, { status: STATUS[kind], headers })
}
