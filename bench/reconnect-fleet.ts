// Devices for the reconnect bench, in a process of their own (its own open-files limit, its own heap):
// node --import tsx bench/reconnect-fleet.ts <portA> <portB> <first> <count> <width> <concurrency>, secret in
// BENCH_SECRET. Connects every device to node A (at most <concurrency> logins at once); when a device's
// connection to A closes it reconnects to node B at once, and after a refusal or a timeout again a second
// later (mqtt.js's default reconnect period), as a real fleet does.
// Prints "on-a N", "on-b N <epoch ms of the last> <logins tried on B> <refused or timed out>" and
// "why N <reason>" lines; holds until its stdin closes.
import mqtt, { type MqttClient } from 'mqtt'

const [portA, portB, first, count, width, concurrency] = process.argv.slice(2, 8).map(Number)
const secret = process.env.BENCH_SECRET ?? ''
if (
  ![portA, portB, first, count, width, concurrency].every((n) => Number.isInteger(n) && (n ?? 0) > 0) ||
  !secret
) {
  console.error(
    'usage: BENCH_SECRET=… node --import tsx bench/reconnect-fleet.ts <portA> <portB> <first> <count> <width> <concurrency>',
  )
  process.exit(2)
}

const retryMs = 1000
const clients = new Set<MqttClient>()
let onA = 0
let onB = 0
let lastOnB = 0
let attempts = 0
let refused = 0
// Why logins on B failed: the CONNACK code ("connack-3", busy) or the error's code (a timeout, a reset).
const reasons = new Map<string, number>()
let closing = false

const idOf = (index: number) => `bench-${String(index).padStart(width ?? 1, '0')}`
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Connects until it succeeds (or the process closes); a refusal (CONNACK 3, busy) or a timeout waits first. */
async function connectTo(port: number, id: string, counted: boolean): Promise<MqttClient | null> {
  while (!closing) {
    if (counted) attempts++
    try {
      const client = await mqtt.connectAsync(
        `mqtt://127.0.0.1:${port}`,
        {
          clientId: id,
          username: id,
          password: secret,
          reconnectPeriod: 0,
          connectTimeout: 30_000,
          keepalive: 120,
        },
        false,
      )
      client.on('error', () => {})
      clients.add(client)
      return client
    } catch (error) {
      if (counted) {
        refused++
        const code = (error as { code?: number | string }).code
        const reason = typeof code === 'number' ? `connack-${code}` : (code ?? (error as Error).message)
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
      }
      await pause(retryMs * (0.5 + Math.random()))
    }
  }
  return null
}

function reportB(): void {
  console.log(`on-b ${onB} ${lastOnB} ${attempts} ${refused}`)
  for (const [reason, n] of reasons) console.log(`why ${n} ${reason.replaceAll(' ', '-')}`)
}
const reporter = setInterval(() => {
  console.log(`on-a ${onA}`)
  reportB()
}, 250)

async function device(index: number): Promise<void> {
  const id = idOf(index)
  const onNodeA = await connectTo(portA ?? 0, id, false)
  if (!onNodeA) return
  onA++
  onNodeA.once('close', async () => {
    clients.delete(onNodeA)
    onNodeA.end(true)
    const onNodeB = await connectTo(portB ?? 0, id, true)
    if (!onNodeB) return
    onB++
    lastOnB = Date.now()
  })
}

function stop(): void {
  if (closing) return
  closing = true
  clearInterval(reporter)
  for (const client of clients) client.end(true)
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// The bench holds our stdin open: when it ends, however it ended, so do we.
process.stdin.on('end', stop)
process.stdin.resume()

let next = 0
const last = (first ?? 1) + (count ?? 0)
await Promise.all(
  Array.from({ length: concurrency ?? 1 }, async () => {
    while (!closing) {
      const index = (first ?? 1) + next++
      if (index >= last) return
      await device(index)
    }
  }),
)
