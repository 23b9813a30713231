import type { Device } from '../config/index.ts'
import { type Ingest, validateReading } from '../ingest/index.ts'
import { createRandom, type Random } from './seeded-random.ts'

// Appends in flight at once: a whole number of the reading log's 256-reading batches, so none waits
// for its linger timer.
const window = 256 * 32

/** A quiet fleet's reading: in range, doors opened with a badge, cabinets closed with their AED. */
function payloadOf(device: Device, seq: number, at: number, random: Random): Record<string, unknown> {
  switch (device.kind) {
    case 'temperature': {
      const daily = Math.sin(((at % 86_400_000) / 86_400_000) * 2 * Math.PI)
      return {
        type: 'temperature',
        celsius: Math.round((21.5 + 1.5 * daily + random.between(-1, 1)) * 10) / 10,
        seq,
      }
    }
    case 'door': {
      const open = seq % 2 === 1
      return { type: 'door', open, ...(open && { badge: `badge-${random.int(1000, 9999)}` }), seq }
    }
    case 'aed':
      return { type: 'aed', present: true, cabinetOpen: false, battery: 100 - (seq % 60), seq }
    default:
      return { type: 'heartbeat', battery: 100 - (seq % 80), seq }
  }
}

/**
 * The readings log as production leaves it: `count` readings, the fleet reporting in turn at a modest
 * rate (each device every `everyMs`) up to `end`, validated by ingest's parser and appended by ingest's
 * own writer, which trims each shard and each device's stream to its retention.
 */
export async function writeReadings({
  ingest,
  devices,
  count,
  end,
  everyMs,
  seed,
  onProgress,
}: {
  ingest: Ingest
  devices: Device[]
  count: number
  end: number
  everyMs: number
  seed: string
  onProgress?: (written: number) => void
}): Promise<number> {
  if (devices.length === 0 || count === 0) return 0
  const random = createRandom(`${seed}:readings`)
  const step = everyMs / devices.length
  let appended = 0
  for (let first = 0; first < count; first += window) {
    const batch: Promise<boolean>[] = []
    for (let j = first; j < Math.min(count, first + window); j++) {
      const device = devices[j % devices.length] as Device
      const at = Math.round(end - (count - 1 - j) * step)
      const seq = Math.floor(j / devices.length)
      const parsed = validateReading({
        deviceId: device.id,
        kind: device.kind,
        json: { ...payloadOf(device, seq, at, random), ts: at },
        receivedAt: at,
      })
      if (!parsed.ok) throw new Error(`history reading for ${device.id} refused: ${parsed.reason}`)
      batch.push(ingest.readings.append(parsed.reading, at))
    }
    for (const fresh of await Promise.all(batch)) if (fresh) appended++
    onProgress?.(appended)
  }
  return appended
}
