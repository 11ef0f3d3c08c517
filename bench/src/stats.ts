/** A figure: the median of several runs, with the spread. */
export interface Figure {
  median: number
  min: number
  max: number
  runs: number
}

export function summarize(values: readonly number[]): Figure {
  if (values.length === 0) throw new Error('summarize: no values')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs: sorted.length }
}

/** Runs `once` `runs` times (after one unmeasured warm-up when asked) and summarizes the results. */
export async function measure(
  runs: number,
  once: () => Promise<number>,
  options: { warmup?: boolean } = {},
): Promise<Figure> {
  if (options.warmup) await once()
  const values: number[] = []
  for (let i = 0; i < runs; i++) values.push(await once())
  return summarize(values)
}

export function format(figure: Figure, unit: string, digits = 0): string {
  const f = (n: number) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  return `${f(figure.median)} ${unit} (min ${f(figure.min)}, max ${f(figure.max)}, ${figure.runs} runs)`
}
