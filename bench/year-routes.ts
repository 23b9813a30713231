import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { type Spread, spread } from './latency-step.ts'
import type { RouteRun } from './route-client-worker.ts'

/** One request the year step times: a name for the report, then what to send. */
export type RouteProbe = {
  name: string
  path: string
  method?: 'GET' | 'POST'
  body?: unknown
  /** Times it is sent; the p99 of fewer than 100 is their maximum. */
  repeats?: number
}

export type RouteFigure = Spread & {
  name: string
  status: number
  /** The event loop's longest delay while this route was being answered (ms). */
  stallMs: number
}

/** A thread that sends the requests (bench/route-client-worker.ts), loaded through tsx as the service is. */
function startClient(): Worker {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./route-client-worker.ts', import.meta.url).href)
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`, {
    eval: true,
  })
}

function runInClient(client: Worker, run: RouteRun): Promise<{ times: number[]; status: number }> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error)
    client.once('error', failed)
    client.once('message', (answer: { times: number[]; status: number }) => {
      client.off('error', failed)
      resolve(answer)
    })
    client.postMessage(run)
  })
}

/**
 * Times each route, one request after the other from a client thread, after `warmup` untimed requests
 * (a route's first call compiles its code), with this process's event loop watched meanwhile: vigie runs
 * here, so a request that holds the loop shows as a stall as long as it held it.
 */
export async function measureRoutes({
  baseUrl,
  token,
  routes,
  repeats = 100,
  warmup = 3,
}: {
  baseUrl: string
  token: string
  routes: RouteProbe[]
  repeats?: number
  warmup?: number
}): Promise<RouteFigure[]> {
  const client = startClient()
  const delay = monitorEventLoopDelay({ resolution: 1 })
  const figures: RouteFigure[] = []
  try {
    for (const route of routes) {
      const run: RouteRun = {
        baseUrl,
        token,
        path: route.path,
        method: route.method ?? 'GET',
        repeats: route.repeats ?? repeats,
        warmup,
        ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
      }
      delay.reset()
      delay.enable()
      const { times, status } = await runInClient(client, run)
      delay.disable()
      figures.push({ name: route.name, status, stallMs: delay.max / 1e6, ...spread(times) })
    }
  } finally {
    delay.disable()
    await client.terminate()
  }
  return figures
}
