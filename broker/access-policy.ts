import type { DeviceKind } from '../domain/index.ts'
import { deviceTopicPrefix } from '../ingest/index.ts'
import { filterCovers, topicMatches } from './topic-filters.ts'

/** Who an MQTT connection is, decided once at CONNECT. */
export type MqttIdentity =
  | { type: 'device'; id: string; kind: DeviceKind }
  | { type: 'account'; username: string; publish: string[]; subscribe: string[]; deny: string[] }

const isReserved = (topic: string) => topic.startsWith('$')

const deviceTopics = (id: string) => ({
  telemetry: `${deviceTopicPrefix(id)}telemetry`,
  status: `${deviceTopicPrefix(id)}status`,
})

/** DESIGN.md § MQTT: a device publishes only its telemetry and status topics; accounts by their allow and deny lists. */
export function mayPublish(identity: MqttIdentity, topic: string): boolean {
  if (isReserved(topic)) return false // $SYS/ and every $ topic belong to the broker
  if (identity.type === 'device') {
    const own = deviceTopics(identity.id)
    return topic === own.telemetry || topic === own.status
  }
  return (
    identity.publish.some((filter) => topicMatches(filter, topic)) &&
    !identity.deny.some((filter) => topicMatches(filter, topic))
  )
}

/** A device subscribes only within devices/<id>/commands/#. */
export function maySubscribe(identity: MqttIdentity, filter: string): boolean {
  if (identity.type === 'device') return filterCovers(`${deviceTopicPrefix(identity.id)}commands/#`, filter)
  return (
    identity.subscribe.some((allowed) => filterCovers(allowed, filter)) &&
    !identity.deny.some((denied) => filterCovers(denied, filter))
  )
}

/** A device retains only its status (its last will, typically); an account whatever it may publish. */
export function mayRetain(identity: MqttIdentity, topic: string): boolean {
  return identity.type === 'account' || topic === deviceTopics(identity.id).status
}

/** A wide subscription still never delivers a denied topic; a device gets only its own commands. */
export function mayReceive(identity: MqttIdentity, topic: string): boolean {
  if (identity.type === 'device') return topic.startsWith(`${deviceTopicPrefix(identity.id)}commands/`)
  return !identity.deny.some((filter) => topicMatches(filter, topic))
}
