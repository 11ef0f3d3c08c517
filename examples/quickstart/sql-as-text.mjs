// Running the demo on the packages' TypeScript sources (`pnpm demo`), the SQLite store's migrations
// are `.sql` files imported as text, as its published build has them inlined. This Node.js module
// hook does the same at load time; it is not needed with the published packages (`pnpm start`).
import { register } from 'node:module'

register(
  `data:text/javascript,${encodeURIComponent(`
    import { readFile } from 'node:fs/promises'
    export async function load(url, context, next) {
      if (!url.endsWith('.sql')) return next(url, context)
      const text = await readFile(new URL(url), 'utf8')
      return { format: 'module', source: 'export default ' + JSON.stringify(text), shortCircuit: true }
    }
  `)}`,
)
