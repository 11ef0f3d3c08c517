/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by puppeteer-core. The
 * pages render, the chart shows the week's sends, a pause from the page pauses the campaign, and a
 * lead named `<script>` is shown as text with no dialog. Screenshots go to test/artifacts/.
 *
 * Without Chromium the suite is skipped with a message saying how to install it; under CI it
 * fails instead.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDashboard, toNodeHandler } from '../src/index.js'
import { SCRIPT_NAME, simulateWeek, WEEK, type Week } from './support/week.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const INSTALL = 'apt-get update && apt-get install -y chromium'
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url))
const found = existsSync(CHROMIUM)
const ci = ['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase()) === false

if (!found && ci) {
  describe('dashboard in Chromium', () => {
    it('needs Chromium', () => {
      throw new Error(`Chromium not found at ${CHROMIUM}; install it with: ${INSTALL}`)
    })
  })
} else if (!found) {
  console.warn(
    `dashboard browser tests skipped: no Chromium at ${CHROMIUM}. Install it with: ${INSTALL} (or set CHROMIUM_PATH)`,
  )
  describe.skip('dashboard in Chromium', () => {
    it('needs Chromium', () => {})
  })
} else {
  describe('dashboard in Chromium', () => {
    let week: Week
    let server: Server
    let browser: Browser
    let page: Page
    let base: string
    let profile: string
    const dialogs: string[] = []

    beforeAll(async () => {
      week = await simulateWeek()
      const dashboard = createDashboard({
        scheduler: week.scheduler,
        basePath: '/admin/mail',
        clock: week.clock,
        authorize: (request) => request.headers.get('authorization') === 'Bearer test-operator',
      })
      server = createServer(toNodeHandler(dashboard))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/mail`
      profile = mkdtempSync(join(tmpdir(), 'mc-chromium-'))
      mkdirSync(ARTIFACTS, { recursive: true })
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: profile,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      })
      page = await browser.newPage()
      await page.setViewport({ width: 1200, height: 900 })
      await page.setExtraHTTPHeaders({ authorization: 'Bearer test-operator' })
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message())
        void dialog.dismiss()
      })
    })

    afterAll(async () => {
      await browser?.close()
      await new Promise((resolve) => server?.close(resolve))
      if (profile) rmSync(profile, { recursive: true, force: true })
    })

    const shot = (name: string, fullPage = true) =>
      page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage })

    it('renders the campaigns page with status, today’s sends and the reasons', async () => {
      const response = await page.goto(`${base}/`)
      expect(response?.status()).toBe(200)
      const rows = await page.$$eval('tr[data-campaign-id]', (trs) =>
        trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent?.trim() ?? '')),
      )
      expect(rows.map((r) => r[0])).toEqual(['Q1 outreach', '<b>Partners</b> & "friends"'])
      expect(rows[0]![1]).toBe('IN_PROGRESS')
      expect(rows[1]![4]).toContain('campaign is DRAFT')
      await shot('campaigns')
    })

    it('shows the week’s sends as one SVG bar per day, matching what was sent', async () => {
      await page.goto(`${base}/campaigns/${week.campaign.id}`)
      const bars = await page.$$eval('svg.chart rect.day', (rects) =>
        rects.map((r) => ({
          day: r.getAttribute('data-day'),
          sent: Number(r.getAttribute('data-sent')),
          height: r.getBoundingClientRect().height,
        })),
      )
      expect(bars.map(({ day, sent }) => ({ day, sent }))).toEqual(WEEK)
      // Drawn to scale: the busiest day is the tallest bar, empty days have no height.
      const tallest = Math.max(...bars.map((b) => b.height))
      expect(bars[3]!.height).toBeCloseTo(tallest, 3)
      expect(bars[5]!.height).toBe(0)
      expect(bars[1]!.height / tallest).toBeCloseTo(7 / 9, 1)
      await shot('campaign')
      await shot('campaign-top', false)
    })

    it('shows a lead named <script> as text: no script runs, no dialog opens', async () => {
      await page.goto(`${base}/campaigns/${week.campaign.id}`)
      // innerText on purpose: the text as rendered, what the operator sees.
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
      const text = await page.$eval('#log', (el) => (el as HTMLElement).innerText)
      expect(text).toContain(`Hi ${SCRIPT_NAME}`)
      expect(await page.evaluate(() => document.scripts.length)).toBe(0)
      expect(dialogs).toEqual([])
    })

    it('shows failures with the server’s answer and mailbox usage against limits', async () => {
      const failures = await page.$eval('#failures', (el) => el.textContent ?? '')
      expect(failures).toContain('nobody@example.com')
      expect(failures).toContain('550 5.1.1')
      const meters = await page.$$eval('[role=meter]', (els) =>
        els.map((e) => [e.getAttribute('aria-valuenow'), e.getAttribute('aria-valuemax')]),
      )
      expect(meters).toEqual([
        ['0', '12'],
        ['0', '8'],
      ])
    })

    it('pauses the campaign from its page, and the page shows it', async () => {
      await page.goto(`${base}/campaigns/${week.campaign.id}`)
      await Promise.all([page.waitForNavigation(), page.click('form[action$="/pause"] button')])
      expect(page.url()).toContain('?done=paused')
      expect(await page.$eval('h1 .badge', (el) => el.textContent)).toBe('PAUSED')
      expect(await page.$eval('.notice', (el) => el.textContent)).toBe('Campaign paused.')
      expect((await week.scheduler.getCampaign(week.campaign.id)).status).toBe('PAUSED')
      expect(await page.$('form[action$="/resume"] button')).not.toBeNull()
      await shot('campaign-paused')
    })

    it('lists mailboxes with their pause state and the server’s reason', async () => {
      await page.goto(`${base}/mailboxes`)
      const rows = await page.$$eval('tr[data-mailbox-id]', (trs) => trs.map((tr) => tr.textContent ?? ''))
      expect(rows).toHaveLength(3)
      expect(rows[2]).toContain('421 4.7.0 Try again later')
      await shot('mailboxes')
    })

    it('refuses a page to a browser that authorize turns away', async () => {
      const other = await browser.newPage()
      expect((await other.goto(`${base}/`))?.status()).toBe(403)
      await other.close()
    })
  })
}
