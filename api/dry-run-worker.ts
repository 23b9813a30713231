import { parentPort, workerData } from 'node:worker_threads'
import { readDryRunBody } from './dry-run-body.ts'
import { replayReadings } from './replay-readings.ts'

/** The dry-run thread (api/dry-run-thread.ts): reads and replays one request's body at a time, off the event loop. */
const world = workerData as Parameters<typeof replayReadings>[0]['world']

parentPort?.on('message', ({ id, text, now }: { id: number; text: string; now: number }) => {
  try {
    const read = readDryRunBody(text)
    if ('invalid' in read) parentPort?.postMessage({ id, invalid: read.invalid })
    else parentPort?.postMessage({ id, json: JSON.stringify(replayReadings({ world, ...read.body, now })) })
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) })
  }
})
