/** The same dashboard mounted in Hono: `pnpm start:hono`. Hono hands the Fetch `Request` over as is. */
import { serve } from '@hono/node-server'
import { createDashboard } from '@mailcadence/dashboard'
import { Hono } from 'hono'
import { basicAuth, createDemoScheduler } from './demo.js'

export async function createHonoApp() {
  const scheduler = await createDemoScheduler()
  const dashboard = createDashboard({ scheduler, basePath: '/admin/mail', authorize: basicAuth() })
  const app = new Hono()
  app.all('/admin/mail', (c) => dashboard(c.req.raw))
  app.all('/admin/mail/*', (c) => dashboard(c.req.raw))
  app.get('/', (c) => c.redirect('/admin/mail/'))
  return { app, scheduler }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { app, scheduler } = await createHonoApp()
  scheduler.start()
  const port = Number(process.env.PORT ?? 3000)
  serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
  console.log(`Dashboard (Hono) on http://127.0.0.1:${port}/admin/mail/ (user admin, password change-me)`)
}
