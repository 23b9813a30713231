import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { oneDoorSite } from '../support/one-door-site.ts'
import { rawSocket, recordUntilClosed } from '../support/raw-http.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 15, "Hostile input and overload", WebSocket frames: frame limits, sockets per address, connect timeout.

const site = `${oneDoorSite}mqttAccounts: [{ username: watcher, password: "watcher-password-0123", subscribe: ["#"] }]
`
const adminKey = 'test-service-admin-key-0123456'
const MiB = 1024 * 1024

let world: TestService
let wsUrl = ''

beforeAll(async () => {
  world = await startTestService({
    site,
    adminKey,
    env: { WS_MAX_SOCKETS_PER_ADDRESS: '5', MQTT_CONNECT_TIMEOUT: '1s' },
  })
  wsUrl = world.publicUrl.replace(/^http/, 'ws')
})
afterAll(() => world.close())

/** A WebSocket handshake written by hand, so the test can then send frames no client library would. */
async function rawUpgrade(path: string, protocol: string, from: string) {
  const socket = await rawSocket(world.publicUrl, from)
  const record = recordUntilClosed(socket)
  socket.write(
    [
      `GET ${path} HTTP/1.1`,
      'Host: vigie',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Protocol: ${protocol}`,
      '',
      '',
    ].join('\r\n'),
  )
  await waitFor(() => record.received().includes('\r\n\r\n'), { what: 'the handshake answer' })
  expect(record.received()).toMatch(/^HTTP\/1\.1 101/)
  return { socket, record }
}

/** Declares one binary frame of `length` bytes and streams its payload until the server cuts the socket off. */
async function streamOneFrame(socket: Socket, closed: Promise<number>, length: number): Promise<number> {
  const header = Buffer.alloc(14)
  header[0] = 0x82 // FIN, binary
  header[1] = 0x80 | 127 // masked, 64-bit length follows; the mask is 4 zero bytes
  header.writeBigUInt64BE(BigInt(length), 2)
  socket.write(header)
  const chunk = Buffer.alloc(MiB)
  let sent = 0
  let isClosed = false
  void closed.then(() => {
    isClosed = true
  })
  while (sent < length && !isClosed && !socket.destroyed) {
    const size = Math.min(chunk.length, length - sent)
    const flowing = socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))
    sent += size
    if (!flowing) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed])
  }
  return sent
}

/** A /ws client (or /mqtt) from a chosen local address; resolves once open, or with the refusal's status. */
function openLive(from: string, path: '/ws' | '/mqtt' = '/ws'): Promise<WebSocket | number> {
  const socket =
    path === '/ws'
      ? new WebSocket(`${wsUrl}/ws`, { headers: { authorization: `Bearer ${adminKey}` }, localAddress: from })
      : new WebSocket(`${wsUrl}/mqtt`, 'mqtt', { localAddress: from })
  return new Promise((resolve) => {
    socket.once('open', () => resolve(socket))
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    socket.once('error', () => resolve(0))
  })
}

describe('/mqtt', () => {
  it('cuts off an unauthenticated 300 MB frame at its header, and memory stays put', async ({ annotate }) => {
    const { socket, record } = await rawUpgrade('/mqtt', 'mqtt', '127.0.0.3')
    const before = process.memoryUsage.rss()
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss())
    }, 10)
    const started = Date.now()
    const sent = await streamOneFrame(socket, record.closed, 300 * MiB)
    const closedAt = await Promise.race([
      record.closed,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000)),
    ])
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage.rss())
    socket.destroy()
    const figures =
      `300 MB frame: ${(sent / MiB).toFixed(1)} MB sent, ` +
      `${closedAt === null ? 'still open 5 s after' : `closed after ${closedAt - started} ms`}; ` +
      `RSS ${(before / MiB).toFixed(0)} MB before, peak ${(peak / MiB).toFixed(0)} MB`
    await annotate(figures)
    expect(closedAt, figures).not.toBeNull()
    expect(sent, figures).toBeLessThan(64 * MiB)
    expect(peak - before, figures).toBeLessThan(100 * MiB)
    // The refusal names the reason: 1009, message too big [RFC 6455 § 7.4.1].
    expect(record.received()).toContain('\x88\x02\x03\xf1')
  })

  it('still takes a packet of up to MQTT_MAX_PACKET_SIZE in one frame', async () => {
    const client = await mqtt.connectAsync(`${wsUrl}/mqtt`, {
      clientId: 'door-1',
      username: 'door-1',
      password: 'secret-door-1',
      reconnectPeriod: 0,
      wsOptions: { localAddress: '127.0.0.6' },
    })
    try {
      // 200 KiB of spaces is bad input, kept as a dead letter: the frame went through and was acknowledged.
      await client.publishAsync('devices/door-1/telemetry', Buffer.alloc(200 * 1024, 0x20), { qos: 1 })
      const kept = await world.api<{ items: { device: string }[] }>('/api/dead-letters?device=door-1')
      expect(kept.items).toEqual([expect.objectContaining({ device: 'door-1' })])
    } finally {
      await client.endAsync()
    }
  })

  it('closes a socket that sends no CONNECT within MQTT_CONNECT_TIMEOUT', async ({ annotate }) => {
    const socket = new WebSocket(`${wsUrl}/mqtt`, 'mqtt', { localAddress: '127.0.0.5' })
    await once(socket, 'open')
    const opened = Date.now()
    await once(socket, 'close')
    const ms = Date.now() - opened
    await annotate(`silent /mqtt socket closed after ${ms} ms`)
    expect(ms).toBeGreaterThanOrEqual(900)
    expect(ms).toBeLessThan(3000)
  })
})

describe('/ws', () => {
  it('closes a client sending a frame over 4 KiB with 1009, and keeps one sending small frames', async ({
    annotate,
  }) => {
    const socket = await openLive('127.0.0.4')
    if (typeof socket === 'number') throw new Error(`refused with ${socket}`)
    const closed = once(socket, 'close') as Promise<[number, Buffer]>
    socket.send('x'.repeat(1024))
    socket.ping()
    await once(socket, 'pong')
    socket.send(Buffer.alloc(64 * 1024))
    const code = await Promise.race([
      closed.then(([code]) => code),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000)),
    ])
    await annotate(`64 KiB frame on /ws: ${code === null ? 'still open 3 s after' : `closed with ${code}`}`)
    socket.terminate()
    expect(code).toBe(1009)
  })
})

describe('sockets per address', () => {
  it('refuses the sixth /ws or /mqtt socket of one address, not those of another, and takes one again after a close', async ({
    annotate,
  }) => {
    const from = '127.0.0.2'
    const device = await mqtt.connectAsync(`${wsUrl}/mqtt`, {
      username: 'watcher',
      password: 'watcher-password-0123',
      clientId: 'watcher-1',
      reconnectPeriod: 0,
      wsOptions: { localAddress: from },
    })
    const open: WebSocket[] = []
    let refusal: number | null = null
    for (let i = 0; i < 30 && refusal === null; i++) {
      const socket = await openLive(from)
      if (typeof socket === 'number') refusal = socket
      else open.push(socket)
    }
    await annotate(
      `one /mqtt and ${open.length} /ws sockets opened from one address, then ${refusal ?? 'none'}`,
    )
    try {
      expect(open).toHaveLength(4)
      expect(refusal).toBe(429)
      expect(await openLive(from, '/mqtt')).toBe(429)

      const elsewhere = await openLive('127.0.0.1')
      expect(elsewhere).toBeInstanceOf(WebSocket)
      if (elsewhere instanceof WebSocket) elsewhere.close()

      const first = open.shift()
      first?.close()
      const again = await waitFor(
        async () => {
          const socket = await openLive(from)
          return socket instanceof WebSocket ? socket : undefined
        },
        { what: 'a socket taken again once one closed' },
      )
      open.push(again)
    } finally {
      for (const socket of open) socket.terminate()
      await device.endAsync()
    }
  })
})
