/**
 * Both mounts over a real socket: the link from the email's List-Unsubscribe header shows a page on
 * GET (nothing changes), and a one-click POST, as Gmail or Yahoo send it, suppresses the lead.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { describe, expect, it } from 'vitest'
import type { Demo } from '../src/demo.js'
import { localLink } from '../src/demo.js'
import { startExpressServer } from '../src/express.js'
import { createHonoApp } from '../src/hono.js'

async function exercise(demo: Demo, origin: string) {
  const link = localLink(demo.link, origin)
  expect(demo.transport.sent[0]?.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
  expect(demo.transport.sent[0]?.text).toContain(demo.link)

  const page = await fetch(link)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('<form method="post">')
  expect((await demo.scheduler.queueStats(demo.campaignId)).pending).toBe(1)

  const tampered = await fetch(`${link.slice(0, -2)}xx`, {
    method: 'POST',
    body: 'List-Unsubscribe=One-Click',
  })
  expect(tampered.status).toBe(400)
  expect((await demo.scheduler.queueStats(demo.campaignId)).pending).toBe(1)

  for (let i = 0; i < 2; i++) {
    const done = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    })
    expect(done.status).toBe(200)
    expect(done.headers.get('set-cookie')).toBeNull()
    expect(await done.text()).toContain('will not receive any more emails')
  }
  // The follow-up is cancelled; the address is refused in any campaign from now on.
  expect((await demo.scheduler.queueStats(demo.campaignId)).pending).toBe(0)
  expect((await fetch(link, { method: 'DELETE' })).status).toBe(405)
}

describe('the unsubscribe example', () => {
  it('Express', async () => {
    const { server, demo, close } = await startExpressServer(0)
    try {
      await exercise(demo, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    } finally {
      await close()
    }
  })

  it('Hono', async () => {
    const { app, demo } = await createHonoApp()
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    try {
      await exercise(demo, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    } finally {
      await demo.scheduler.close()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
