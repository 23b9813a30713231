import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect as connectTcp, type Socket } from 'node:net'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { connect as connectTls } from 'node:tls'
import mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../service/index.ts'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { answer, connectPacket, proxyV1, proxyV2 } from '../support/proxy-header.ts'
import { makeTempDir } from '../support/temp-files.ts'
import { waitFor } from '../support/wait-for.ts'

type LogLine = { msg: string; address?: string; reason?: string; username?: string }

/** A logger whose lines the test reads. */
function capturedLog() {
  const lines: LogLine[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine)
      callback()
    },
  })
  return { log: createLogger({ level: 'info', destination }), lines }
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connectTcp({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  await once(socket, 'connect')
  return socket
}

describe('MQTT_PROXY_PROTOCOL=on', () => {
  let harness: BrokerHarness
  const { log, lines } = capturedLog()
  let certificate: Buffer

  beforeAll(async () => {
    const dir = makeTempDir()
    const [certPath, keyPath] = [join(dir, 'cert.pem'), join(dir, 'key.pem')]
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ]),
      { stdio: 'ignore' },
    )
    certificate = readFileSync(certPath)
    harness = await startBrokerHarness(
      { mqttProxyProtocol: 'on', mqttsPort: 0, tlsCert: certPath, tlsKey: keyPath },
      { log },
    )
  })
  afterAll(() => harness.close())

  const refusalsOf = (username: string) =>
    lines.filter((line) => line.msg === 'mqtt login refused' && line.username === username)

  it('logs and throttles a login by the address a v1 or v2 header names, not the proxy’s', async () => {
    for (const [header, address, user] of [
      [proxyV1('127.0.0.7'), '127.0.0.7', 'temp-1'],
      [proxyV2('10.20.30.40'), '10.20.30.40', 'door-1'],
    ] as const) {
      const socket = await openSocket(harness.port)
      const code = answer(socket)
      socket.write(Buffer.concat([header, connectPacket(user, 'a-guess')]))
      expect(await code).toBe(4)
      socket.destroy()
      expect(refusalsOf(user).map((line) => line.address)).toEqual([address])
    }
  })

  it('hands the bytes after the header on, whether they came with it or in pieces', async () => {
    const socket = await openSocket(harness.port)
    const code = answer(socket)
    const header = proxyV2('127.0.0.8')
    // The header split across writes, the CONNECT glued to its end.
    socket.write(header.subarray(0, 5))
    await new Promise<void>((resolve) => setImmediate(resolve))
    socket.write(Buffer.concat([header.subarray(5), connectPacket('aed-1', 'secret-aed-1')]))
    expect(await code).toBe(0)
    socket.write(
      mqttPacket.generate({
        cmd: 'publish',
        topic: 'devices/aed-1/telemetry',
        payload: JSON.stringify({ type: 'aed', present: true, cabinetOpen: false }),
        qos: 1,
        messageId: 1,
        retain: false,
        dup: false,
      }),
    )
    await waitFor(async () => (await harness.ingest.readings.recent('aed-1', 1)).length === 1, {
      what: 'the reading stored',
    })
    socket.destroy()
  })

  it('closes, counts and logs a connection that starts with MQTT instead of a header', async () => {
    const before = harness.broker.figures().proxyRefused
    const socket = await openSocket(harness.port)
    const code = answer(socket)
    socket.write(connectPacket('temp-1', 'secret-temp-1'))
    expect(await code).toBe('closed')
    expect(harness.broker.figures().proxyRefused).toBe(before + 1)
    expect(lines.at(-1)).toMatchObject({
      msg: 'mqtt connection closed: no valid PROXY protocol header',
      address: '127.0.0.1',
      reason: 'no PROXY protocol header',
    })
  })

  it('reads the header before the TLS handshake on MQTTS', async () => {
    const raw = await openSocket(harness.mqttsPort ?? 0)
    raw.write(proxyV1('127.0.0.9'))
    const tls = connectTls({ socket: raw, ca: certificate, servername: 'localhost' })
    await once(tls, 'secureConnect')
    const code = answer(tls)
    tls.write(connectPacket('temp-1', 'a-guess'))
    expect(await code).toBe(4)
    tls.destroy()
    expect(refusalsOf('temp-1').at(-1)?.address).toBe('127.0.0.9')
  })
})

describe('MQTT_PROXY_PROTOCOL off (the default)', () => {
  let harness: BrokerHarness
  const { log, lines } = capturedLog()
  beforeAll(async () => {
    // A header read as MQTT may wait for more bytes: the connect timeout then ends it.
    harness = await startBrokerHarness({ mqttConnectTimeout: 1000 }, { log })
  })
  afterAll(() => harness.close())

  it('takes a forged header for bad MQTT: the connection is closed before any login', async () => {
    for (const header of [proxyV1('127.0.0.7'), proxyV2('127.0.0.7')]) {
      const socket = await openSocket(harness.port)
      const code = answer(socket)
      socket.write(Buffer.concat([header, connectPacket('temp-1', 'a-guess')]))
      expect(await code).toBe('closed')
    }
    expect(lines.filter((line) => line.msg === 'mqtt login refused')).toEqual([])
    expect(harness.broker.figures().proxyRefused).toBe(0)
    // The same login without the header is answered, from the connection's own address.
    const socket = await openSocket(harness.port)
    const code = answer(socket)
    socket.write(connectPacket('temp-1', 'a-guess'))
    expect(await code).toBe(4)
    socket.destroy()
    expect(lines.filter((line) => line.msg === 'mqtt login refused').map((line) => line.address)).toEqual([
      '127.0.0.1',
    ])
  })
})
