import { describe, expect, it } from 'vitest'
import { siteFileSchema } from '../../config/index.ts'
import { readingPayloadSchemas, readingTypesByKind } from '../../domain/index.ts'
import {
  createDeviceTimeline,
  createRandom,
  dailySwing,
  generateSite,
  localMinuteOfDay,
  type SimDevice,
  type SimReading,
  siteFileYaml,
} from '../../simulators/index.ts'

const [site] = siteFileSchema.parse({
  sites: [
    {
      id: 's1',
      name: 'Terminal',
      timezone: 'Europe/Paris',
      location: { lat: 49, lon: 2.57 },
      accessHours: '05:00-23:30',
    },
  ],
}).sites
if (!site) throw new Error('no site')

// Midnight in Paris, in winter (UTC+1).
const start = Date.UTC(2026, 0, 12, 23, 0)
const days = 3

const device = (id: string, kind: SimDevice['kind']): SimDevice => ({
  id,
  kind,
  site: 's1',
  zone: 'z1',
  secret: `secret-${id}`,
  location: null,
})

function readingsOf(sim: SimDevice, { readingEveryMs = 300_000, seed = 'seed' } = {}): SimReading[] {
  const timeline = createDeviceTimeline({
    device: sim,
    site: site as NonNullable<typeof site>,
    seed,
    startAt: start,
    pace: { readingEveryMs, heartbeatEveryMs: 600_000 },
    baseCelsius: 21,
  })
  return timeline.take(start + days * 86_400_000)
}

const localHour = (ts: number) => Math.floor(localMinuteOfDay(ts, 'Europe/Paris') / 60)

describe('temperature', () => {
  const readings = readingsOf(device('t1', 'temperature')).flatMap((r) =>
    r.payload.type === 'temperature' ? [{ ts: r.payload.ts, celsius: r.payload.celsius }] : [],
  )

  it('swings once a day, coolest near 05:00 and warmest near 15:00 site time', () => {
    expect(dailySwing(5 * 60)).toBeCloseTo(-1)
    expect(dailySwing(15 * 60)).toBeCloseTo(1)
    const byHour = Array.from({ length: 24 }, (_, hour) => {
      const inHour = readings.filter((r) => localHour(r.ts) === hour).map((r) => r.celsius)
      return inHour.reduce((a, b) => a + b, 0) / inHour.length
    })
    const coolest = byHour.indexOf(Math.min(...byHour))
    const warmest = byHour.indexOf(Math.max(...byHour))
    expect(coolest).toBeGreaterThanOrEqual(4)
    expect(coolest).toBeLessThanOrEqual(6)
    expect(warmest).toBeGreaterThanOrEqual(14)
    expect(warmest).toBeLessThanOrEqual(16)
    expect((byHour[warmest] ?? 0) - (byHour[coolest] ?? 0)).toBeGreaterThan(2.6)
  })

  it('stays plausible: base ± 1.5 °C and a little noise, one decimal', () => {
    expect(readings.length).toBeGreaterThan(days * 200)
    for (const { celsius } of readings) {
      expect(celsius).toBeGreaterThan(21 - 1.5 - 0.6)
      expect(celsius).toBeLessThan(21 + 1.5 + 0.6)
      expect(Math.round(celsius * 10) / 10).toBe(celsius)
    }
  })
})

describe('doors', () => {
  const doors = ['d1', 'd2', 'd3', 'd4'].map((id) =>
    readingsOf(device(id, 'door'), { readingEveryMs: 3_600_000 }),
  )

  it('open only with a badge, only inside access hours, and close again seconds later', () => {
    let openings = 0
    for (const readings of doors) {
      const events = readings.flatMap((r) => (r.payload.type === 'door' ? [r.payload] : []))
      events.forEach((event, i) => {
        if (!event.open) return
        openings += 1
        expect(event.badge).toMatch(/^b-\d{3}$/)
        const minute = localMinuteOfDay(event.ts, 'Europe/Paris')
        expect(minute >= 5 * 60 && minute < 23 * 60 + 30).toBe(true)
        const closed = events.slice(i + 1).find((e) => !e.open)
        expect((closed?.ts ?? Number.POSITIVE_INFINITY) - event.ts).toBeLessThanOrEqual(12_000)
      })
    }
    // A few times an hour over 18.5 open hours, three days, four doors.
    expect(openings).toBeGreaterThan(4 * days * 18 * 2)
    expect(openings).toBeLessThan(4 * days * 19 * 8)
  })
})

describe('every payload', () => {
  it('is a documented reading of its kind, with only the documented fields, a ts and a rising seq', () => {
    for (const kind of ['temperature', 'door', 'aed', 'heartbeat-only'] as const) {
      const readings = readingsOf(device(`x-${kind}`, kind), { readingEveryMs: 60_000 })
      expect(readings.length).toBeGreaterThan(days * 24 * 60 * 0.9)
      let seq = 0
      for (const { payload } of readings) {
        expect(readingTypesByKind[kind]).toContain(payload.type)
        expect(readingPayloadSchemas[payload.type].safeParse(payload).success).toBe(true)
        expect(payload.seq).toBeGreaterThan(seq)
        seq = payload.seq
      }
    }
  })

  it('shows an AED present in its closed cabinet, its battery slowly falling', () => {
    const aed = readingsOf(device('a1', 'aed')).flatMap((r) => (r.payload.type === 'aed' ? [r.payload] : []))
    expect(aed.every((r) => r.present && !r.cabinetOpen)).toBe(true)
    const first = aed[0]?.battery ?? 0
    const last = aed.at(-1)?.battery ?? 0
    expect(last).toBeLessThan(first)
    expect(first - last).toBeLessThanOrEqual(5)
  })
})

describe('the seeded PRNG', () => {
  it('repeats for a seed and label, and differs for another label', () => {
    const draw = (label: string) => {
      const random = createRandom('s', label)
      return Array.from({ length: 5 }, () => random.next())
    }
    expect(draw('t1')).toEqual(draw('t1'))
    expect(draw('t2')).not.toEqual(draw('t1'))
    expect(draw('t1').every((x) => x >= 0 && x < 1)).toBe(true)
  })
})

describe('a generated site', () => {
  it('is a valid site file with zones of 50, a mix of kinds, and ids and secrets from the seed', () => {
    const { input, site: generated } = generateSite({ devices: 230, seed: 'g' })
    expect(generated.devices).toHaveLength(230)
    expect(generated.sites[0]?.zones).toHaveLength(5)
    const kinds = new Set(generated.devices.map((d) => d.kind))
    expect([...kinds].sort()).toEqual(['aed', 'door', 'temperature'])
    expect(generateSite({ devices: 230, seed: 'g' }).input).toEqual(input)
    expect(generateSite({ devices: 230, seed: 'h' }).site.devices[0]?.secret).not.toBe(
      generated.devices[0]?.secret,
    )
    const yaml = siteFileYaml(input)
    expect(yaml).toContain('id: zone-005-temp-026')
  })
})
