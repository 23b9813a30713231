import type { Socket } from 'node:net'
import { SentinelConnector } from 'ioredis'

/** What this connector reaches inside ioredis 5.11.1 (pinned in package.json; tests/ha/sentinel-reconnect holds it). */
type Internals = {
  initFailoverDetector: () => Promise<void>
  failoverDetector: {
    connector: { disconnect: () => void }
    cleanup: () => void
    sentinels: { client: { on: (event: 'error', listener: () => void) => void } }[]
  } | null
  stream?: Socket
  disconnectTimeout: number
}

/**
 * ioredis' Sentinel connector, except for what a failover announcement (+switch-master) does. ioredis has it
 * disconnect the connector, which also cancels a reconnection under way: that reconnection then fails with
 * "Connection is closed" and the client ends for good (status `end`). Under load, 38 of 60 connections never
 * came back after a master's loss. Here the announcement only closes the socket held now, if any, so a client
 * on the old master reconnects and a reconnection under way goes on asking the sentinels.
 * A class because ioredis' `Connector` option takes a constructor; duplicates inherit it.
 */
export class FailoverSafeConnector extends SentinelConnector {
  // ioredis types the option's constructor as taking unknown: it passes the client's own options.
  constructor(options: unknown) {
    super(options as ConstructorParameters<typeof SentinelConnector>[0])
    const self = this as unknown as Internals
    const init = self.initFailoverDetector.bind(this)
    self.initFailoverDetector = () => {
      const subscribed = init()
      // ioredis assigns the detector before its first await, so no announcement can come before this.
      const detector = self.failoverDetector
      if (!detector) return subscribed
      detector.connector = { disconnect: () => leaveMaster(self) }
      // Its sentinel clients reconnect for ever and have no error listener: once the socket it watches for is
      // gone (a quit, a lost master), it is let go; the next socket gets a detector of its own.
      for (const { client } of detector.sentinels) client.on('error', () => {})
      self.stream?.once('close', () => detector.cleanup())
      return subscribed
    }
  }
}

function leaveMaster(self: Internals): void {
  self.failoverDetector?.cleanup()
  const stream = self.stream
  if (!stream || stream.destroyed) return
  const timer = setTimeout(() => stream.destroy(), self.disconnectTimeout)
  stream.once('close', () => clearTimeout(timer))
  stream.end()
}
