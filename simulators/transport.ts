import type { SimDevice } from './sim-device.ts'

/** One device's connection as the fleet uses it; MQTT in a run, anything that records in a test. */
export type DeviceLink = {
  /** Resolves once the broker acknowledged (QoS 1) or the message left (QoS 0). */
  publish: (topic: string, payload: string, qos: 0 | 1) => Promise<void>
  /** `clean` says offline and disconnects; `cut` drops the socket as a power cut would, so the will fires. */
  close: (how: 'clean' | 'cut') => Promise<void>
}

/** A command vigie sent the device (issue 19): the <name> level of devices/<id>/commands/<name>, and the payload. */
export type CommandListener = (name: string, payload: string) => void

export type Transport = {
  /** With `onCommand`, the device also listens on devices/<id>/commands/#. */
  connect: (device: SimDevice, options?: { onCommand?: CommandListener }) => Promise<DeviceLink>
}
