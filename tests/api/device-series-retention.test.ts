import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../support/test-service.ts'

const site = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: lounges, name: Lounges }] }]
devices:
  - { id: temp-1, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-1" }
  - { id: temp-2, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-2" }
  - { id: temp-3, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-3" }
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }]
rules: []
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`

type Series = { keptSince: string | null; scanned: number }

let world: TestService
beforeAll(async () => {
  world = await startTestService({ site, env: { DEVICE_READINGS_RETENTION: '10' } })
}, 60_000)
afterAll(async () => {
  await world?.close()
})

const series = (device: string) => world.api<Series>(`/api/devices/${device}/series`)
const readings = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ type: 'temperature', celsius: 20 + i / 100 }))

describe('GET /api/devices/:id/series once retention trims the log', () => {
  it('says nothing was trimmed while the log holds every reading, and for a device that never sent one', async () => {
    await world.publish('temp-1', ...readings(5))
    expect(await series('temp-1')).toMatchObject({ keptSince: null, scanned: 5 })
    expect(await series('temp-3')).toMatchObject({ keptSince: null, scanned: 0 })
  })

  it('gives when the oldest kept reading arrived once older ones were trimmed', async () => {
    const before = Date.now()
    // Trimming is approximate (whole stream nodes): 130 readings past a bound of 10 drop some, never the newest 10.
    await world.publish('temp-2', ...readings(130))
    const answer = await series('temp-2')
    expect(answer.keptSince).not.toBeNull()
    const kept = Date.parse(answer.keptSince ?? '')
    expect(kept).toBeGreaterThanOrEqual(before - 1)
    expect(kept).toBeLessThanOrEqual(Date.now())
    expect(answer.scanned).toBeLessThan(130)
    expect(answer.scanned).toBeGreaterThanOrEqual(10)
  })
})
