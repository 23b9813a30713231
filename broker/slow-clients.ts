import type { Client } from 'aedes'

/**
 * Issue 15: a client that cannot take what the broker sends it holds every message back (each waits for all
 * its subscribers). aedes drops one whose socket does not drain at all for MQTT_DRAIN_TIMEOUT; this drops one
 * that drains, but never catches up: its socket has stayed full for longer than maxLagMs.
 */
export function watchSlowClients({
  clients,
  maxLagMs,
  onTooSlow,
  intervalMs = Math.min(1000, Math.max(50, maxLagMs / 4)),
  now = Date.now,
}: {
  clients: () => Client[]
  maxLagMs: number
  onTooSlow: (client: Client, behindMs: number) => void
  intervalMs?: number
  now?: () => number
}): () => void {
  const behindSince = new WeakMap<Client, number>()
  const timer = setInterval(() => {
    const at = now()
    for (const client of clients()) {
      // The socket's buffer is over its high-water mark: what was last written has not gone out yet.
      if (!(client.conn as { writableNeedDrain?: boolean }).writableNeedDrain) {
        behindSince.delete(client)
        continue
      }
      const since = behindSince.get(client) ?? at
      behindSince.set(client, since)
      if (at - since >= maxLagMs) onTooSlow(client, at - since)
    }
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
