import { isIPv4, isIPv6, SocketAddress } from 'node:net'

/**
 * How far a PROXY protocol header (HAProxy's proxy-protocol.txt, v1 and v2) read so far has got: more bytes
 * needed, refused, or complete with its length and the client's address (null: use the connection's own).
 */
export type ProxyHeaderState =
  | { state: 'more' }
  | { state: 'refused'; reason: string }
  | { state: 'done'; length: number; address: string | null }

const v1Signature = Buffer.from('PROXY ', 'latin1')
const v2Signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
/** § 2.1: a v1 line is at most 107 bytes, CRLF included. */
const v1MaxBytes = 107
/** § 2.2 allows 64 KiB of address block; the longest address (UNIX) takes 216 bytes, the rest is TLVs HAProxy sends only when told to. */
export const v2MaxBlockBytes = 1024
const more = { state: 'more' } as const
const refused = (reason: string) => ({ state: 'refused', reason }) as const

/** Whether the bytes so far begin, or could begin, with the signature. */
function startsLike(bytes: Buffer, signature: Buffer): boolean {
  const n = Math.min(bytes.length, signature.length)
  return bytes.subarray(0, n).equals(signature.subarray(0, n))
}

/** Reads a header from the first bytes of a connection; a byte that no header could hold refuses at once. */
export function readProxyHeader(bytes: Buffer): ProxyHeaderState {
  if (bytes.length === 0) return more
  if (startsLike(bytes, v1Signature)) return readV1(bytes)
  if (startsLike(bytes, v2Signature)) return readV2(bytes)
  return refused('no PROXY protocol header')
}

const v1Port = /^(0|[1-9]\d{0,4})$/

function readV1(bytes: Buffer): ProxyHeaderState {
  const end = bytes.subarray(0, v1MaxBytes).indexOf('\r\n', 0, 'latin1')
  if (end === -1) return bytes.length >= v1MaxBytes ? refused('PROXY v1 line over 107 bytes') : more
  const length = end + 2
  const [, protocol, source, destination, sourcePort, destinationPort, ...rest] = bytes
    .toString('latin1', 0, end)
    .split(' ')
  // § 2.1: with UNKNOWN the receiver ignores the rest of the line and uses the connection's addresses.
  if (protocol === 'UNKNOWN') return { state: 'done', length, address: null }
  const isAddress = protocol === 'TCP4' ? isIPv4 : protocol === 'TCP6' ? isIPv6 : null
  if (!isAddress) return refused('PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN')
  const ports = [sourcePort, destinationPort]
  if (
    rest.length > 0 ||
    !isAddress(source ?? '') ||
    !isAddress(destination ?? '') ||
    !ports.every((port) => v1Port.test(port ?? '') && Number(port) <= 65_535)
  )
    return refused('malformed PROXY v1 line')
  return { state: 'done', length, address: source as string }
}

function readV2(bytes: Buffer): ProxyHeaderState {
  if (bytes.length < 16) return more
  const versionCommand = bytes[12] as number
  const familyTransport = bytes[13] as number
  const blockLength = bytes.readUInt16BE(14)
  if (versionCommand >> 4 !== 2) return refused('PROXY v2 header of another version')
  const command = versionCommand & 0x0f
  if (command > 1) return refused('PROXY v2 command is neither LOCAL nor PROXY')
  if (blockLength > v2MaxBlockBytes) return refused(`PROXY v2 block over ${v2MaxBlockBytes} bytes`)
  const length = 16 + blockLength
  if (bytes.length < length) return more
  // § 2.2: LOCAL (the proxy's own health check) keeps the connection's addresses, whatever the family says.
  if (command === 0) return { state: 'done', length, address: null }
  const family = familyTransport >> 4
  const transport = familyTransport & 0x0f
  // UNSPEC and UNIX name no IP address: the connection's own stands.
  if (family === 0 || family === 3) return { state: 'done', length, address: null }
  if (family > 3 || transport !== 1) return refused('PROXY v2 header is not for a TCP connection')
  const block = bytes.subarray(16, length)
  if (family === 1) {
    if (blockLength < 12) return refused('PROXY v2 block too short for IPv4 addresses')
    return { state: 'done', length, address: Array.from(block.subarray(0, 4)).join('.') }
  }
  if (blockLength < 36) return refused('PROXY v2 block too short for IPv6 addresses')
  const groups = Array.from({ length: 8 }, (_, i) => block.readUInt16BE(i * 2).toString(16))
  // SocketAddress writes the shortest form (::1), as net.Socket's remoteAddress does.
  return {
    state: 'done',
    length,
    address: new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address,
  }
}
