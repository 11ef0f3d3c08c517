/** Exit codes, usage errors, and messages scrubbed of connection secrets. */

/** What `mailcadence` exits with. */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** It could not: the database was unreachable, a campaign was not found or in the wrong state. */
  error: 1,
  /** The command line was wrong (unknown command or option, missing argument, bad value). */
  usage: 2,
} as const

/** A mistake on the command line: exit code 2, with the usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * Removes the connection string and its password from a message: a driver's error may quote
 * what it was given, and nothing the CLI prints may carry credentials.
 */
export function redact(message: string, databaseUrl: string | undefined): string {
  let out = message
  if (databaseUrl) {
    const secrets = [databaseUrl, ...passwordsOf(databaseUrl)].filter((s) => s.length > 0)
    for (const secret of secrets.sort((a, b) => b.length - a.length)) out = out.split(secret).join('***')
  }
  // Any other URL with credentials in it.
  return out.replace(/(\/\/[^/:@\s]*):[^@/\s]*@/g, '$1:***@')
}

function passwordsOf(databaseUrl: string): string[] {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]*)@/i.exec(databaseUrl)
  if (!match?.[1]) return []
  const raw = match[1]
  try {
    return [raw, decodeURIComponent(raw)]
  } catch {
    return [raw]
  }
}
