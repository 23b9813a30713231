import mqtt, { type MqttClient } from 'mqtt'

export type SteadyDevices = {
  /** Sequence numbers the broker acknowledged (PUBACK), per device, with when each was published. */
  acked: Map<string, { seq: number; publishedAt: number }[]>
  /** Acknowledged readings in all. */
  ackedCount: () => number
  /** Acknowledged readings published at or after this time (of one device, when named). */
  ackedSince: (time: number, device?: string) => number
  /** Stops publishing and waits for the readings in flight (or gives them up), then disconnects. */
  stop: () => Promise<void>
}

/**
 * Devices streaming QoS 1 readings at a steady pace, each keeping a few in flight, through losses of the
 * broker or of Redis: they reconnect by themselves (mqtt.js sends its unacknowledged packets again).
 */
export async function startSteadyDevices({
  ports,
  devices,
  perSecond = 40,
  inFlight = 8,
}: {
  /** The broker's port, or several: device i starts on the i-th (round robin) and moves to the next when its own is gone. */
  ports: number[]
  devices: { id: string; secret: string }[]
  perSecond?: number
  inFlight?: number
}): Promise<SteadyDevices> {
  const acked = new Map<string, { seq: number; publishedAt: number }[]>()
  const clients: MqttClient[] = []
  const timers: NodeJS.Timeout[] = []
  for (const [i, { id, secret }] of devices.entries()) {
    const first = i % ports.length
    const client = mqtt.connect({
      servers: [...ports.slice(first), ...ports.slice(0, first)].map((port) => ({ host: '127.0.0.1', port })),
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 200,
      connectTimeout: 5000,
    })
    client.on('error', () => {}) // losses are what the test makes; the client reconnects
    clients.push(client)
    const mine: { seq: number; publishedAt: number }[] = []
    acked.set(id, mine)
    let seq = 0
    let pending = 0
    timers.push(
      setInterval(() => {
        if (!client.connected || pending >= inFlight) return
        const sent = ++seq
        const publishedAt = Date.now()
        pending++
        const reading = JSON.stringify({ type: 'temperature', celsius: 20 + (sent % 10) / 10, seq: sent })
        client.publish(`devices/${id}/telemetry`, reading, { qos: 1 }, (error) => {
          pending--
          if (!error) mine.push({ seq: sent, publishedAt })
        })
      }, 1000 / perSecond),
    )
  }
  await Promise.all(
    clients.map((client) =>
      client.connected ? undefined : new Promise<void>((resolve) => client.once('connect', () => resolve())),
    ),
  )
  const all = () => [...acked.values()].flat()
  return {
    acked,
    ackedCount: () => all().length,
    ackedSince: (time, device) =>
      (device === undefined ? all() : (acked.get(device) ?? [])).filter(
        ({ publishedAt }) => publishedAt >= time,
      ).length,
    stop: async () => {
      for (const timer of timers) clearInterval(timer)
      await Promise.all(clients.map((client) => client.endAsync()))
    },
  }
}
