// Issue 19, the customer's page in a real browser: who they are, what they subscribe to, their open tickets, their history.
import { mkdirSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../api/index.ts'
import { demoSitePath } from '../../config/index.ts'
import { launchChromium } from '../support/browser.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { makeTempDir } from '../support/temp-files.ts'
import { engageEnv, startTestService, type TestService } from '../support/test-service.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

const keys = { dispatcher: 'dispatcher-key-custpage-012345', viewer: 'viewer-key-custpage-0123456789' }
// The demo airport with the test service's device secrets, two keys, and customers told of a forced door.
const forced = '    severity: critical\n    skill: security\n'
const demo = readFileSync(demoSitePath, 'utf8')
if (!demo.includes(forced) || !demo.includes('apiKeys: []')) throw new Error('the demo site changed: adapt')
const site = demo
  .replaceAll('demo-secret-', 'secret-')
  .replace(forced, `${forced}    notifyCustomers: true\n`)
  .replace(
    'apiKeys: []',
    `apiKeys:
  - { name: desk, keyHash: "${hashApiKey(keys.dispatcher)}", role: dispatcher }
  - { name: wall, keyHash: "${hashApiKey(keys.viewer)}", role: viewer }`,
  )
const shots = pathToFileURL(`${process.env.VIGIE_SCREENSHOTS ?? makeTempDir()}/`)
const desktop = { width: 1280, height: 800 }
const phone = { width: 390, height: 844 }
// Compagnie Azur subscribes to the gates zone, where door-gate-1 is; SMS and email, no quiet hours.
const azur = 'cust-compagnie-azur'

type Entry = { kind: string; template?: string; channel?: string }

let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let browser: Browser
let history: Entry[] = []

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
  await world.publish('door-gate-1', { type: 'door', open: true })
  // The notice goes with the first offer, by SMS (their first contact): in their history with the ticket.
  await waitFor(() => twilioServer.accepted().some((r) => r.form.To === '+33600000104'), {
    what: "Compagnie Azur's notice SMS",
    timeoutMs: 20_000,
  })
  history = await waitFor(
    async () => {
      const page = await world.api<{ items: Entry[] }>(`/api/customers/${azur}/history?limit=100`)
      const notice = page.items.some(
        (e) => e.kind === 'message' && e.template === 'notice' && e.channel === 'sms',
      )
      return notice && page.items.some((e) => e.kind === 'ticket') ? page.items : undefined
    },
    // Gently: the lists' rate limit counts these calls too.
    { what: "the forced door's notices in Compagnie Azur's history", timeoutMs: 20_000, intervalMs: 250 },
  )
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: new URL(name, shots).pathname, fullPage: true })

/** A page of the console signed in with `key` through the URL fragment. */
async function open(path: string, { key = keys.dispatcher, viewport = desktop } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport })
  await page.goto(`${world.publicUrl}${path}#key=${key}`)
  return page
}

describe("the customer's page in a real browser", () => {
  it('shows who they are, what they subscribe to, the open ticket and the notice', async () => {
    const page = await open(`/customers/${azur}`)
    await page.locator('#history .history-entry').first().waitFor()
    expect(new URL(page.url()).hash).toBe('')
    expect(await page.locator('#customer-name').textContent()).toBe('Compagnie Azur')
    expect(await page.locator('[data-field="language"]').textContent()).toBe('fr')
    // A dispatcher sees contacts masked.
    const contacts = (await page.locator('[data-field="contacts"]').textContent()) ?? ''
    expect(contacts).toContain('SMS')
    expect(contacts).not.toContain('+33600000104')
    expect(contacts).not.toContain('escale-cdg@compagnie-azur.example')
    expect(await page.locator('[data-field="quiet-hours"]').textContent()).toContain('none')
    expect(
      await page.locator('#subscriptions [data-kind="zone"][data-id="t2-gates"]').textContent(),
    ).toContain('Gates — CDG Terminal 2')

    const ticket = page.locator('#open-tickets .ticket')
    await expect(ticket.count()).resolves.toBe(1)
    const text = (await ticket.textContent()) ?? ''
    expect(text).toContain('Door forced or opened out of hours')
    expect(text).toContain('critical')
    expect(text).toMatch(/opened \d+ min ago/)
    expect(await ticket.getAttribute('data-status')).toMatch(/^(open|assigned|acknowledged)$/)
    expect(await page.locator('#open-count').textContent()).toBe('1')

    const notices = page.locator('#history [data-kind="message"]', { hasText: 'notice' })
    await expect(notices.count()).resolves.toBe(history.filter((e) => e.template === 'notice').length)
    const sms = (await notices.filter({ hasText: 'by SMS' }).locator('.entry').textContent()) ?? ''
    expect(sms).toMatch(/: (sent|delivered)$/)
    // Masked for a dispatcher here too.
    expect(sms).not.toContain('+33600000104')
    await page.locator('#history [data-kind="ticket"]', { hasText: 'Door forced' }).waitFor()
    await shoot(page, 'customer-desktop.png')
    await page.close()
  })

  it('pages the history with "More" until the whole of it is shown', async () => {
    const page = await open(`/customers/${azur}?limit=1`)
    const entries = page.locator('#history .history-entry')
    await entries.first().waitFor()
    await expect(entries.count()).resolves.toBe(1)
    for (let shown = 1; shown < history.length; shown++) {
      await page.locator('#history-more:not([hidden])').click()
      await entries.nth(shown).waitFor()
    }
    await page.locator('#history-more[hidden]').waitFor({ state: 'attached' })
    await expect(entries.count()).resolves.toBe(history.length)
    expect(await entries.evaluateAll((items) => items.map((li) => li.getAttribute('data-kind')))).toEqual(
      history.map((e) => e.kind),
    )
    await page.close()
  })

  it('reads well on a phone: one column, nothing wider than the screen', async () => {
    const page = await browser.newPage({ viewport: phone, isMobile: true, hasTouch: true })
    await page.goto(`${world.publicUrl}/customers/${azur}#key=${keys.dispatcher}`)
    await page.locator('#history .history-entry').first().waitFor()
    await page.locator('#open-tickets .ticket').waitFor()
    const width = await page.locator('html').evaluate((html) => html.scrollWidth)
    expect(width).toBeLessThanOrEqual(phone.width)
    const [head, tickets] = await Promise.all(
      ['.customer-head', '.customer-tickets'].map((s) => page.locator(s).boundingBox()),
    )
    // Stacked, not side by side.
    expect(tickets?.y ?? 0).toBeGreaterThan((head?.y ?? 0) + (head?.height ?? 0) - 1)
    await shoot(page, 'customer-phone.png')
    await page.close()
  })

  it('says so when there is no such customer, and shows an odd id as text without asking the API', async () => {
    const page = await open('/customers/nobody-here')
    await page.locator('#problem[data-kind="not-found"]').waitFor()
    expect(await page.locator('#problem').textContent()).toBe('No customer nobody-here')
    expect(await page.locator('#customer-page').isHidden()).toBe(true)

    const asked: string[] = []
    page.on('request', (request) => asked.push(new URL(request.url()).pathname))
    const odd = '<img src=x onerror="globalThis.pwned=1">'
    await page.goto(`${world.publicUrl}/customers/${encodeURIComponent(odd)}`)
    await page.locator('#problem[data-kind="not-found"]').waitFor()
    expect(await page.locator('#problem').textContent()).toBe(`No customer ${odd}`)
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.evaluate(() => 'pwned' in globalThis)).toBe(false)
    expect(asked.filter((path) => path.startsWith('/api/'))).toEqual([])

    await page.goto(`${world.publicUrl}/customers/..%2F..%2Fpackage.json`)
    await page.locator('#problem[data-kind="not-found"]').waitFor()
    expect(await page.locator('#problem').textContent()).toBe('No customer ../../package.json')
    await page.close()
  })

  it("shows markup in a customer's name as text, on their page and in the list", async () => {
    const name = '<img src=x onerror="globalThis.pwned=1">Évian & co'
    await world.api('/api/customers', {
      method: 'POST',
      body: {
        id: 'hostile-name',
        name,
        language: 'fr',
        contacts: [{ email: 'desk@hostile.example' }],
        subscribes: { zones: ['t2-gates'] },
      },
    })
    const page = await open('/customers/hostile-name')
    await page.locator('#history .empty', { hasText: 'Nothing in their history yet' }).waitFor()
    expect(await page.locator('#customer-name').textContent()).toBe(name)
    expect(await page.locator('#open-tickets').textContent()).toContain('No open ticket')
    expect(await page.title()).toBe(`vigie — ${name}`)

    await page.goto(`${world.publicUrl}/customers?limit=3`)
    const link = page.locator('#customer-list a[href="/customers/hostile-name"]')
    // Paged: "More" until the new customer is listed (ids sort after the demo's "cust-…").
    const more = page.locator('#customer-list-more:not([hidden])')
    const rows = page.locator('#customer-list li')
    for (;;) {
      // Whichever comes first once a page is drawn: the link, or the button to the next page.
      await link.or(more).first().waitFor()
      if ((await link.count()) > 0) break
      const shown = await rows.count()
      await more.click()
      await waitFor(async () => (await rows.count()) > shown, { what: 'the next page of customers' })
    }
    expect(await link.textContent()).toBe(name)
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.evaluate(() => 'pwned' in globalThis)).toBe(false)
    await page.close()
  })

  it('lists the customers with links to their pages, reached from the dashboard', async () => {
    const page = await open('/')
    await page.locator('#live[data-state="live"]').waitFor()
    // A customer's message on the dashboard links to their page.
    await page.locator(`#messages a[href="/customers/${azur}"]`).first().waitFor()
    await page.locator('.bar a[href="/customers"]').click()
    await page.waitForURL(`${world.publicUrl}/customers`)
    const first = page.locator('#customer-list li').first()
    await first.waitFor()
    const all = await world.api<{ items: unknown[] }>('/api/customers')
    await expect(page.locator('#customer-list li').count()).resolves.toBe(all.items.length)
    await page.locator(`#customer-list a[href="/customers/${azur}"]`).click()
    await page.waitForURL(`${world.publicUrl}/customers/${azur}`)
    // The key came along in the tab's session.
    expect(await page.locator('#customer-name').textContent()).toBe('Compagnie Azur')
    await page.close()
  })

  it('tells a viewer that the history needs a dispatcher key, and asks for a key when there is none', async () => {
    const page = await open(`/customers/${azur}`, { key: keys.viewer })
    await page.locator('#history .empty', { hasText: 'needs a dispatcher key' }).waitFor()
    expect(await page.locator('#customer-name').textContent()).toBe('Compagnie Azur')
    expect(await page.locator('#open-tickets').textContent()).toContain('need a dispatcher key')

    const fresh = await browser.newPage({ viewport: desktop })
    await fresh.goto(`${world.publicUrl}/customers/${azur}`)
    await fresh.locator('#sign-in').waitFor()
    await fresh.locator('#key').fill('not-the-right-key-0123')
    await fresh.locator('#sign-in button').click()
    await fresh.locator('#sign-in-error', { hasText: 'refused' }).waitFor()
    await fresh.locator('#key').fill(keys.dispatcher)
    await fresh.locator('#sign-in button').click()
    await fresh.locator('#open-tickets .ticket').waitFor()
    await fresh.close()
    await page.close()
  })
})
