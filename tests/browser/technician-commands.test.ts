// Issue 19 in a real browser: on the technician page, on a phone, the assignee presses a device command and
// sees it done once the device (a real MQTT client) has answered — the page's own polling shows it.
import { mkdirSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { MqttClient } from 'mqtt'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.ts'
import {
  answeringDevice,
  forcedDoorOffered,
  technicianCommandsSite,
  technicianLinks,
} from '../support/technician-commands-site.ts'
import { makeTempDir } from '../support/temp-files.ts'
import { startTestService, type TestService } from '../support/test-service.ts'

// `npm run screenshots` writes them to docs/; a plain test run keeps them in a temp dir.
const shots = pathToFileURL(`${process.env.VIGIE_SCREENSHOTS ?? makeTempDir()}/`)
const phone = { width: 390, height: 844 }

let vigie: TestService
let browser: Browser
let device: MqttClient | undefined

beforeAll(async () => {
  mkdirSync(shots, { recursive: true })
  vigie = await startTestService({ site: technicianCommandsSite })
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await device?.endAsync(true).catch(() => {})
  await browser?.close()
  await vigie?.close()
})

describe('device commands on the technician page, in a real browser', () => {
  it('presses a command on a phone and shows it done once the device answers', async () => {
    const ticket = await forcedDoorOffered(vigie, 'door-1', 'tech-1')
    device = await answeringDevice(vigie, 'door-1', 'locked for 30 s')
    const link = `${vigie.publicUrl}/t/${(await technicianLinks(vigie))(ticket.id, 'tech-1')}`

    const page = await browser.newPage({ viewport: phone, isMobile: true, hasTouch: true })
    const errors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    await page.goto(link)
    await page.locator('.action-ack').click()
    await page.locator('#status[data-status="acknowledged"]').waitFor()

    const lock = page.locator('form.command[data-command="lock"]')
    await lock.locator('input[name="seconds"]').fill('30')
    await lock.locator('.command-send').click()
    await page.locator('#command-message[data-sent="true"]').waitFor()
    const line = page.locator('#command-list li[data-status="done"]', { hasText: 'lock' })
    await line.waitFor()
    await page.locator('#command-message', { hasText: 'lock done: locked for 30 s' }).waitFor()
    expect(await line.textContent()).toContain('locked for 30 s')
    expect(await page.locator('#command-list li').count()).toBe(1)
    await page.screenshot({ path: new URL('technician-commands-phone.png', shots).pathname, fullPage: true })

    // A value the spec refuses comes back as the API's reason, and nothing is listed for it.
    await lock.locator('input[name="seconds"]').fill('0')
    // The browser's own check would stop it first; the server's is the one that matters.
    await lock.evaluate((form) => {
      Object.assign(form, { noValidate: true })
    })
    await lock.locator('.command-send').click()
    await page.locator('#command-message[data-sent="false"]', { hasText: 'args.seconds' }).waitFor()
    expect(await page.locator('#command-list li').count()).toBe(1)
    // The page ran under its strict policy: the browser refused none of it (the listener did hear the 400).
    expect(errors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([])
    expect(errors.some((text) => text.includes('400'))).toBe(true)
    await page.close()
  })
})
