// Devices for the reconnect bench, in a process of their own (its own open-files limit, its own heap):
// node --import tsx bench/reconnect-fleet.ts <portA> <portB> <first> <count> <width> <concurrency>, secret in
// BENCH_SECRET. Connects every device to node A (at most <concurrency> logins at once); when a device's
// connection to A closes it reconnects to node B at once, and after a refusal or a timeout again a second
// later (mqtt.js's default reconnect period), as a real fleet does.
// Prints "on-a N", "on-b N <epoch ms of the last> <logins tried on B> <refused or timed out>" and
// "why N <reason>" lines; holds until its stdin closes.
import { connect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

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
// As mqtt.js's default: a login not answered within 30 s is given up and tried again.
const connectTimeoutMs = 30_000
const sockets = new Set<Socket>()
let onA = 0
let onB = 0
let lastOnB = 0
let attempts = 0
let refused = 0
// Why logins on B failed: "connack-3" (busy), "timeout", "closed" before the CONNACK, or a socket error's code.
const reasons = new Map<string, number>()
let closing = false

const idOf = (index: number) => `bench-${String(index).padStart(width ?? 1, '0')}`
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * One MQTT login over a bare socket (the devices share the node's cores here, so they should cost it as
 * little as they can); resolves with the open socket on CONNACK 0, rejects with why otherwise.
 */
function login(port: number, id: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const parser = mqttPacket.parser()
    let settled = false
    const fail = (reason: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      reject(new Error(reason))
    }
    const timer = setTimeout(() => fail('timeout'), connectTimeoutMs)
    parser.on('packet', (packet) => {
      if (settled || packet.cmd !== 'connack') return
      if (packet.returnCode !== 0) return fail(`connack-${packet.returnCode}`)
      settled = true
      clearTimeout(timer)
      resolve(socket)
    })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message))
    socket.on('close', () => fail('closed'))
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 1800,
        clientId: id,
        username: id,
        password: Buffer.from(secret),
      }),
    )
  })
}

/** Logs in until it succeeds (or the process closes); a refusal (CONNACK 3, busy) or a timeout waits first. */
async function connectTo(port: number, id: string, counted: boolean): Promise<Socket | null> {
  while (!closing) {
    if (counted) attempts++
    try {
      const socket = await login(port, id)
      sockets.add(socket)
      return socket
    } catch (error) {
      if (counted) {
        refused++
        const reason = (error as Error).message
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
    sockets.delete(onNodeA)
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
  for (const socket of sockets) socket.destroy()
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
