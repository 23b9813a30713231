import { parentPort, workerData } from 'node:worker_threads'
import { replayReadings } from './replay-readings.ts'

/** The dry-run thread (api/dry-run-thread.ts): replays one request's readings at a time, off the event loop. */
const world = workerData as Parameters<typeof replayReadings>[0]['world']

parentPort?.on('message', (request: { id: number; readings: unknown[]; until?: number }) => {
  try {
    const { id, readings, until } = request
    const result = replayReadings(until === undefined ? { world, readings } : { world, readings, until })
    parentPort?.postMessage({ id, result })
  } catch (err) {
    parentPort?.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) })
  }
})
