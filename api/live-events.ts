import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'

// A client this far behind is dropped rather than buffered without bound.
const maxBufferedBytes = 1_048_576

/**
 * `GET /ws` (DESIGN.md § HTTP API): every incident, ticket and notification event, as the JSON of the
 * events stream, to every connected client. One reader per process, however many clients.
 */
export function createLiveEvents({
  redis,
  eventsKey,
  log,
}: {
  redis: Redis
  eventsKey: string
  log: Logger
}) {
  const sockets = new Set<WebSocket>()
  let running = false
  let loop: Promise<void> | undefined

  function broadcast(text: string) {
    for (const socket of sockets) {
      if (socket.bufferedAmount > maxBufferedBytes) {
        log.warn({ buffered: socket.bufferedAmount }, 'slow live client dropped')
        socket.terminate()
        sockets.delete(socket)
        continue
      }
      socket.send(text)
    }
  }

  async function run() {
    // Only what happens from now on: the API lists what came before.
    let last = '$'
    while (running) {
      try {
        const streams = (await redis.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', eventsKey, last)) as
          | [string, [string, string[]][]][]
          | null
        for (const [, entries] of streams ?? []) {
          for (const [id, fields] of entries) {
            last = id
            if (sockets.size > 0) broadcast(fields[1] ?? '{}')
          }
        }
      } catch (err) {
        // Closing disconnects the blocked read: that is the end, not a failure to wait out.
        if (!running) break
        log.error({ err }, 'live events read failed; retrying')
        await new Promise<void>((resolve) => setTimeout(resolve, 1000))
      }
    }
  }

  return {
    add: (socket: WebSocket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => sockets.delete(socket))
    },
    start: () => {
      running = true
      loop = run()
    },
    close: async () => {
      running = false
      for (const socket of sockets) socket.close(1001, 'going away')
      redis.disconnect()
      await loop
    },
  }
}

export type LiveEvents = ReturnType<typeof createLiveEvents>
