import { parseDuration } from '../config/index.ts'
import type { DeviceKind } from '../domain/index.ts'
import { defaultHeatCelsius } from './behaviours.ts'
import type { DeviceChange } from './device-timeline.ts'
import type { SimDevice } from './sim-device.ts'
import { SimulatorError } from './simulator-error.ts'

export const scenarioNames = [
  'door-held-open',
  'door-forced',
  'zone-heat',
  'device-heat',
  'aed-taken',
  'sensor-silent',
  'zone-power-cut',
] as const
export type ScenarioName = (typeof scenarioNames)[number]

export type ScenarioOptions = { celsius?: number }

type ScenarioSpec = {
  /** The kinds it acts on (null: every kind); a zone scenario takes every such device of the zone at once. */
  kinds: readonly DeviceKind[] | null
  scope: 'device' | 'zone'
  start: (options: ScenarioOptions) => DeviceChange
  end: DeviceChange
  summary: string
}

// Issue 7: the faults a demo starts on cue, and what `end` puts right so the ticket verifies resolved.
export const scenarioSpecs: Record<ScenarioName, ScenarioSpec> = {
  'door-held-open': {
    kinds: ['door'],
    scope: 'device',
    start: () => ({ type: 'door-hold' }),
    end: { type: 'door-release' },
    summary: 'a door opened with a badge stays open; end closes it',
  },
  'door-forced': {
    kinds: ['door'],
    scope: 'device',
    start: () => ({ type: 'door-force' }),
    end: { type: 'door-release' },
    summary: 'a door opens with no badge; end closes it',
  },
  'zone-heat': {
    kinds: ['temperature'],
    scope: 'zone',
    start: ({ celsius = defaultHeatCelsius }) => ({ type: 'heat', target: celsius }),
    end: { type: 'cool' },
    summary: `a zone's temperatures climb 0.5 °C a reading up to ${defaultHeatCelsius} °C; end lets them fall back`,
  },
  'device-heat': {
    kinds: ['temperature'],
    scope: 'device',
    start: ({ celsius = defaultHeatCelsius }) => ({ type: 'heat', target: celsius }),
    end: { type: 'cool' },
    summary: 'one thermometer climbs like zone-heat (its neighbours stay normal); end lets it fall back',
  },
  'aed-taken': {
    kinds: ['aed'],
    scope: 'device',
    start: () => ({ type: 'aed-take' }),
    end: { type: 'aed-return' },
    summary: 'an AED leaves its open cabinet; end puts it back',
  },
  'sensor-silent': {
    kinds: null,
    scope: 'device',
    start: () => ({ type: 'power-off' }),
    end: { type: 'power-on' },
    summary: 'a device stops publishing and drops its connection; end brings it back',
  },
  'zone-power-cut': {
    kinds: null,
    scope: 'zone',
    start: () => ({ type: 'power-off' }),
    end: { type: 'power-on' },
    summary: "all of a zone's devices drop off together; end reconnects them",
  },
}

export function isScenarioName(name: string): name is ScenarioName {
  return (scenarioNames as readonly string[]).includes(name)
}

/**
 * The devices a scenario acts on: a device id, a zone id or a site id; without a target, the first
 * device (or zone) in site-file order that fits.
 */
export function scenarioDevices(
  name: ScenarioName,
  target: string | undefined,
  devices: readonly SimDevice[],
) {
  const spec = scenarioSpecs[name]
  const fits = (device: SimDevice) => spec.kinds === null || spec.kinds.includes(device.kind)
  const fitting = devices.filter(fits)
  if (target === undefined) {
    const first = fitting[0]
    if (!first) throw noTarget(name, `no device of kind ${spec.kinds?.join(' or ')}`)
    return spec.scope === 'device' ? [first] : fitting.filter((d) => d.zone === first.zone)
  }
  const device = devices.find((d) => d.id === target)
  if (device) {
    if (!fits(device))
      throw noTarget(name, `${target} is a ${device.kind} device; it acts on ${spec.kinds?.join(' or ')}`)
    return spec.scope === 'device' ? [device] : fitting.filter((d) => d.zone === device.zone)
  }
  const inZone = fitting.filter((d) => d.zone === target)
  if (inZone.length > 0) return inZone
  const inSite = fitting.filter((d) => d.site === target)
  if (inSite.length > 0) return inSite
  throw noTarget(name, `no simulated device, zone or site ${target} it can act on`)
}

const noTarget = (name: string, why: string) =>
  new SimulatorError({ code: 'SIM_UNKNOWN_TARGET', message: `Scenario ${name}: ${why}` })

/** A scenario started on cue: at `atMs` after the run starts, ended at `endMs` when given. */
export type ScenarioCue = { name: ScenarioName; atMs: number; endMs?: number; target?: string }

/** Parses `name@offset[-end][:target]`, e.g. `door-forced@30s:door-lounge-1` or `zone-heat@1m-4m:t2-lounges`. */
export function parseScenarioCue(text: string): ScenarioCue {
  const match = /^([a-z-]+)@([0-9.]+(?:ms|s|m|h))(?:-([0-9.]+(?:ms|s|m|h)))?(?::(.+))?$/.exec(text.trim())
  const bad = (why: string) =>
    new SimulatorError({
      code: 'SIM_UNKNOWN_SCENARIO',
      message: `--scenario ${text}: ${why} (expected name@offset[-end][:target], e.g. door-forced@30s:door-1)`,
    })
  if (!match) throw bad('not understood')
  const [, name = '', at = '', end, target] = match
  if (!isScenarioName(name)) throw bad(`unknown scenario; one of ${scenarioNames.join(', ')}`)
  const atMs = parseDuration(at) ?? 0
  const endMs = end === undefined ? undefined : (parseDuration(end) ?? 0)
  if (endMs !== undefined && endMs <= atMs) throw bad('the end comes before the start')
  return { name, atMs, ...(endMs === undefined ? {} : { endMs }), ...(target ? { target } : {}) }
}
