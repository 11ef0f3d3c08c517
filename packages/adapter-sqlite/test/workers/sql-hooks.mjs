// Node module hook for worker processes: loads the adapter's .sql migrations as text modules,
// as tsup's text loader does in the build and a Vite plugin does under vitest.
import { readFile } from 'node:fs/promises'

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.sql')) return nextLoad(url, context)
  const text = await readFile(new URL(url), 'utf8')
  return { format: 'module', source: `export default ${JSON.stringify(text)}`, shortCircuit: true }
}
