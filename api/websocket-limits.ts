import type { Duplex } from 'node:stream'
import websocket, { type WebsocketPluginOptions } from '@fastify/websocket'
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import { WebSocket } from 'ws'
import type { Settings } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { addressOf } from './rate-limits.ts'

export type WebSocketLimits = Pick<Settings, 'wsMaxSocketsPerAddress' | 'wsMaxFrameSize'>

// The plugin's types want ws's class merged with its namespace, which no subclass is.
type WebSocketClass = NonNullable<NonNullable<WebsocketPluginOptions['options']>['WebSocket']>
type SetSocket = (socket: Duplex, head: Buffer, options: { maxPayload?: number }) => void
const setSocket = (WebSocket.prototype as unknown as { setSocket: SetSocket }).setSocket

/**
 * @fastify/websocket with one ws server for every route, each route with its own frame limit, and a cap on
 * the sockets of each address. Returns the onRequest hook a websocket route takes, given its frame limit.
 */
export async function registerWebSockets(
  app: FastifyInstance,
  limits: WebSocketLimits,
): Promise<(maxFrameSize: number) => onRequestAsyncHookHandler> {
  const frameLimits = new WeakMap<Duplex, number>()
  const openByAddress = new Map<string, number>()

  // ws buffers a frame whole up to the server's one maxPayload (DESIGN.md § Known defects); each socket
  // here gets its route's limit instead, which ws checks on the frame's declared length, before its payload.
  class RouteLimitedWebSocket extends WebSocket {
    setSocket(socket: Duplex, head: Buffer, options: { maxPayload?: number }) {
      setSocket.call(this, socket, head, {
        ...options,
        maxPayload: frameLimits.get(socket) ?? options.maxPayload,
      })
    }
  }

  await app.register(websocket, {
    options: {
      // A socket whose route is unknown gets the smallest limit.
      maxPayload: limits.wsMaxFrameSize,
      WebSocket: RouteLimitedWebSocket as unknown as WebSocketClass,
      // A browser's /ws key comes as the subprotocols ['vigie', key]: the answer picks 'vigie' (MQTT's is 'mqtt').
      handleProtocols: (protocols: Set<string>) =>
        protocols.has('vigie') ? 'vigie' : protocols.has('mqtt') ? 'mqtt' : ([...protocols][0] ?? false),
    },
    errorHandler: (error, socket, request) => {
      // A frame over the limit or a broken one (ws has sent 1009 or 1002), or a reset: the client's doing.
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string') request.log.info({ err: error }, 'websocket closed: bad frame or reset')
      else request.log.error({ err: error }, 'websocket handler failed')
      socket.terminate()
    },
  })

  return (maxFrameSize) => async (request) => {
    if (!request.ws) return
    const address = addressOf(request)
    const open = openByAddress.get(address) ?? 0
    if (open >= limits.wsMaxSocketsPerAddress)
      throw new VigieError({
        code: 'RATE_LIMITED',
        message: `At most ${limits.wsMaxSocketsPerAddress} WebSockets from one address`,
      })
    openByAddress.set(address, open + 1)
    const socket = request.raw.socket
    frameLimits.set(socket, maxFrameSize)
    socket.once('close', () => {
      const left = (openByAddress.get(address) ?? 1) - 1
      if (left > 0) openByAddress.set(address, left)
      else openByAddress.delete(address)
    })
  }
}
