import { mkdirSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import mqtt, { type MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoSitePath } from '../../config/index.ts'
import { launchChromium } from '../support/browser.ts'
import { makeTempDir } from '../support/temp-files.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// The demo airport with the test service's secrets; the lounge rule fires at once, so the test need not wait 60 s.
const site = readFileSync(demoSitePath, 'utf8')
  .replaceAll('demo-secret-', 'secret-')
  .replace(/(id: lounge-too-hot[\s\S]*?)\n {4}for: 60s/, '$1')
// `npm run screenshots` writes them to docs/ (README shows them); a plain run keeps them in a temp dir.
const shots = pathToFileURL(`${process.env.VIGIE_SCREENSHOTS ?? makeTempDir()}/`)
const desktop = { width: 1280, height: 800 }
const phone = { width: 390, height: 844 }
const adminKey = 'test-service-admin-key-0123456'
const minuteMs = 60_000

let world: TestService
let browser: Browser
let dashboard: Page
const devices: MqttClient[] = []
let lounge: MqttClient
// Readings of the last 20 minutes: cool, then above the rule's 26 °C for the last eight.
const startedAt = Date.now()
const readings = Array.from({ length: 20 }, (_, i) => ({
  type: 'temperature',
  ts: new Date(startedAt - (20 - i) * minuteMs).toISOString(),
  celsius: i < 12 ? 22 + i * 0.2 : 27 + (i - 12) * 0.1,
}))

beforeAll(async () => {
  mkdirSync(shots, { recursive: true })
  expect(site).not.toMatch(/id: lounge-too-hot[^-]*for: 60s/)
  world = await startTestService({ site })
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await Promise.all(devices.map((d) => d.endAsync()))
  await browser?.close()
  await world?.close()
})

/** A device that stays connected, so the panel shows it online, and publishes at QoS 1. */
async function connectDevice(id: string, password = `secret-${id}`): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: world.mqttPort,
    clientId: id,
    username: id,
    password,
    reconnectPeriod: 0,
  })
  devices.push(client)
  return client
}

async function publish(client: MqttClient, id: string, readings: Record<string, unknown>[]): Promise<void> {
  for (const reading of readings)
    await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(reading), { qos: 1 })
}

const shoot = (page: Page, name: string) => page.screenshot({ path: new URL(name, shots).pathname })

async function openDashboard(viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage({ viewport })
  await page.goto(`${world.publicUrl}/#key=${adminKey}`)
  await page.locator('#live[data-state="live"]').waitFor()
  await page.locator('[data-device="temp-lounge-1"]').waitFor()
  return page
}

/** The y of a value on the chart, read back from the value axis' own labels and grid lines. */
async function yOfValue(page: Page, value: number): Promise<number> {
  const grid = await page.locator('#device-panel svg.chart').evaluate((svg) =>
    [...svg.querySelectorAll('text.axis[text-anchor="end"]')].map((t) => ({
      value: Number(t.textContent),
      y: Number(t.getAttribute('y')) - 4,
    })),
  )
  const [a, b] = [grid[0], grid.at(-1)]
  if (!a || !b || a.value === b.value) throw new Error('the chart has no value axis')
  return a.y + ((value - a.value) / (b.value - a.value)) * (b.y - a.y)
}

describe('the device panel in a real browser', () => {
  it('opens from the plan with the latest state, the chart, its threshold line and the incident mark', async () => {
    lounge = await connectDevice('temp-lounge-1')
    await publish(lounge, 'temp-lounge-1', readings)
    const incident = await waitFor(
      async () =>
        (
          await world.api<{ items: { id: string; device: string | null; rule: string }[] }>('/api/incidents')
        ).items.find((i) => i.device === 'temp-lounge-1' && i.rule === 'lounge-too-hot'),
      { what: 'the lounge incident' },
    )
    dashboard = await openDashboard(desktop)
    await dashboard.locator('[data-device="temp-lounge-1"]').click()
    const panel = dashboard.locator('#device-panel[data-device="temp-lounge-1"]')
    await panel.locator('svg.chart').waitFor()

    expect(await panel.locator('.online').getAttribute('data-online')).toBe('true')
    await expect(panel.locator('.latest').textContent()).resolves.toContain('27.7')
    expect(await panel.locator('[data-range="hour"]').getAttribute('aria-pressed')).toBe('true')
    const chart = panel.locator('svg.chart')
    expect(await chart.getAttribute('data-field')).toBe('celsius')
    // One reading a minute in buckets of 15 s: each reading is its own bucket.
    expect(Number(await chart.getAttribute('data-buckets'))).toBe(20)

    // The threshold line sits where 26 is on the value axis.
    const threshold = chart.locator('.threshold[data-rule="lounge-too-hot"]')
    expect(await threshold.getAttribute('data-value')).toBe('26')
    const lineY = Number(await threshold.locator('line').getAttribute('y1'))
    expect(Math.abs(lineY - (await yOfValue(dashboard, 26)))).toBeLessThan(1)

    // The incident is marked from its opening to the chart's right edge (still active), on the readings above the line.
    const mark = chart.locator(`.incident[data-incident="${incident.id}"] rect`)
    await mark.waitFor()
    const markX = Number(await mark.getAttribute('x'))
    const markRight = markX + Number(await mark.getAttribute('width'))
    const plotRight = await chart
      .locator('.plot-area')
      .evaluate((r) => Number(r.getAttribute('x')) + Number(r.getAttribute('width')))
    expect(Math.abs(markRight - plotRight)).toBeLessThan(1)
    // Twenty minutes of an hour wide chart: the opening (the first reading above 26) is in its right third.
    const plotLeft = await chart.locator('.plot-area').evaluate((r) => Number(r.getAttribute('x')))
    const openingShare = (markX - plotLeft) / (plotRight - plotLeft)
    expect(openingShare).toBeGreaterThan(0.75)
    expect(openingShare).toBeLessThan(0.95)

    await shoot(dashboard, 'device-panel-desktop.png')
  })

  it("sends a command from the panel and shows the device's answer", async () => {
    // The sensor answers what it is told on its status topic, as DESIGN.md § MQTT says.
    lounge.on('message', (topic, payload) => {
      if (!topic.startsWith('devices/temp-lounge-1/commands/')) return
      const { id } = JSON.parse(payload.toString()) as { id: string }
      lounge.publish(
        'devices/temp-lounge-1/status',
        JSON.stringify({ command: id, result: 'done', detail: 'rebooted' }),
        {
          qos: 1,
        },
      )
    })
    await lounge.subscribeAsync('devices/temp-lounge-1/commands/#', { qos: 1 })
    const panel = dashboard.locator('#device-panel[data-device="temp-lounge-1"]')
    // The demo's temperature kind takes reboot and nothing else.
    await expect(
      panel.locator('.command-form').evaluateAll((forms) => forms.map((f) => f.getAttribute('data-command'))),
    ).resolves.toEqual(['reboot'])
    await panel.locator('.command-form[data-command="reboot"] button').click()
    const done = panel.locator('.command-list li[data-status="done"]', { hasText: 'reboot' })
    await done.waitFor()
    expect(await done.textContent()).toContain('rebooted')
    const sent = await world.api<{ items: { name: string; status: string; by: string }[] }>(
      '/api/devices/temp-lounge-1/commands',
    )
    expect(sent.items).toHaveLength(1)
    expect(sent.items[0]).toMatchObject({ name: 'reboot', status: 'done' })
  })

  it('switches to a day and a week, and closes', async () => {
    const panel = dashboard.locator('#device-panel')
    await panel.locator('[data-range="day"]').click()
    await panel.locator('svg.chart[aria-label="celsius over the last day"]').waitFor()
    expect(await panel.locator('[data-range="day"]').getAttribute('aria-pressed')).toBe('true')
    // A day in 240 buckets of 6 min: the twenty readings fall in 4 of them.
    const buckets = Number(await panel.locator('svg.chart').getAttribute('data-buckets'))
    expect(buckets).toBeGreaterThanOrEqual(4)
    expect(buckets).toBeLessThanOrEqual(5)
    await panel.locator('[data-range="week"]').click()
    await panel.locator('svg.chart[aria-label="celsius over the last week"]').waitFor()
    await panel.locator('.close').click()
    await dashboard.locator('#device-panel[hidden]').waitFor({ state: 'attached' })
  })

  it('draws a door as open or closed, and keeps a hostile name as text', async () => {
    const { secret } = await world.api<{ secret: string }>('/api/devices', {
      method: 'POST',
      body: {
        id: 'door-odd-1',
        kind: 'door',
        site: 'cdg-t2',
        name: '<img src=x onerror="document.body.dataset.pwned=1">',
        location: { lat: 49.0045, lon: 2.571 },
      },
    })
    const door = await connectDevice('door-odd-1', secret)
    await publish(door, 'door-odd-1', [
      { type: 'door', open: false, ts: new Date(Date.now() - 2 * minuteMs).toISOString() },
      { type: 'door', open: true, ts: new Date(Date.now() - minuteMs).toISOString() },
    ])
    await dashboard.reload()
    await dashboard.locator('#live[data-state="live"]').waitFor()
    await dashboard.locator('[data-device="door-odd-1"]').click()
    const panel = dashboard.locator('#device-panel[data-device="door-odd-1"]')
    await panel.locator('svg.chart').waitFor()
    await expect(panel.locator('h2').textContent()).resolves.toContain('<img src=x')
    expect(await dashboard.locator('body').getAttribute('data-pwned')).toBeNull()
    const labels = await panel.locator('svg.chart text.axis[text-anchor="end"]').allTextContents()
    expect(labels).toEqual(['no', 'yes'])
  })

  it('shades the part of a range whose readings retention no longer keeps', async () => {
    // A string, so that vitest leaves the page's own import() alone.
    const [trimmed = '', whole = ''] = await dashboard.evaluate<string[]>(`(async () => {
      const { chartMarkup } = await import('/console/chart.js')
      const series = (keptSince) => ({
        from: '2026-12-01T00:00:00.000Z',
        to: '2026-12-02T00:00:00.000Z',
        bucketMs: 360000,
        buckets: [{ start: '2026-12-01T18:00:00.000Z', min: 20, max: 21, mean: 20.5, count: 3 }],
        thresholds: [],
        incidents: [],
        keptSince,
      })
      return [series('2026-12-01T12:00:00.000Z'), series(null)].map((s) => chartMarkup({ series: s, width: 640, height: 260 }))
    })()`)
    // Half the day is gone: the shade covers the plot's left half.
    const shade = /class="not-kept".*?<rect class="shade" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(
      trimmed,
    )
    expect(Number(shade?.[2])).toBeCloseTo((640 - 52 - 14) / 2, 0)
    expect(whole).not.toContain('not-kept')
  })

  it('takes the device panel at phone size, over the whole screen', async () => {
    const small = await openDashboard(phone)
    await small.locator('[data-device="temp-lounge-1"]').click()
    const panel = small.locator('#device-panel[data-device="temp-lounge-1"]')
    await panel.locator('svg.chart .incident').first().waitFor()
    const box = await panel.boundingBox()
    expect(box?.width).toBe(phone.width)
    await shoot(small, 'device-panel-phone.png')
    await small.close()
  })

  it('draws a 30-day trend line under each KPI tile', async () => {
    const trends = dashboard.locator('#kpis .tile svg.trend')
    await waitFor(async () => (await trends.count()) === 7, { what: 'seven trend lines' })
    expect(await trends.first().getAttribute('aria-label')).toContain('30 days')
  })
})
