/** Output: aligned tables for people, JSON for scripts. */

/** `2026-01-05 09:00:00 UTC`. */
export function instant(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '-'
}

/** Columns padded to their widest cell; control characters of data never reach the terminal. */
export function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [head, ...rows].map((row) => row.map((cell) => printable(String(cell))))
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)))
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** Replaces control characters (escape sequences, newlines) in data with a visible `?`. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2)
}
