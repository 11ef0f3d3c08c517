/** The unsubscribe handler in Hono: `pnpm start:hono`. Hono hands the Fetch `Request` over as is. */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createDemo, localLink } from './demo.js'

export async function createHonoApp() {
  const demo = await createDemo()
  const app = new Hono()
  app.all('/unsubscribe', (c) => demo.unsubscribe.handle(c.req.raw))
  return { app, demo }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { app, demo } = await createHonoApp()
  const port = Number(process.env.PORT ?? 3000)
  serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
  console.log(`Unsubscribe (Hono) on http://127.0.0.1:${port}/unsubscribe`)
  console.log(`Jan's link: ${localLink(demo.link, `http://127.0.0.1:${port}`)}`)
}
