import type { SiteFile } from '../config/index.ts'
import type { DeviceKind, Reading } from '../domain/index.ts'
import { validateReading } from '../ingest/index.ts'
import { type DryRunIncident, dryRun } from '../rules/index.ts'

export type ReplayResult = {
  incidents: DryRunIncident[]
  /** Readings refused, by their position in the input, with the same reasons ingest would give. */
  rejected: { index: number; reason: string }[]
}

type World = Pick<SiteFile, 'sites' | 'devices' | 'rules'>

/** Validates raw readings as ingest would, then replays them through the rules; writes nothing. */
export function replayReadings({
  world,
  readings,
  until,
  now,
}: {
  world: World
  readings: unknown[]
  until?: number
  /** Stands for the receipt of a reading whose ts cannot be read. */
  now: number
}): ReplayResult {
  const kinds = new Map(world.devices.map((device) => [device.id, device.kind]))
  const valid: Reading[] = []
  const rejected: ReplayResult['rejected'] = []
  readings.forEach((raw, index) => {
    const outcome = checkOne(raw, kinds, now)
    if (typeof outcome === 'string') rejected.push({ index, reason: outcome })
    else valid.push(outcome)
  })
  const { incidents } = dryRun(
    until === undefined ? { world, readings: valid } : { world, readings: valid, until },
  )
  return { incidents, rejected }
}

function checkOne(raw: unknown, kinds: Map<string, DeviceKind>, now: number): Reading | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected a JSON object'
  const { device, ...payload } = raw as Record<string, unknown>
  if (typeof device !== 'string') return 'device: required (string)'
  if (payload.ts === undefined) return 'ts: required to replay a reading'
  const kind = kinds.get(device)
  if (!kind) return `device: no device "${device}" in the site file`
  // The reading's own time stands for its receipt, so the plausibility window follows the replayed clock.
  const at = typeof payload.ts === 'number' ? payload.ts : Date.parse(String(payload.ts))
  const parsed = validateReading({
    deviceId: device,
    kind,
    json: payload,
    receivedAt: Number.isNaN(at) ? now : at,
  })
  return parsed.ok ? parsed.reading : parsed.reason
}
