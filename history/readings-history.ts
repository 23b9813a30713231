import type { Device } from '../config/index.ts'
import type { Reading } from '../domain/index.ts'
import type { Ingest } from '../ingest/index.ts'
import { createRandom, type Random } from './seeded-random.ts'

// The reading log's batch: readings prepared 256 at a time leave at once, none waits for its linger timer.
const batchSize = 256
// Enough batches waiting in Redis that it never idles while Node prepares the next.
const batchesInFlight = 64

/** A quiet fleet's reading, as ingest's parser leaves it: in range, doors opened with a badge, AEDs in place. */
function readingOf(device: Device, seq: number, at: number, random: Random): Reading {
  const base = { seq, device: device.id, ts: new Date(at).toISOString() }
  switch (device.kind) {
    case 'temperature': {
      const daily = Math.sin(((at % 86_400_000) / 86_400_000) * 2 * Math.PI)
      const celsius = Math.round((21.5 + 1.5 * daily + random.between(-1, 1)) * 10) / 10
      return { type: 'temperature', celsius, ...base }
    }
    case 'door':
      return seq % 2 === 1
        ? { type: 'door', open: true, badge: `badge-${random.int(1000, 9999)}`, ...base }
        : { type: 'door', open: false, ...base }
    case 'aed':
      return { type: 'aed', present: true, cabinetOpen: false, battery: 100 - (seq % 60), ...base }
    default:
      return { type: 'heartbeat', battery: 100 - (seq % 80), ...base }
  }
}

/**
 * The readings log as production leaves it: `count` readings, the fleet reporting in turn at a modest
 * rate (each device every `everyMs`) up to `end`, appended by ingest's own writer, which trims each
 * shard and each device's stream to its retention. Built in the parser's shape rather than parsed: a
 * million readings through zod would cost more than writing them.
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
  const inFlight: Promise<void>[] = []
  for (let first = 0; first < count; first += batchSize) {
    const batch: Promise<boolean>[] = []
    for (let j = first; j < Math.min(count, first + batchSize); j++) {
      const device = devices[j % devices.length] as Device
      const at = Math.round(end - (count - 1 - j) * step)
      const seq = Math.floor(j / devices.length)
      batch.push(ingest.readings.append(readingOf(device, seq, at, random), at))
    }
    inFlight.push(
      Promise.all(batch).then((fresh) => {
        appended += fresh.filter(Boolean).length
        onProgress?.(appended)
      }),
    )
    if (inFlight.length >= batchesInFlight) await inFlight.shift()
  }
  await Promise.all(inFlight)
  return appended
}
