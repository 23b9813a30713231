import { performance } from 'node:perf_hooks'
import { parentPort } from 'node:worker_threads'

/** What the year step asks of its client thread: one route, sent `repeats` times after `warmup` untimed. */
export type RouteRun = {
  baseUrl: string
  token: string
  path: string
  method: 'GET' | 'POST'
  body?: string
  repeats: number
  warmup: number
}

// The requests are sent from this thread, so that building and reading them costs the measured loop nothing.
async function send({ baseUrl, token, path, method, body }: RouteRun): Promise<number> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  })
  await res.arrayBuffer()
  return res.status
}

parentPort?.on('message', async (run: RouteRun) => {
  for (let i = 0; i < run.warmup; i++) await send(run)
  const times: number[] = []
  let status = 0
  for (let i = 0; i < run.repeats; i++) {
    const started = performance.now()
    status = await send(run)
    times.push(performance.now() - started)
  }
  parentPort?.postMessage({ times, status })
})
