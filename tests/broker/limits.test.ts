import { once } from 'node:events'
import { connect as connectTcp } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPacketScanner } from '../../broker/index.ts'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { rawConnected } from '../support/raw-mqtt.ts'

let harness: BrokerHarness
beforeAll(async () => {
  harness = await startBrokerHarness({ mqttConnectTimeout: 500 })
})
afterAll(() => harness.close())

/** The fixed header of a PUBLISH declaring this remaining length [MQTT-2.2.3]. */
function publishHeader(remainingLength: number): Buffer {
  const bytes = [0x30]
  let left = remainingLength
  do {
    let byte = left % 128
    left = Math.floor(left / 128)
    if (left > 0) byte |= 0x80
    bytes.push(byte)
  } while (left > 0)
  return Buffer.from(bytes)
}

describe('packet size limit', () => {
  it('closes the connection on a declared 200 MB packet before its body arrives', async () => {
    const socket = await rawConnected(harness.port, {
      clientId: 'big',
      username: 'temp-1',
      password: 'secret-temp-1',
    })
    const closed = once(socket, 'close')
    // Only the header and ten bytes: without the guard the broker would wait for 200 MB.
    socket.write(Buffer.concat([publishHeader(200 * 1024 * 1024), Buffer.alloc(10)]))
    await closed
    expect(socket.destroyed).toBe(true)
  })

  it('closes a client publishing 300 KiB and keeps one publishing 200 KiB', async () => {
    const big = await harness.connect({ username: 'temp-1', password: 'secret-temp-1' })
    // A reset is the point (the broker cut it mid-write), so wait for close, not for an error-free end.
    big.on('error', () => {})
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()))
    big.publish('devices/temp-1/telemetry', Buffer.alloc(300 * 1024, 0x20), { qos: 0 })
    await closed
    const fine = await harness.connect({ username: 'door-1', password: 'secret-door-1' })
    await fine.publishAsync('devices/door-1/telemetry', Buffer.alloc(200 * 1024, 0x20), { qos: 1 })
    expect(fine.connected).toBe(true)
  })

  it('closes a connection that sends no CONNECT in time', async () => {
    const socket = connectTcp(harness.port, '127.0.0.1')
    await once(socket, 'connect')
    await once(socket, 'close')
    expect(socket.destroyed).toBe(true)
  })
})

describe('the packet scanner', () => {
  it('follows packets split anywhere across chunks', () => {
    const scan = createPacketScanner(1000)
    const packet = Buffer.concat([publishHeader(300), Buffer.alloc(300)])
    const stream = Buffer.concat([packet, packet, packet])
    for (let i = 0; i < stream.length; i += 7) expect(scan(stream.subarray(i, i + 7))).toBeNull()
    expect(scan(publishHeader(2000))).toBe('packet of 2000 bytes is over the 1000 byte limit')
  })

  it('refuses a remaining length longer than four bytes', () => {
    expect(
      createPacketScanner(Number.MAX_SAFE_INTEGER)(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])),
    ).toBe('malformed remaining length')
  })
})
