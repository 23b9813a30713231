// Idle devices for the suite's rss step, in a process of their own (its own open-files limit, its own
// heap): node --import tsx bench/idle-fleet.ts <port> <first> <count> <width> <concurrency>, secret in
// BENCH_SECRET.
// Prints "connected N", "failed N <reason>" and "done N <ms>" lines; holds until its stdin closes.
import { performance } from 'node:perf_hooks'
import mqtt, { type MqttClient } from 'mqtt'

const [port, first, count, width, concurrency = 20] = process.argv.slice(2, 7).map(Number)
const secret = process.env.BENCH_SECRET ?? ''
if (![port, first, count, width, concurrency].every((n) => Number.isInteger(n) && (n ?? 0) > 0) || !secret) {
  console.error(
    'usage: BENCH_SECRET=… node --import tsx bench/idle-fleet.ts <port> <first> <count> <width> <concurrency>',
  )
  process.exit(2)
}

const heartbeatMs = 60_000
const clients: MqttClient[] = []
const timers: NodeJS.Timeout[] = []
let connected = 0
let failed = 0
let next = 0
let lastReport = 0
let closing = false

function report(force = false): void {
  const now = performance.now()
  if (!force && now - lastReport < 500) return
  lastReport = now
  console.log(`connected ${connected}`)
}

async function connectOne(index: number): Promise<void> {
  const id = `bench-${String(index).padStart(width ?? 1, '0')}`
  try {
    const client = await mqtt.connectAsync(
      `mqtt://127.0.0.1:${port}`,
      {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 120_000,
        keepalive: 90,
      },
      false,
    )
    client.on('error', () => {})
    clients.push(client)
    connected++
    // A heartbeat a minute, the first at a random point of it, so they do not all come at once.
    const beat = () => client.publish(`devices/${id}/telemetry`, '{"type":"heartbeat"}', { qos: 1 })
    const start = setTimeout(() => {
      beat()
      timers.push(setInterval(beat, heartbeatMs))
    }, Math.random() * heartbeatMs)
    timers.push(start)
  } catch (error) {
    failed++
    if (failed <= 3 || failed % 100 === 0)
      console.log(`failed ${failed} ${error instanceof Error ? error.message : String(error)}`)
  }
  report()
}

function stop(): void {
  if (closing) return
  closing = true
  for (const timer of timers) clearTimeout(timer)
  for (const client of clients) client.end(true)
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// The bench holds our stdin open: when it ends, however it ended, so do we.
process.stdin.on('end', stop)
process.stdin.resume()

const started = performance.now()
const last = (first ?? 1) + (count ?? 0)
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (!closing) {
      const index = (first ?? 1) + next++
      if (index >= last) return
      await connectOne(index)
    }
  }),
)
report(true)
console.log(`done ${connected} ${Math.round(performance.now() - started)} failed ${failed}`)
