/** Both mounts answer: the node:http server over a real socket, the Hono app through its fetch. */
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createHonoApp } from '../src/hono.js'
import { startNodeServer } from '../src/node-http.js'

const auth = { authorization: `Basic ${Buffer.from('admin:change-me').toString('base64')}` }

describe('the dashboard example', () => {
  it('node:http: asks for credentials, then shows the campaigns', async () => {
    const { server, close } = await startNodeServer(0)
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/mail/`
      const anonymous = await fetch(base)
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('www-authenticate')).toContain('Basic')
      const page = await fetch(base, { headers: auth })
      expect(page.status).toBe(200)
      expect(page.headers.get('set-cookie')).toContain('mc_csrf=')
      expect(await page.text()).toContain('Q1 outreach')
    } finally {
      await close()
    }
  })

  it('Hono: the same pages through app.fetch', async () => {
    const { app, scheduler } = await createHonoApp()
    expect((await app.request('/admin/mail/mailboxes')).status).toBe(401)
    const page = await app.request('/admin/mail/mailboxes', { headers: auth })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('anna@acme.test')
    await scheduler.close()
  })
})
