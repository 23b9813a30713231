import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { readProxyHeader } from './proxy-header.ts'

export type ProxyProtocol = {
  /**
   * Reads the PROXY protocol header a connection must begin with, then hands the socket on with the client's
   * address from it, the bytes after the header still to be read; a connection without a valid header within
   * timeoutMs is closed, counted and logged.
   */
  accept: (socket: Socket, onAccepted: (address: string) => void) => void
  /** Connections closed for want of a valid header. */
  refused: () => number
}

/**
 * MQTT_PROXY_PROTOCOL=on, behind HAProxy's send-proxy or send-proxy-v2 (issue 17): the address a node logs and
 * throttles by is the device's, and a connection that bypassed the proxy cannot choose one.
 */
export function createProxyProtocol({ timeoutMs, log }: { timeoutMs: number; log: Logger }): ProxyProtocol {
  let refusedCount = 0

  const accept = (socket: Socket, onAccepted: (address: string) => void) => {
    const peer = socket.remoteAddress ?? 'unknown'
    let held: Buffer = Buffer.alloc(0)
    let settled = false

    const settle = () => {
      settled = true
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
    }
    const refuse = (reason: string) => {
      if (settled) return
      settle()
      refusedCount++
      log.warn({ address: peer, reason }, 'mqtt connection closed: no valid PROXY protocol header')
      socket.destroy()
    }
    // A wall-clock deadline, not an idle one: a header sent a byte at a time still ends in time.
    const timer = setTimeout(() => refuse(`no complete header within ${timeoutMs} ms`), timeoutMs)
    const onClose = () => refuse('closed before a complete header')

    function onData(chunk: Buffer) {
      held = held.length === 0 ? chunk : Buffer.concat([held, chunk])
      const header = readProxyHeader(held)
      if (header.state === 'more') return
      if (header.state === 'refused') return refuse(header.reason)
      settle()
      socket.pause()
      // What followed the header in the same read is MQTT: read again first by whoever takes the socket.
      if (held.length > header.length) socket.unshift(held.subarray(header.length))
      onAccepted(header.address ?? peer)
    }

    socket.on('data', onData)
    socket.once('close', onClose)
  }

  return { accept, refused: () => refusedCount }
}
