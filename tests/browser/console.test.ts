import { mkdirSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoSitePath } from '../../config/index.ts'
import { launchChromium } from '../support/browser.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { makeTempDir } from '../support/temp-files.ts'
import { engageEnv, startTestService, type TestService } from '../support/test-service.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// The demo airport, with the secrets the test service's publish() uses.
const site = readFileSync(demoSitePath, 'utf8').replaceAll('demo-secret-', 'secret-')
// `npm run screenshots` writes them to docs/ (README shows them); a plain test run keeps them in a temp dir.
const shots = pathToFileURL(`${process.env.VIGIE_SCREENSHOTS ?? makeTempDir()}/`)
const desktop = { width: 1280, height: 800 }
const phone = { width: 390, height: 844 }

let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let browser: Browser
let dashboard: Page
let link = ''
let ticketId = ''

beforeAll(async () => {
  mkdirSync(shots, { recursive: true })
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  world = await startTestService({
    site,
    env: engageEnv({
      twilioUrl: twilioServer.url,
      smtpUrl: smtp.url,
      authToken: 'browser-test-token-0123456789',
    }),
  })
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

const shoot = (page: Page, name: string) => page.screenshot({ path: new URL(name, shots).pathname })

/** The dashboard signed in through the URL fragment, live on /ws, its plan drawn. */
async function openDashboard(viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage({ viewport })
  await page.goto(`${world.publicUrl}/#key=test-service-admin-key-0123456`)
  await page.locator('#live[data-state="live"]').waitFor()
  await page.locator('[data-device="door-gate-1"]').waitFor()
  return page
}

describe('the console in a real browser', () => {
  it('shows a forced door on the plan and in the tickets within 2 s, without a reload', async () => {
    dashboard = await openDashboard(desktop)
    expect(new URL(dashboard.url()).hash).toBe('')
    await dashboard.evaluate(() => {
      Object.assign(globalThis, { loadedOnce: true })
    })

    const start = Date.now()
    await world.publish('door-gate-1', { type: 'door', open: true })
    await dashboard.locator('[data-device="door-gate-1"][data-state="critical"]').waitFor({ timeout: 2000 })
    await dashboard.locator('.ticket', { hasText: 'Door forced' }).waitFor({ timeout: 2000 })
    expect(Date.now() - start).toBeLessThan(2000)
    // Still the same document: the change came over /ws, not from a reload.
    expect(await dashboard.evaluate(() => 'loadedOnce' in globalThis)).toBe(true)
    expect(await dashboard.locator('#ticket-count').textContent()).toBe('1')
  })

  it("opens a ticket's timeline and lists the offer SMS in the messages panel", async () => {
    await world.publish('aed-gate-1', { type: 'aed', present: true, cabinetOpen: false, battery: 12 })
    const sms = await waitFor(
      () =>
        twilioServer
          .accepted()
          .find((r) => r.form.Body?.includes('door-gate-1') && r.form.Body.includes('/t/')),
      { what: 'the offer SMS for door-gate-1' },
    )
    link = /(http:\/\/\S+\/t\/\S+)/.exec(sms.form.Body ?? '')?.[1] ?? ''
    expect(link).not.toBe('')
    const row = dashboard.locator('.ticket', { hasText: 'Door forced' })
    ticketId = (await row.getAttribute('data-ticket')) ?? ''
    await row.locator('button').click()
    await row.locator('.timeline li', { hasText: 'offered' }).waitFor()
    await dashboard.locator('#messages li', { hasText: 'offer' }).first().waitFor()
    await dashboard.locator('.ticket', { hasText: 'battery' }).waitFor()
  })

  it('accepts the ticket on the technician page, and the dashboard shows it acknowledged', async () => {
    const page = await browser.newPage({ viewport: phone, isMobile: true, hasTouch: true })
    await page.goto(link)
    await expect(page.locator('h1').textContent()).resolves.toBe('Door forced or opened out of hours')
    expect(await page.locator('.link-camera').getAttribute('href')).toBe('rtsp://cam-3.cdg-t2.example/stream')
    await shoot(page, 'technician-phone.png')

    await page.locator('.action-ack').click()
    await page.locator('#status[data-status="acknowledged"]').waitFor()
    expect(await page.locator('.message').textContent()).toContain('Accepted')
    await dashboard.locator(`.ticket[data-ticket="${ticketId}"][data-status="acknowledged"]`).waitFor()
    // The event carries the ticket without its timeline: its entry joins the open timeline, nothing is lost.
    const timeline = dashboard.locator(`.ticket[data-ticket="${ticketId}"] .timeline li`)
    await timeline.filter({ hasText: 'acknowledged' }).waitFor({ timeout: 5000 })
    await expect(timeline.filter({ hasText: 'offered' }).count()).resolves.toBe(1)

    // The next steps the page now offers, and the position it shares.
    await page.context().grantPermissions(['geolocation'])
    await page.context().setGeolocation({ latitude: 49.0031, longitude: 2.5697 })
    await page.locator('#share-position').click()
    await page.locator('#share-status[data-shared="true"]').waitFor()
    await page.locator('.action-en-route').click()
    await page.locator('#status[data-status="en_route"]').waitFor()
    await dashboard.locator(`.ticket[data-ticket="${ticketId}"][data-status="en_route"]`).waitFor()
    await shoot(page, 'technician-phone-en-route.png')
    const wide = await browser.newPage({ viewport: desktop })
    await wide.goto(link)
    await shoot(wide, 'technician-desktop.png')
    await wide.close()
    await page.close()
  })

  it('takes the dashboard screenshots at desktop and phone size', async () => {
    await dashboard.locator('#messages li', { hasText: 'sms' }).first().waitFor()
    await shoot(dashboard, 'dashboard-desktop.png')
    const small = await openDashboard(phone)
    await small.locator('.ticket').first().waitFor()
    await small.screenshot({ path: new URL('dashboard-phone.png', shots).pathname, fullPage: true })
    await small.close()
  })

  it('asks for a key when the address has none, says when it is refused, and opens with a good one', async () => {
    const page = await browser.newPage({ viewport: desktop })
    await page.goto(`${world.publicUrl}/`)
    await page.locator('#sign-in').waitFor()
    expect(await page.locator('#console').isHidden()).toBe(true)
    await page.locator('#key').fill('not-the-right-key-0123')
    await page.locator('#sign-in button').click()
    await page.locator('#sign-in-error', { hasText: 'refused' }).waitFor()
    await page.locator('#key').fill('test-service-admin-key-0123456')
    await page.locator('#sign-in button').click()
    await page.locator('#live[data-state="live"]').waitFor()
    await page.locator('.ticket').first().waitFor()
    await page.close()
  })
})
