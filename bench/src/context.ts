import { readFileSync } from 'node:fs'
import { cpus, totalmem, type } from 'node:os'

export interface BenchContext {
  /** CI's short form: small sizes, few runs; checks that every figure is produced. */
  quick: boolean
  /** Runs per figure: at least five in full mode. */
  runs: number
}

export interface Row {
  section: string
  name: string
  /** The figure as printed, median first. */
  value: string
  /** A ratio or a target, printed beside the value. */
  note?: string
}

export function machine(): string {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${type()}, Node ${process.version}`
}

/** Versions of the packages a figure depends on, as installed. */
export function versionOf(pkg: string): string {
  try {
    const path = new URL(`../node_modules/${pkg}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}
