import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { type Spread, spread } from './latency-step.ts'

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

/**
 * Times each route, one request after the other, with the event loop's delay watched meanwhile: vigie
 * runs in this process, so a request that holds the loop shows as a stall as long as it held it.
 */
export async function measureRoutes({
  baseUrl,
  token,
  routes,
  repeats = 100,
}: {
  baseUrl: string
  token: string
  routes: RouteProbe[]
  repeats?: number
}): Promise<RouteFigure[]> {
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const figures: RouteFigure[] = []
  try {
    for (const route of routes) {
      const times: number[] = []
      let status = 0
      delay.reset()
      for (let i = 0; i < (route.repeats ?? repeats); i++) {
        const started = performance.now()
        const res = await fetch(`${baseUrl}${route.path}`, {
          method: route.method ?? 'GET',
          headers: {
            authorization: `Bearer ${token}`,
            ...(route.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
        })
        await res.arrayBuffer()
        times.push(performance.now() - started)
        status = res.status
      }
      figures.push({ name: route.name, status, stallMs: delay.max / 1e6, ...spread(times) })
    }
  } finally {
    delay.disable()
  }
  return figures
}
