import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../api/index.ts'
import { ruleSchema } from '../../config/index.ts'
import { createIncidentStore, ruleKeys } from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const viewerKey = 'series-incidents-viewer-0123456789'

const device = (id: string) =>
  `  - { id: ${id}, kind: temperature, site: s1, zone: lounges, secret: "secret-${id}", location: { lat: 49.0, lon: 2.57 } }`
const site = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: lounges, name: Lounges }] }]
devices:
${['temp-1', 'temp-2', 'temp-3', 'temp-4'].map(device).join('\n')}
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }]
rules:
  - { id: too-hot, match: { kind: temperature }, condition: { field: celsius, above: 26, clearBelow: 25 }, severity: major, skill: hvac }
  - { id: zone-hot, match: { zone: lounges }, condition: { field: celsius, above: 40, clearBelow: 35 }, group: { by: zone, atLeast: 2, within: 10m }, severity: critical, skill: hvac }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
apiKeys: [{ name: wallboard, keyHash: "${hashApiKey(viewerKey)}", role: viewer }]
`

type Marked = { id: string; rule: string; severity: string; openedAt: string; clearedAt: string | null }
type Series = { incidents: Marked[]; incidentsTruncated: boolean; buckets: unknown[] }

let world: TestService
// The last whole minute but one: readings dated in it are received now, within the reader's slack.
const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 60_000
const at = (ms: number) => new Date(t0 + ms).toISOString()
const s = 1000

async function series(device: string, from: number, to: number): Promise<Series> {
  const res = await fetch(`${world.publicUrl}/api/devices/${device}/series?from=${at(from)}&to=${at(to)}`, {
    headers: { authorization: `Bearer ${viewerKey}` },
  })
  const body = await res.json()
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body as Series
}

beforeAll(async () => {
  world = await startTestService({ site })
  // temp-1 raises too-hot at +10 s and clears it at +50 s; temp-2 raises it at +20 s and stays hot.
  await world.publish(
    'temp-1',
    { type: 'temperature', celsius: 20, ts: at(0) },
    { type: 'temperature', celsius: 30, ts: at(10 * s) },
    { type: 'temperature', celsius: 20, ts: at(50 * s) },
  )
  await world.publish('temp-2', { type: 'temperature', celsius: 31, ts: at(20 * s) })
  // Two lounges devices above 40 within the window: the zone opens one zone-wide incident (no device).
  await world.publish('temp-3', { type: 'temperature', celsius: 45, ts: at(30 * s) })
  await world.publish('temp-4', { type: 'temperature', celsius: 45, ts: at(31 * s) })
  await waitFor(
    async () => {
      const { items } = await world.api<{ items: { rule: string; clearedAt: string | null }[] }>(
        '/api/incidents?limit=50',
      )
      return (
        items.some((i) => i.rule === 'zone-hot') &&
        items.filter((i) => i.rule === 'too-hot' && i.clearedAt !== null).length === 1 &&
        items.filter((i) => i.rule === 'too-hot').length === 4
      )
    },
    { what: 'the zone incident, four too-hot incidents and the clearing of temp-1', timeoutMs: 20_000 },
  )
}, 60_000)

afterAll(async () => {
  await world?.close()
})

describe('GET /api/devices/:id/series marks the incidents of the device', () => {
  it('shows an incident a reading raised and another cleared, with its opening and clearing times', async () => {
    const answer = await series('temp-1', 0, 60 * s)
    expect(answer.incidents).toEqual([
      {
        id: expect.any(String),
        rule: 'too-hot',
        severity: 'major',
        openedAt: at(10 * s),
        clearedAt: at(50 * s),
      },
    ])
    expect(answer.incidentsTruncated).toBe(false)
    // Opened before the window and cleared inside it, or spanning it: it overlaps, so it is marked.
    expect((await series('temp-1', 20 * s, 30 * s)).incidents.map((i) => i.openedAt)).toEqual([at(10 * s)])
    expect((await series('temp-1', 45 * s, 55 * s)).incidents).toHaveLength(1)
  })

  it('leaves out an incident outside the window, before or after it', async () => {
    expect((await series('temp-1', 51 * s, 120 * s)).incidents).toEqual([])
    expect((await series('temp-1', -120 * s, 9 * s)).incidents).toEqual([])
    expect((await series('temp-1', -3_600 * s, 10 * s)).incidents).toHaveLength(1)
  })

  it("shows an incident still active with clearedAt null, and never another device's", async () => {
    const two = await series('temp-2', 0, 60 * s)
    expect(two.incidents).toEqual([
      { id: expect.any(String), rule: 'too-hot', severity: 'major', openedAt: at(20 * s), clearedAt: null },
    ])
    // Long after its opening, still active: read from the device's active set, past the lookback.
    expect((await series('temp-2', 40 * 86_400_000, 40 * 86_400_000 + 60 * s)).incidents).toHaveLength(1)
    const one = await series('temp-1', 0, 60 * s)
    expect(one.incidents.map((i) => i.id)).not.toContain(two.incidents[0]?.id)
  })

  it('does not mark a zone-wide incident on its devices', async () => {
    const three = await series('temp-3', 0, 60 * s)
    expect(three.incidents.map((i) => i.rule)).toEqual(['too-hot'])
    const { items } = await world.api<{ items: { rule: string; device: string | null }[] }>(
      '/api/incidents?limit=50',
    )
    expect(items.find((i) => i.rule === 'zone-hot')?.device).toBeNull()
  })
})

describe("a device's incident index", () => {
  it('keeps the newest 1,000 of a device, caps an answer at its limit and says when either cut it', async () => {
    const { redis, prefix } = await openTestRedis()
    try {
      const keys = ruleKeys(prefix)
      const incidents = createIncidentStore({ redis, keys })
      const rule = ruleSchema.parse({
        id: 'flap',
        condition: { field: 'open', equals: true },
        severity: 'minor',
      })
      const start = Date.parse('2026-11-01T00:00:00Z')
      const minute = 60_000
      const place = { rule, correlationKey: 'flap:bulk-1', site: 's1', zone: 'z', device: 'bulk-1' }
      for (let i = 0; i < 1005; i++) {
        await incidents.raise(place, start + i * minute, true)
        await incidents.clear(place.correlationKey, start + i * minute + 30_000, false)
      }
      await incidents.raise({ ...place, device: 'other', correlationKey: 'flap:other' }, start, true)
      expect(await redis.zcard(keys.incidentsOf('bulk-1'))).toBe(1000)
      // The five oldest left the index in the step that opened the newest.
      const [, oldest] = await redis.zrange(keys.incidentsOf('bulk-1'), 0, 0, 'WITHSCORES')
      expect(Number(oldest)).toBe(start + 5 * minute)
      expect(await redis.smembers(keys.activeIncidentsOf('bulk-1'))).toEqual([])
      expect(await redis.smembers(keys.activeIncidentsOf('other'))).toHaveLength(1)

      const all = await incidents.ofDevice('bulk-1', { from: start, to: start + 2000 * minute, limit: 200 })
      expect(all.incidents).toHaveLength(200)
      expect(all.incidents[0]?.openedAt).toBe(new Date(start + 5 * minute).toISOString())
      expect(all.truncated).toBe(true)

      const newest = await incidents.ofDevice('bulk-1', {
        from: start + 995 * minute,
        to: start + 2000 * minute,
        limit: 200,
      })
      expect(newest.incidents.map((i) => Date.parse(i.openedAt) - start)).toEqual(
        Array.from({ length: 10 }, (_, k) => (995 + k) * minute),
      )
      expect(newest.truncated).toBe(false)
      // A window the index let go of: nothing kept there, and the answer says it may be missing some.
      const gone = await incidents.ofDevice('bulk-1', { from: start, to: start + 4 * minute, limit: 200 })
      expect(gone).toEqual({ incidents: [], truncated: true })
    } finally {
      await redis.quit()
    }
  }, 60_000)
})
