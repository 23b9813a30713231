import { isIPv4 } from 'node:net'
import type { Duplex } from 'node:stream'
import mqttPacket from 'mqtt-packet'

const v2Signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])

/** A PROXY protocol v1 line, as HAProxy's send-proxy writes it, naming an IPv4 client. */
export const proxyV1 = (address: string, port = 50_000) =>
  Buffer.from(`PROXY TCP4 ${address} 127.0.0.1 ${port} 1883\r\n`, 'latin1')

/** A PROXY protocol v2 header (PROXY command, TCP over IPv4), as HAProxy's send-proxy-v2 writes it. */
export function proxyV2(address: string, port = 50_000): Buffer {
  if (!isIPv4(address)) throw new Error(`${address} is not an IPv4 address`)
  const block = Buffer.alloc(12)
  block.set(address.split('.').map(Number), 0)
  block.set([127, 0, 0, 1], 4)
  block.writeUInt16BE(port, 8)
  block.writeUInt16BE(1883, 10)
  return Buffer.concat([v2Signature, Buffer.from([0x21, 0x11, 0x00, 12]), block])
}

/** An MQTT 3.1.1 CONNECT with a clean session whose client id is the user name. */
export const connectPacket = (username: string, password: string) =>
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    clientId: username,
    username,
    password: Buffer.from(password),
  })

/** The CONNACK code the stream gets, or 'closed' when it ends without one. */
export function answer(stream: Duplex): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const parser = mqttPacket.parser()
    parser.on('packet', (reply) => {
      if (reply.cmd === 'connack') resolve(reply.returnCode ?? -1)
    })
    stream.on('data', (chunk: Buffer) => parser.parse(chunk))
    stream.on('error', () => resolve('closed'))
    stream.on('close', () => resolve('closed'))
  })
}
