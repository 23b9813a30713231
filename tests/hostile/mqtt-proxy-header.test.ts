import { once } from 'node:events'
import { connect as connectTcp, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { answer, connectPacket, proxyV1, proxyV2 } from '../support/proxy-header.ts'

const connectTimeout = 1000

async function openSocket(port: number): Promise<Socket> {
  const socket = connectTcp({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  await once(socket, 'connect')
  return socket
}

/** Ms from now until the socket is closed by the broker. */
async function closedAfter(socket: Socket): Promise<number> {
  const started = performance.now()
  // Not once(): a reset (the broker closing on unread bytes) is an error event, and still a close.
  if (!socket.closed) await new Promise((resolve) => socket.once('close', resolve))
  return performance.now() - started
}

describe('hostile PROXY protocol headers (MQTT_PROXY_PROTOCOL=on)', () => {
  let harness: BrokerHarness
  beforeAll(async () => {
    harness = await startBrokerHarness({ mqttProxyProtocol: 'on', mqttConnectTimeout: connectTimeout })
  })
  afterAll(() => harness.close())

  /** A header never finished is closed at the connect timeout, however it trickles in. */
  it('closes a header that stops, and one sent a byte at a time, at the connect timeout', async () => {
    const before = harness.broker.figures().proxyRefused
    const stalled = await openSocket(harness.port)
    stalled.write('PROXY TCP4 127.0.0.')
    const trickled = await openSocket(harness.port)
    const line = proxyV1('127.0.0.7')
    let sent = 0
    // One byte every 50 ms: the whole line would take over 2 s, past the 1 s deadline.
    const trickle = setInterval(() => {
      if (sent < line.length - 1 && !trickled.closed) trickled.write(line.subarray(sent, ++sent))
    }, 50)
    const [stalledMs, trickledMs] = await Promise.all([closedAfter(stalled), closedAfter(trickled)])
    clearInterval(trickle)
    for (const ms of [stalledMs, trickledMs]) {
      expect(ms).toBeGreaterThan(connectTimeout - 100)
      expect(ms).toBeLessThan(connectTimeout + 1000)
    }
    expect(harness.broker.figures().proxyRefused).toBe(before + 2)
  })

  it('closes a v1 line that never ends once it passes 107 bytes, without waiting for the timeout', async () => {
    const socket = await openSocket(harness.port)
    const closed = closedAfter(socket)
    socket.write(`PROXY TCP4 ${'1'.repeat(120)}`)
    expect(await closed).toBeLessThan(connectTimeout / 2)
  })

  it('closes 100 KB headers, v1 and v2, on their first bytes', async () => {
    const before = harness.broker.figures().proxyRefused
    const v2Huge = Buffer.concat([proxyV2('127.0.0.7').subarray(0, 14), Buffer.from([0xff, 0xff])])
    for (const start of [Buffer.from('PROXY '), v2Huge]) {
      const socket = await openSocket(harness.port)
      const closed = closedAfter(socket)
      socket.write(Buffer.concat([start, Buffer.alloc(100_000, 0x41)]))
      expect(await closed).toBeLessThan(connectTimeout / 2)
    }
    expect(harness.broker.figures().proxyRefused).toBe(before + 2)
  })

  it('still takes a valid connection after all that', async () => {
    const socket = await openSocket(harness.port)
    const code = answer(socket)
    socket.write(Buffer.concat([proxyV1('127.0.0.7'), connectPacket('temp-1', 'secret-temp-1')]))
    expect(await code).toBe(0)
    socket.destroy()
  })
})
