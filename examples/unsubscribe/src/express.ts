/**
 * The unsubscribe handler in Express: `pnpm start`, then open the printed link. Express speaks
 * Node's `req`/`res`, so the request is turned into a Fetch `Request` and the `Response` written
 * back. Mount it before any body parser: the handler reads the body itself (a parsed body is gone).
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import type { Unsubscribe } from '@mailcadence/inbox'
import express, { type Request as ExpressRequest, type Response as ExpressResponse } from 'express'
import { createDemo, type Demo, localLink } from './demo.js'

/** An Express route handler for `unsubscribe.handle`. */
export function expressHandler(unsubscribe: Unsubscribe) {
  return async (req: ExpressRequest, res: ExpressResponse): Promise<void> => {
    const response = await unsubscribe.handle(toFetchRequest(req))
    res.status(response.status)
    response.headers.forEach((value, name) => {
      res.setHeader(name, value)
    })
    res.end(Buffer.from(await response.arrayBuffer()))
  }
}

function toFetchRequest(req: ExpressRequest): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value)
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
  }
  const url = new URL(req.originalUrl, `http://${req.headers.host ?? 'localhost'}`)
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  return new Request(url, {
    method: req.method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit)
}

export async function startExpressServer(
  port: number,
): Promise<{ server: Server; demo: Demo; close(): Promise<void> }> {
  const demo = await createDemo()
  const app = express()
  // Both GET (the confirmation page) and POST (one-click and the page's button) reach the handler;
  // other methods get its 405.
  app.all('/unsubscribe', expressHandler(demo.unsubscribe))
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(port, '127.0.0.1', () => resolve(listening))
  })
  return {
    server,
    demo,
    close: async () => {
      await demo.scheduler.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { server, demo } = await startExpressServer(Number(process.env.PORT ?? 3000))
  const { port } = server.address() as AddressInfo
  console.log(`Unsubscribe (Express) on http://127.0.0.1:${port}/unsubscribe`)
  console.log(`Jan's link: ${localLink(demo.link, `http://127.0.0.1:${port}`)}`)
}
