import { describe, expect, it } from 'vitest'
import { readProxyHeader } from '../../broker/proxy-header.ts'

const v2Signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])

/** A v2 header as HAProxy's send-proxy-v2 writes it: signature, version/command, family/transport, length. */
function v2(versionCommand: number, familyTransport: number, block: Buffer): Buffer {
  const length = Buffer.alloc(2)
  length.writeUInt16BE(block.length)
  return Buffer.concat([v2Signature, Buffer.from([versionCommand, familyTransport]), length, block])
}
const ipv4Block = Buffer.from([127, 0, 0, 7, 127, 0, 0, 1, 0xc3, 0x50, 0x07, 0x5b])
const mqttConnect = Buffer.from([0x10, 0x0c])

describe('reading a PROXY protocol header', () => {
  it('reads a v1 TCP4 line: the source address and where the header ends', () => {
    const header = Buffer.from('PROXY TCP4 127.0.0.7 127.0.0.1 50000 1883\r\n')
    expect(readProxyHeader(Buffer.concat([header, mqttConnect]))).toEqual({
      state: 'done',
      length: header.length,
      address: '127.0.0.7',
    })
  })

  it('reads a v1 TCP6 line and a v1 UNKNOWN line (the connection keeps its own address)', () => {
    expect(readProxyHeader(Buffer.from('PROXY TCP6 ::ffff:10.0.0.1 ::1 4000 1883\r\n'))).toMatchObject({
      state: 'done',
      address: '::ffff:10.0.0.1',
    })
    expect(readProxyHeader(Buffer.from('PROXY UNKNOWN whatever follows\r\n'))).toEqual({
      state: 'done',
      length: 32,
      address: null,
    })
  })

  it('reads v2 PROXY over IPv4 and IPv6, skipping TLVs by the block length, and v2 LOCAL', () => {
    const withTlv = Buffer.concat([ipv4Block, Buffer.from([0x04, 0x00, 0x01, 0x00])])
    expect(readProxyHeader(Buffer.concat([v2(0x21, 0x11, withTlv), mqttConnect]))).toEqual({
      state: 'done',
      length: 16 + 16,
      address: '127.0.0.7',
    })
    const ipv6 = Buffer.alloc(36)
    ipv6.writeUInt16BE(0x2001, 0)
    ipv6.writeUInt16BE(0x0db8, 2)
    ipv6.writeUInt16BE(0x00ff, 14)
    expect(readProxyHeader(v2(0x21, 0x21, ipv6))).toEqual({
      state: 'done',
      length: 52,
      address: '2001:db8::ff',
    })
    expect(readProxyHeader(v2(0x20, 0x00, Buffer.alloc(0)))).toEqual({
      state: 'done',
      length: 16,
      address: null,
    })
  })

  it('asks for more while a header could still be valid', () => {
    const line = Buffer.from('PROXY TCP4 127.0.0.7 127.0.0.1 50000 1883\r\n')
    for (const end of [1, 6, 20, line.length - 1])
      expect(readProxyHeader(line.subarray(0, end))).toEqual({ state: 'more' })
    const header = v2(0x21, 0x11, ipv4Block)
    for (const end of [1, 12, 15, header.length - 1])
      expect(readProxyHeader(header.subarray(0, end))).toEqual({ state: 'more' })
  })

  it.each([
    ['MQTT with no header', mqttConnect, 'no PROXY protocol header'],
    [
      'a v1 line that never ends',
      Buffer.from(`PROXY TCP4 ${'1'.repeat(200)}`),
      'PROXY v1 line over 107 bytes',
    ],
    [
      'a v1 line with another protocol',
      Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'),
      'PROXY v1 protocol',
    ],
    ['a v1 line with a name for an address', Buffer.from('PROXY TCP4 host 127.0.0.1 1 2\r\n'), 'malformed'],
    ['a v1 line with an IPv6 address as TCP4', Buffer.from('PROXY TCP4 ::1 ::1 1 2\r\n'), 'malformed'],
    ['a v1 port past 65535', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), 'malformed'],
    ['a v1 line with a field too many', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'), 'malformed'],
    ['a v2 header of version 3', v2(0x31, 0x11, ipv4Block), 'another version'],
    ['a v2 header with command 2', v2(0x22, 0x11, ipv4Block), 'neither LOCAL nor PROXY'],
    ['a v2 block of 64 KiB', v2(0x21, 0x11, Buffer.alloc(65_535)), 'PROXY v2 block over 1024 bytes'],
    ['a v2 IPv4 block too short', v2(0x21, 0x11, Buffer.alloc(8)), 'too short'],
    ['a v2 header for UDP', v2(0x21, 0x12, ipv4Block), 'not for a TCP connection'],
  ])('refuses %s', (_name, bytes, reason) => {
    const result = readProxyHeader(bytes)
    expect(result.state).toBe('refused')
    expect(result).toMatchObject({ reason: expect.stringContaining(reason) })
  })

  it('refuses a 64 KiB v2 block from its first 16 bytes', () => {
    expect(readProxyHeader(v2(0x21, 0x11, Buffer.alloc(65_535)).subarray(0, 16))).toMatchObject({
      state: 'refused',
    })
  })
})
