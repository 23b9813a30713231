import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import type { Reading } from '../../domain/index.ts'
import { dryRun } from '../../rules/index.ts'

const { site: demo } = loadConfig({ env: {} })
// Only the rule under test, so the others (silence above all) stay out of the way.
const worldWith = (ruleId: string) => ({ ...demo, rules: demo.rules.filter((rule) => rule.id === ruleId) })

// 2026-11-23 is a Monday; 10:00 in Paris is 09:00 UTC.
const t0 = Date.UTC(2026, 10, 23, 9, 0, 0)
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString()
const temp = (device: string, seconds: number, celsius: number): Reading => ({
  device,
  type: 'temperature',
  celsius,
  ts: at(seconds),
})
const door = (seconds: number, open: boolean, badge?: string, ts = at(seconds)): Reading =>
  badge === undefined
    ? { device: 'door-gate-1', type: 'door', open, ts }
    : { device: 'door-gate-1', type: 'door', open, badge, ts }

const opened = (result: ReturnType<typeof dryRun>) => result.incidents.map((i) => `${i.rule}@${i.openedAt}`)

describe('threshold with hysteresis and for:', () => {
  const world = worldWith('lounge-too-hot') // above 26, clearBelow 25.5, for 60s

  it('fires once the condition held for the whole period', () => {
    const result = dryRun({
      world,
      readings: [
        temp('temp-lounge-1', 0, 27),
        temp('temp-lounge-1', 30, 27.5),
        temp('temp-lounge-1', 61, 28),
      ],
    })
    expect(opened(result)).toEqual([`lounge-too-hot@${at(60)}`])
    expect(result.incidents[0]).toMatchObject({
      device: 'temp-lounge-1',
      zone: 't2-lounges',
      severity: 'major',
      updates: 1,
    })
  })

  it('does not fire when the period falls just short', () => {
    const readings = [
      temp('temp-lounge-1', 0, 27),
      temp('temp-lounge-1', 59, 26),
      temp('temp-lounge-1', 120, 26),
    ]
    expect(opened(dryRun({ world, readings }))).toEqual([])
  })

  it('does not clear inside the hysteresis band, and clears below it', () => {
    const readings = [
      temp('temp-lounge-1', 0, 27),
      temp('temp-lounge-1', 60, 27),
      temp('temp-lounge-1', 90, 25.6),
      temp('temp-lounge-1', 120, 25.4),
    ]
    const [incident] = dryRun({ world, readings }).incidents
    expect(incident?.clearedAt).toBe(at(120))
  })

  it('opens one incident for 50 flapping readings', () => {
    const readings = [temp('temp-lounge-1', 0, 27)]
    for (let i = 1; i <= 50; i++) readings.push(temp('temp-lounge-1', 60 + i, i % 2 ? 27.5 : 25.8))
    const { incidents } = dryRun({ world, readings })
    expect(incidents).toHaveLength(1)
    expect(incidents[0]?.updates).toBe(25)
  })

  it('handles below/clearAbove the same way', () => {
    const readings = [
      temp('temp-gate-1', 0, 15),
      temp('temp-gate-1', 301, 15.5),
      temp('temp-gate-1', 400, 16.5),
      temp('temp-gate-1', 500, 17.5),
    ]
    const result = dryRun({ world: worldWith('gate-too-cold'), readings })
    expect(result.incidents.map((i) => [i.openedAt, i.clearedAt])).toEqual([[at(300), at(500)]])
  })
})

describe('state held too long and unauthorised state', () => {
  it('fires door-held-open at 2 minutes, not before', () => {
    const world = worldWith('door-held-open')
    expect(opened(dryRun({ world, readings: [door(0, true, 'b1'), door(119, false)] }))).toEqual([])
    expect(opened(dryRun({ world, readings: [door(0, true, 'b1')], until: t0 + 120_000 }))).toEqual([
      `door-held-open@${at(120)}`,
    ])
  })

  it('fires door-forced without a badge or out of hours, not with a badge in hours', () => {
    const world = worldWith('door-forced') // accessHours 05:00-23:30 Europe/Paris
    expect(opened(dryRun({ world, readings: [door(0, true, 'b-17')] }))).toEqual([])
    expect(opened(dryRun({ world, readings: [door(0, true)] }))).toEqual([`door-forced@${at(0)}`])
    const night = new Date(Date.UTC(2026, 10, 23, 23, 0, 0)).toISOString() // 00:00 in Paris
    expect(dryRun({ world, readings: [door(0, true, 'b-17', night)] }).incidents).toHaveLength(1)
  })

  it('fires aed-removed at once', () => {
    const reading: Reading = {
      device: 'aed-security-1',
      type: 'aed',
      present: false,
      cabinetOpen: true,
      ts: at(0),
    }
    expect(opened(dryRun({ world: worldWith('aed-removed'), readings: [reading] }))).toEqual([
      `aed-removed@${at(0)}`,
    ])
  })
})

describe('silence and zone groups', () => {
  it('fires sensor-silent for a device quiet for 5 minutes, and not for one that spoke', () => {
    const world = {
      ...worldWith('sensor-silent'),
      devices: demo.devices.filter((d) => d.id === 'temp-lounge-1' || d.id === 'temp-lounge-2'),
    }
    const readings = [
      temp('temp-lounge-1', 0, 20),
      temp('temp-lounge-2', 0, 20),
      temp('temp-lounge-2', 240, 20),
      temp('temp-lounge-2', 480, 20),
    ]
    expect(dryRun({ world, readings }).incidents.map((i) => [i.device, i.openedAt])).toEqual([
      ['temp-lounge-1', at(300)],
    ])
  })

  it('opens one zone incident when 3 lounge devices fall silent together, none for 2', () => {
    const lounge = demo.devices.filter((d) => d.zone === 't2-lounges').map((d) => d.id)
    const world = { ...worldWith('zone-outage'), devices: demo.devices.filter((d) => lounge.includes(d.id)) }
    const speaking = (ids: string[], seconds: number) => ids.map((id) => temp(id, seconds, 20))
    const three = [
      ...speaking(lounge, 0),
      ...speaking(lounge.slice(3), 50),
      ...speaking(lounge.slice(3), 100),
    ]
    const result = dryRun({ world, readings: three })
    expect(result.incidents.map((i) => [i.correlationKey, i.zone, i.device])).toEqual([
      ['zone-outage:zone:t2-lounges', 't2-lounges', null],
    ])

    const two = [...speaking(lounge, 0), ...speaking(lounge.slice(2), 50), ...speaking(lounge.slice(2), 100)]
    expect(dryRun({ world, readings: two }).incidents).toEqual([])
  })
})
