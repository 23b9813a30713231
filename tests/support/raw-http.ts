import { once } from 'node:events'
import { type Agent, type IncomingHttpHeaders, request } from 'node:http'
import { connect, type Socket } from 'node:net'

export type RawAnswer = { status: number; headers: IncomingHttpHeaders; body: string }

/**
 * One HTTP request from a chosen local address: Linux routes all of 127.0.0.0/8 to the loopback, so a
 * test can be two clients, 127.0.0.1 and 127.0.0.2, as the server sees them.
 */
export function httpFrom(
  url: string,
  {
    from,
    method = 'GET',
    headers = {},
    body,
    agent,
  }: {
    from: string
    method?: string
    headers?: Record<string, string>
    body?: string
    agent?: Agent
  },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, localAddress: from, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A bare TCP connection to a URL's host and port, for requests no HTTP client would send. */
export async function rawSocket(url: string, from = '127.0.0.1'): Promise<Socket> {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port), localAddress: from })
  await once(socket, 'connect')
  return socket
}

/** Everything a socket receives until it closes, and when it closed. */
export function recordUntilClosed(socket: Socket): { received: () => string; closed: Promise<number> } {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  return {
    received: () => Buffer.concat(chunks).toString('latin1'),
    closed: new Promise((resolve) => socket.once('close', () => resolve(Date.now()))),
  }
}
