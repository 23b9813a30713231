// DESIGN.md § MQTT: devices/<id>/telemetry and devices/<id>/status.
export type DeviceTopic = { deviceId: string; channel: 'telemetry' | 'status' }

const deviceIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function parseDeviceTopic(topic: string): DeviceTopic | null {
  const parts = topic.split('/')
  if (parts.length !== 3 || parts[0] !== 'devices') return null
  const [, deviceId = '', channel] = parts
  if (!deviceIdPattern.test(deviceId)) return null
  if (channel !== 'telemetry' && channel !== 'status') return null
  return { deviceId, channel }
}

export function deviceTopicPrefix(deviceId: string): string {
  return `devices/${deviceId}/`
}
