import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { demoSitePath } from '../../config/index.ts'
import { launchChromium } from '../support/browser.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const adminKey = 'test-service-admin-key-0123456'
const hostileName = 'AED <img src=x onerror="window.pwned=1"> removed'

/** 0.2 s of silence as a WAV file: a recording the browser can really load and play. */
function silentWav(): Buffer {
  const samples = 1600
  const wav = Buffer.alloc(44 + samples * 2)
  wav.write('RIFF', 0)
  wav.writeUInt32LE(36 + samples * 2, 4)
  wav.write('WAVEfmt ', 8)
  wav.writeUInt32LE(16, 16)
  wav.writeUInt16LE(1, 20) // PCM
  wav.writeUInt16LE(1, 22) // mono
  wav.writeUInt32LE(8000, 24)
  wav.writeUInt32LE(16000, 28)
  wav.writeUInt16LE(2, 32)
  wav.writeUInt16LE(16, 34)
  wav.write('data', 36)
  wav.writeUInt32LE(samples * 2, 40)
  return wav
}

/**
 * The demo airport plus a second terminal whose site has a recorded voice message (served by this test),
 * and the AED rule renamed with markup in it: a site file is the operator's, but the console still escapes.
 */
function siteFile(recordingUrl: string): string {
  const world = parse(readFileSync(demoSitePath, 'utf8').replaceAll('demo-secret-', 'secret-'))
  world.sites.push({
    id: 'cdg-t3',
    name: 'CDG Terminal 3',
    timezone: 'Europe/Paris',
    location: { lat: 49.0118, lon: 2.5653 },
    zones: [{ id: 't3-gates', name: 'T3 gates' }],
    voiceMessageUrl: recordingUrl,
  })
  world.devices.push({
    id: 'door-t3',
    kind: 'door',
    site: 'cdg-t3',
    zone: 't3-gates',
    location: { lat: 49.0119, lon: 2.5655 },
    secret: 'secret-door-t3',
  })
  world.rules.find((rule: { id: string }) => rule.id === 'aed-removed').name = hostileName
  return stringify(world)
}

let world: TestService
let browser: Browser
let recordings: Server
let recordingUrl = ''
const recordingRequests: string[] = []

beforeAll(async () => {
  const wav = silentWav()
  recordings = createServer((request, response) => {
    recordingRequests.push(request.url ?? '')
    response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length }).end(wav)
  })
  await new Promise<void>((resolve) => recordings.listen(0, '127.0.0.1', resolve))
  recordingUrl = `http://127.0.0.1:${(recordings.address() as AddressInfo).port}/t3-alert.wav`
  world = await startTestService({ site: siteFile(recordingUrl), adminKey })
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await world?.close()
  await new Promise((resolve) => recordings?.close(resolve))
})

// Records the sounds the page starts, before any of its scripts runs.
const observer = fileURLToPath(new URL('sound-observer.js', import.meta.url))
type Sound = {
  kind: 'tone' | 'speak' | 'play'
  text?: string
  lang?: string
  src?: string
  outcome?: string
}

/** A console with its clock faked (timers fire when the test runs the clock), live, its plan drawn. */
async function openConsole(locale: string): Promise<Page> {
  const page = await browser.newPage({ locale, viewport: { width: 1280, height: 800 } })
  await page.addInitScript({ path: observer })
  await page.clock.install()
  await page.goto(`${world.publicUrl}/#key=${adminKey}`)
  await page.locator('#live[data-state="live"]').waitFor()
  await page.locator('[data-device="door-gate-1"]').waitFor()
  return page
}

/** Clicks the one control a browser needs before it lets the page make a sound; it then goes away. */
async function enableSound(page: Page): Promise<void> {
  await page.locator('#sound-unlock', { hasText: 'Touch to enable sound' }).click()
  await page.locator('#sound-unlock').waitFor({ state: 'hidden' })
}

const sounds = (page: Page) => page.evaluate(() => (globalThis as unknown as { sounds: Sound[] }).sounds)

/** The sounds heard so far once there are at least `count` of `kind`. */
async function soundsOnce(page: Page, kind: Sound['kind'], count: number): Promise<Sound[]> {
  await page.waitForFunction(
    ([kind, count]) =>
      (globalThis as unknown as { sounds: Sound[] }).sounds.filter((s) => s.kind === kind).length >= count,
    [kind, count] as const,
  )
  return sounds(page)
}

const spoken = (heard: Sound[]) => heard.filter((s) => s.kind === 'speak')

describe('the console speaks up on a new critical ticket', () => {
  it('rings a forced door in each console’s language until acknowledged there, and everywhere once a technician takes it', async () => {
    const fr = await openConsole('en-US')
    const en = await openConsole('en-US')
    // The language is the console's choice, kept in the browser; English by default for an English browser.
    expect(await en.locator('#sound-language').inputValue()).toBe('en')
    await fr.locator('#sound-language').selectOption('fr')
    await enableSound(fr)
    await enableSound(en)
    expect(await sounds(fr)).toEqual([])

    await world.publish('door-gate-1', { type: 'door', open: true })
    for (const page of [fr, en])
      await page.locator('#alert-banner li', { hasText: 'Door forced or opened out of hours' }).waitFor()
    const heardFr = await soundsOnce(fr, 'speak', 1)
    expect(heardFr[0]?.kind).toBe('tone')
    expect(spoken(heardFr)).toEqual([
      {
        kind: 'speak',
        lang: 'fr-FR',
        text: 'Alerte critique : Door forced or opened out of hours. door-gate-1, Gates, CDG Terminal 2.',
      },
    ])
    const heardEn = await soundsOnce(en, 'speak', 1)
    expect(spoken(heardEn)).toEqual([
      {
        kind: 'speak',
        lang: 'en-GB',
        text: 'Critical alert: Door forced or opened out of hours. door-gate-1, Gates, CDG Terminal 2.',
      },
    ])

    // It rings again after the repeat interval: the page's clock is run, not waited for.
    await fr.clock.runFor(20_000)
    expect(spoken(await soundsOnce(fr, 'speak', 2))[1]?.text).toContain('Alerte critique')
    expect((await sounds(fr)).filter((s) => s.kind === 'tone').length).toBeGreaterThanOrEqual(4)

    // Acknowledged in the French console: silent there, still ringing in the other.
    await fr.locator('#alert-banner .alert-ack').click()
    await fr.locator('#alert-banner').waitFor({ state: 'hidden' })
    const quietFrom = (await sounds(fr)).length
    await fr.clock.runFor(60_000)
    expect((await sounds(fr)).slice(quietFrom)).toEqual([])
    expect(await fr.locator('.ticket', { hasText: 'Door forced' }).count()).toBe(1)
    await en.clock.runFor(20_000)
    await soundsOnce(en, 'speak', 2)

    // A dispatcher takes the ticket: it moved on, so every console stops.
    const ticketId = await en.locator('.ticket', { hasText: 'Door forced' }).getAttribute('data-ticket')
    await world.api(`/api/tickets/${ticketId}/ack`, { method: 'POST' })
    await en.locator('#alert-banner').waitFor({ state: 'hidden' })
    const enQuietFrom = (await sounds(en)).length
    await en.clock.runFor(60_000)
    expect((await sounds(en)).slice(enQuietFrom)).toEqual([])

    // The choice of language stays with the browser; the touch is asked again on every page load.
    await fr.reload()
    await fr.locator('#live[data-state="live"]').waitFor()
    expect(await fr.locator('#sound-language').inputValue()).toBe('fr')
    await fr.locator('#sound-unlock').waitFor({ state: 'visible' })
    await fr.close()
    await en.close()
  })

  it('shows the banner of a muted console but makes no sound, and stays muted after a reload', async () => {
    const page = await openConsole('fr-FR')
    // A French browser speaks French unless told otherwise.
    expect(await page.locator('#sound-language').inputValue()).toBe('fr')
    await enableSound(page)
    await page.locator('#sound-mute').click()
    expect(await page.locator('#sound-mute').getAttribute('aria-pressed')).toBe('true')

    await world.publish('door-gate-2', { type: 'door', open: true })
    await page.locator('#alert-banner li', { hasText: 'door-gate-2' }).waitFor()
    await page.clock.runFor(60_000)
    expect(await sounds(page)).toEqual([])
    expect(await page.locator('#alert-banner li', { hasText: 'door-gate-2' }).isVisible()).toBe(true)

    await page.reload()
    await page.locator('#live[data-state="live"]').waitFor()
    expect(await page.locator('#sound-mute').getAttribute('aria-pressed')).toBe('true')
    // The ticket was already there when this page loaded: the backlog does not ring.
    await page.locator('.ticket', { hasText: 'door-gate-2' }).waitFor()
    expect(await page.locator('#alert-banner').isHidden()).toBe(true)
    await page.close()
  })

  it('plays the recorded voice message of a site that has one, allowed by the CSP', async () => {
    const page = await openConsole('en-US')
    await enableSound(page)
    const csp = (await fetch(`${world.publicUrl}/`)).headers.get('content-security-policy') ?? ''
    expect(csp).toContain(`media-src ${new URL(recordingUrl).origin};`)
    const sites = await world.api<{ items: { id: string; voiceMessageUrl: string | null }[] }>('/api/sites')
    expect(sites.items.map((s) => [s.id, s.voiceMessageUrl])).toEqual([
      ['cdg-t2', null],
      ['cdg-t3', recordingUrl],
    ])

    await world.publish('door-t3', { type: 'door', open: true })
    await page.locator('#alert-banner li', { hasText: 'door-t3' }).waitFor()
    await page.waitForFunction(() =>
      (globalThis as unknown as { sounds: Sound[] }).sounds.some((s) => s.kind === 'play' && s.outcome),
    )
    const heard = await sounds(page)
    expect(heard.filter((s) => s.kind === 'play')).toEqual([
      { kind: 'play', src: recordingUrl, outcome: 'played' },
    ])
    // The recording instead of the spoken text, after the tone.
    expect(heard[0]?.kind).toBe('tone')
    expect(spoken(heard)).toEqual([])
    await waitFor(() => recordingRequests.some((url) => url === '/t3-alert.wav'), {
      what: 'the browser fetching the recording',
    })
    expect(await page.evaluate(() => (globalThis as unknown as { refused: string[] }).refused)).toEqual([])
    await page.locator('#alert-banner .alert-ack').click()
    await page.close()
  })

  it('shows a rule name carrying markup as text, in the banner and in what it says', async () => {
    const page = await openConsole('en-US')
    await enableSound(page)
    await world.publish('aed-gate-2', { type: 'aed', present: false, cabinetOpen: true })
    const item = page.locator('#alert-banner li', { hasText: 'aed-gate-2' })
    await item.waitFor()
    expect(await item.locator('.alert-what').textContent()).toBe(hostileName)
    expect(await page.locator('#alert-banner img').count()).toBe(0)
    expect(await page.evaluate(() => 'pwned' in globalThis)).toBe(false)
    const heard = await soundsOnce(page, 'speak', 1)
    expect(spoken(heard)[0]?.text).toContain(hostileName)
    await page.close()
  })
})
