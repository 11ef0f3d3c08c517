/** The dashboard in Node's own HTTP server, under /admin/mail. `pnpm start`, then open the printed URL. */
import { createServer, type Server } from 'node:http'
import { createDashboard, toNodeHandler } from '@mailcadence/dashboard'
import { basicAuth, createDemoScheduler } from './demo.js'

export async function startNodeServer(port: number): Promise<{ server: Server; close(): Promise<void> }> {
  const scheduler = await createDemoScheduler()
  const dashboard = createDashboard({ scheduler, basePath: '/admin/mail', authorize: basicAuth() })
  const handle = toNodeHandler(dashboard)
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/admin/mail')) return void handle(req, res)
    res.writeHead(302, { location: '/admin/mail/' }).end()
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  scheduler.start()
  return {
    server,
    close: async () => {
      await scheduler.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { server } = await startNodeServer(Number(process.env.PORT ?? 3000))
  const { port } = server.address() as { port: number }
  console.log(`Dashboard on http://127.0.0.1:${port}/admin/mail/ (user admin, password change-me)`)
}
