/**
 * Mounting in Node's own HTTP server (and Express, Connect or Fastify's raw handlers, which pass
 * the same `req`/`res`): converts the request to a Fetch `Request` and writes the `Response` back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

const MAX_BODY_BYTES = 64 * 1024

export function toNodeHandler(
  handler: (request: Request) => Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const response = await handler(await toRequest(req))
      res.statusCode = response.status
      for (const [name, value] of response.headers) {
        if (name !== 'set-cookie') res.setHeader(name, value)
      }
      const cookies = response.headers.getSetCookie()
      if (cookies.length) res.setHeader('set-cookie', cookies)
      if (response.body && req.method !== 'HEAD') Readable.fromWeb(response.body as never).pipe(res)
      else res.end()
    } catch {
      if (!res.headersSent) res.statusCode = 500
      res.end()
    }
  }
}

async function toRequest(req: IncomingMessage): Promise<Request> {
  const host = req.headers.host ?? 'localhost'
  const secure = 'encrypted' in req.socket && req.socket.encrypted === true
  // Express keeps the full path in `originalUrl` when it strips a mount path from `url`.
  const path = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/'
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  const init: RequestInit = { method: req.method ?? 'GET', headers }
  if (init.method !== 'GET' && init.method !== 'HEAD') init.body = await readBody(req)
  return new Request(`${secure ? 'https' : 'http'}://${host}${path}`, init)
}

async function readBody(req: IncomingMessage): Promise<ArrayBuffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) break
    chunks.push(chunk as Buffer)
  }
  const body = Buffer.concat(chunks)
  // A copy of exactly the body's bytes (a Buffer may sit in a larger, shared pool).
  return new Uint8Array(body).buffer
}
