import type { DeviceLink, SimDevice, Transport } from '../../simulators/index.ts'

export type Published = { device: string; topic: string; payload: string }

/**
 * A transport that keeps what the devices publish instead of sending it: the fleet's own code runs,
 * only the socket is left out. `beforeConnect` decides how long each connection takes.
 */
export function recordingTransport({
  beforeConnect = async () => {},
}: {
  beforeConnect?: (device: SimDevice) => Promise<void>
} = {}) {
  const published: Published[] = []
  const closed: { device: string; how: 'clean' | 'cut' }[] = []
  const connected: string[] = []
  const transport: Transport = {
    connect: async (device): Promise<DeviceLink> => {
      await beforeConnect(device)
      connected.push(device.id)
      return {
        publish: async (topic, payload) => {
          published.push({ device: device.id, topic, payload })
        },
        close: async (how) => {
          closed.push({ device: device.id, how })
        },
      }
    },
  }
  return { transport, published, closed, connected }
}
