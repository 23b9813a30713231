import type { FastifyInstance } from 'fastify'

/**
 * A stop waits for the requests under way and for WebSocket peers to answer its close, but only graceMs:
 * a body trickled until the request timeout (30 s) or a sleeping laptop's dashboard (ws waits 30 s for its
 * answer) would otherwise hold the whole service's stop past its deadline. Registered before the
 * WebSocket plugin, so the clock starts before that plugin waits for its peers.
 */
export function registerCloseGrace(app: FastifyInstance, graceMs: number): void {
  let timer: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    timer = setTimeout(() => {
      const sockets = app.websocketServer?.clients.size ?? 0
      app.log.warn({ graceMs, sockets }, 'connections still open at the stop: cut')
      for (const socket of app.websocketServer?.clients ?? []) socket.terminate()
      app.server.closeAllConnections()
    }, graceMs)
  })
  app.addHook('onClose', async () => clearTimeout(timer))
}
