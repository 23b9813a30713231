import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readSeries } from '../../api/device-series.ts'
import { hashApiKey } from '../../api/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIngest } from '../../ingest/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { testRedisUrl } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'

const viewerKey = 'series-viewer-key-0123456789'

const site = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: lounges, name: Lounges }, { id: gates, name: Gates }] }]
devices:
  - { id: temp-1, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: temp-2, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-2", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-1, kind: door, site: s1, zone: gates, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }]
rules:
  - { id: lounge-too-hot, match: { kind: temperature, zone: lounges }, condition: { field: celsius, above: 26, clearBelow: 25.5 }, for: 1h, severity: major, skill: hvac }
  - { id: temp-1-too-cold, match: { device: temp-1 }, condition: { field: celsius, below: 5, clearAbove: 6 }, for: 1h, severity: minor, skill: hvac }
  - { id: gates-too-hot, match: { zone: gates }, condition: { field: celsius, above: 30 }, for: 1h, severity: major, skill: hvac }
  - { id: battery-low, match: {}, condition: { field: battery, below: 10 }, for: 1h, severity: info, skill: hvac }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
apiKeys: [{ name: wallboard, keyHash: "${hashApiKey(viewerKey)}", role: viewer }]
`

type Series = {
  device: string
  field: string
  from: string
  to: string
  bucketMs: number
  buckets: { start: string; min: number; max: number; mean: number; count: number }[]
  thresholds: { rule: string; kind: string; value: number; clear: number; severity: string }[]
  scanned: number
  truncated: boolean
}

let world: TestService
// The last whole minute but one: readings dated in it are received now, within the reader's slack.
const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 60_000
const at = (ms: number) => new Date(t0 + ms).toISOString()
const s = 1000

async function get(path: string, key = viewerKey): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${world.publicUrl}${path}`, { headers: { authorization: `Bearer ${key}` } })
  return { status: res.status, body: await res.json() }
}

async function series(query: string, device = 'temp-1'): Promise<Series> {
  const { status, body } = await get(`/api/devices/${device}/series?${query}`)
  expect(status, JSON.stringify(body)).toBe(200)
  return body as Series
}

beforeAll(async () => {
  world = await startTestService({ site })
  // Hand-built: a minute cut into six buckets of 10 s; outside readings and a heartbeat must not count.
  await world.publish(
    'temp-1',
    { type: 'temperature', celsius: 19, ts: at(-1 * s) },
    { type: 'temperature', celsius: 20, ts: at(1 * s) },
    { type: 'temperature', celsius: 22, ts: at(5 * s) },
    { type: 'temperature', celsius: 27, ts: at(9 * s) },
    { type: 'heartbeat', battery: 80, ts: at(12 * s) },
    { type: 'temperature', celsius: 30.5, ts: at(25 * s) },
    { type: 'temperature', celsius: 10, ts: at(59 * s) },
    { type: 'temperature', celsius: 14, ts: at(60 * s) },
    { type: 'temperature', celsius: 40, ts: at(61 * s) },
  )
  await world.publish(
    'door-1',
    { type: 'door', open: true, ts: at(2 * s) },
    { type: 'door', open: false, ts: at(3 * s) },
    { type: 'door', open: false, ts: at(4 * s) },
    { type: 'door', open: true, badge: 'b-1', ts: at(31 * s) },
  )
}, 60_000)

afterAll(async () => {
  await world?.close()
})

describe('GET /api/devices/:id/series', () => {
  it('cuts a hand-built minute into exact buckets (min, max, mean, count), only those holding readings', async () => {
    const answer = await series(`field=celsius&from=${at(0)}&to=${at(60 * s)}&points=6`)
    expect(answer).toMatchObject({
      device: 'temp-1',
      field: 'celsius',
      from: at(0),
      to: at(60 * s),
      bucketMs: 10_000,
      scanned: 9,
      truncated: false,
    })
    expect(answer.buckets).toEqual([
      { start: at(0), min: 20, max: 27, mean: 23, count: 3 },
      { start: at(20 * s), min: 30.5, max: 30.5, mean: 30.5, count: 1 },
      // `to` itself falls in the last bucket.
      { start: at(50 * s), min: 10, max: 14, mean: 12, count: 2 },
    ])
  })

  it('serves a boolean field as 0/1, and a heartbeat field of the same device', async () => {
    const door = await series(`field=open&from=${at(0)}&to=${at(60 * s)}&points=2`, 'door-1')
    expect(door.bucketMs).toBe(30_000)
    expect(door.buckets).toEqual([
      { start: at(0), min: 0, max: 1, mean: 1 / 3, count: 3 },
      { start: at(30 * s), min: 1, max: 1, mean: 1, count: 1 },
    ])
    const battery = await series(`field=battery&from=${at(0)}&to=${at(60 * s)}&points=1`)
    expect(battery.buckets).toEqual([{ start: at(0), min: 80, max: 80, mean: 80, count: 1 }])
  })

  it("defaults to the kind's first field over the last hour in 300 buckets", async () => {
    await world.publish('temp-2', { type: 'temperature', celsius: 21 }, { type: 'temperature', celsius: 23 })
    const before = Date.now()
    const answer = await series('', 'temp-2')
    expect(answer.field).toBe('celsius')
    expect(Date.parse(answer.to) - Date.parse(answer.from)).toBe(3_600_000)
    expect(Math.abs(Date.parse(answer.to) - before)).toBeLessThan(60_000)
    expect(answer.bucketMs).toBe(12_000)
    const all = answer.buckets
    expect(all.reduce((n, b) => n + b.count, 0)).toBe(2)
    expect(Math.min(...all.map((b) => b.min))).toBe(21)
    expect(Math.max(...all.map((b) => b.max))).toBe(23)
  })

  it('answers an empty bucket list for a range with no readings', async () => {
    const day = 86_400_000
    const answer = await series(`from=${at(-2 * day)}&to=${at(-day)}`)
    expect(answer.buckets).toEqual([])
    expect(answer.scanned).toBe(0)
    expect(answer.truncated).toBe(false)
    expect(answer.bucketMs).toBe(day / 300)
  })

  it('carries the thresholds of the rules watching this field of this device, and only those', async () => {
    const celsius = await series(`field=celsius&from=${at(0)}&to=${at(60 * s)}`)
    expect(celsius.thresholds).toEqual([
      { rule: 'lounge-too-hot', kind: 'above', value: 26, clear: 25.5, severity: 'major' },
      { rule: 'temp-1-too-cold', kind: 'below', value: 5, clear: 6, severity: 'minor' },
    ])
    const other = await series(`field=celsius&from=${at(0)}&to=${at(60 * s)}`, 'temp-2')
    expect(other.thresholds.map((t) => t.rule)).toEqual(['lounge-too-hot'])
    const battery = await series(`field=battery&from=${at(0)}&to=${at(60 * s)}`)
    expect(battery.thresholds).toEqual([
      { rule: 'battery-low', kind: 'below', value: 10, clear: 10, severity: 'info' },
    ])
    const door = await series(`from=${at(0)}&to=${at(60 * s)}`, 'door-1')
    expect(door.thresholds).toEqual([])
  })

  it('refuses hostile queries with a clear 400', async () => {
    const refused = async (query: string, device = 'temp-1') => {
      const { status, body } = await get(`/api/devices/${device}/series?${query}`)
      expect(status, query).toBe(400)
      return body as { error: { code: string; message: string; details?: { path: string }[] } }
    }
    const range = `from=${at(0)}&to=${at(60 * s)}`
    const paths = async (query: string) => (await refused(query)).error.details?.map((d) => d.path)

    expect(await paths('from=yesterday')).toEqual(['querystring.from'])
    expect(await paths('to=2026-02-30T00:00:00Z')).toEqual(['querystring.to'])
    expect(await paths('from=2026-01-01T00:00:00')).toEqual(['querystring.from'])
    expect(await paths(`${range}&points=0`)).toEqual(['querystring.points'])
    expect(await paths(`${range}&points=100000`)).toEqual(['querystring.points'])
    expect(await paths(`${range}&points=1.5`)).toEqual(['querystring.points'])
    expect(await paths(`${range}&points=abc`)).toEqual(['querystring.points'])
    for (const junk of [
      "celsius' OR 1=1; DROP TABLE readings;--",
      '.*',
      'cel[sius',
      '__proto__',
      'x'.repeat(65),
    ])
      expect(await paths(`${range}&field=${encodeURIComponent(junk)}`), junk).toEqual(['querystring.field'])
    expect(await paths(`${range}&field=${'a'.repeat(5000)}`)).toEqual(['querystring.field'])

    expect((await refused(`from=${at(60 * s)}&to=${at(0)}`)).error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'from must be before to',
    })
    expect((await refused(`from=${at(0)}&to=${at(0)}`)).error.message).toBe('from must be before to')
    expect((await refused(`from=${at(-32 * 86_400_000)}&to=${at(0)}`)).error.message).toBe(
      'from and to may be 31 days apart at most',
    )
    expect((await refused(`${range}&field=open`)).error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'A temperature device has no field open; its fields: celsius, battery',
    })
    expect((await refused(`${range}&field=constructor`)).error.message).toBe(
      'A temperature device has no field constructor; its fields: celsius, battery',
    )
    // A badge id is text: not a field a chart can draw.
    expect((await refused(`${range}&field=badge`, 'door-1')).error.message).toBe(
      'A door device has no field badge; its fields: open, battery',
    )
  })

  it('answers 404 for an unknown device and 401 without a key; a viewer key reads it', async () => {
    expect((await get('/api/devices/nobody/series')).status).toBe(404)
    expect((await get('/api/devices/temp-1/series', 'not-a-key-0123456789')).status).toBe(401)
    expect((await get(`/api/devices/temp-1/series?from=${at(0)}&to=${at(60 * s)}`)).status).toBe(200)
  })

  it('is in the OpenAPI document', async () => {
    const res = await fetch(`${world.publicUrl}/docs/json`)
    const doc = (await res.json()) as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> }
    const route = doc.paths['/api/devices/{id}/series']
    expect(route?.get?.parameters?.map((p) => p.name).sort()).toEqual(['field', 'from', 'id', 'points', 'to'])
  })

  it('stops reading past its bound and says the answer is truncated', async () => {
    const redis = await openClient(testRedisUrl(), 5000)
    try {
      const ingest = createIngest({
        redis,
        clock: systemClock,
        log: createLogger({ level: 'silent' }),
        settings: {
          redisPrefix: world.prefix,
          logShards: 4,
          readingsRetention: 1000,
          deviceReadingsRetention: 1000,
          deadLetterRetention: 100,
        },
      })
      const ask = { device: 'temp-1', field: 'celsius', from: t0, to: t0 + 60 * s, points: 6 }
      // Nine readings are stored: the first three in receipt order are 19 (out of range), 20 and 22.
      const cut = await readSeries(ingest.readingRange, { ...ask, maxReadings: 3 })
      expect(cut).toMatchObject({ scanned: 3, truncated: true })
      expect(cut.buckets).toEqual([{ start: at(0), min: 20, max: 22, mean: 21, count: 2 }])
      const exact = await readSeries(ingest.readingRange, { ...ask, maxReadings: 9 })
      expect(exact).toMatchObject({ scanned: 9, truncated: false })
      let visited = 0
      const paged = await ingest.readingRange.scan(
        'temp-1',
        { receivedFrom: 0, receivedTo: Date.now() + 60_000, max: 8, pageSize: 2 },
        () => visited++,
      )
      expect(paged).toEqual({ scanned: 8, truncated: true })
      expect(visited).toBe(8)
    } finally {
      await redis.quit()
    }
  })
})
