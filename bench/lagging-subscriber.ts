import { connect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

export type LaggingSubscriber = {
  /** PUBLISH packets read so far. */
  received: () => number
  /** When the broker closed the connection (performance.now() time), or null while it is open. */
  droppedAt: () => number | null
  close: () => void
}

/**
 * An integration subscribed at QoS 1 to `filter` that reads its socket at `bytesPerSecond` at most, and
 * acknowledges what it reads: it falls behind any stream faster than that, as a congested link would.
 */
export async function connectLaggingSubscriber({
  port,
  username,
  password,
  filter,
  bytesPerSecond,
}: {
  port: number
  username: string
  password: string
  filter: string
  bytesPerSecond: number
}): Promise<LaggingSubscriber> {
  const socket: Socket = connect({ port, host: '127.0.0.1' })
  const parser = mqttPacket.parser()
  let received = 0
  let droppedAt: number | null = null
  let closing = false
  const subscribed = new Promise<void>((resolve, reject) => {
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connack' && packet.returnCode !== 0)
        reject(new Error(`CONNACK ${packet.returnCode}`))
      if (packet.cmd === 'suback') resolve()
      if (packet.cmd === 'publish') {
        received++
        if (packet.qos === 1 && packet.messageId !== undefined)
          socket.write(mqttPacket.generate({ cmd: 'puback', messageId: packet.messageId }))
      }
    })
    socket.once('close', () => reject(new Error('closed before its SUBACK')))
  })
  socket.on('error', () => {})
  socket.on('close', () => {
    if (!closing) droppedAt = performance.now()
  })
  // A token bucket refilled every 100 ms: the socket is read in paused mode, at most the budget a refill;
  // what is not read stays in the kernel, whose full window then stops the broker's writes.
  let budget = bytesPerSecond / 10
  const drain = () => {
    while (budget > 0 && socket.readableLength > 0) {
      const chunk = socket.read(Math.min(budget, socket.readableLength)) as Buffer | null
      if (!chunk) break
      budget -= chunk.length
      parser.parse(chunk)
    }
  }
  const refill = setInterval(() => {
    budget = bytesPerSecond / 10
    drain()
  }, 100)
  socket.on('readable', drain)
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 0,
      clientId: `lagging-${process.pid}`,
      username,
      password: Buffer.from(password),
    }),
  )
  socket.write(
    mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] }),
  )
  await subscribed
  return {
    received: () => received,
    droppedAt: () => droppedAt,
    close: () => {
      closing = true
      clearInterval(refill)
      socket.destroy()
    },
  }
}
