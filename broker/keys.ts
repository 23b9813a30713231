/** The Redis keys and channels of the broker's cluster mode (MQTT_CLUSTER=on), under the deployment's prefix. */
export type BrokerKeys = ReturnType<typeof brokerKeys>

export function brokerKeys(prefix: string) {
  return {
    /** aedes-persistence-redis writes its sessions, queues, wills and retained messages under this key prefix. */
    sessions: `${prefix}mqtt:`,
    /** The message bus publishes each MQTT topic on this channel prefix; a level of its own, so `#` and `+` still match. */
    busChannels: `${prefix}mqtt/`,
    /** Client id → the identity that holds it, its connection and whether its session is persistent. */
    clientIds: `${prefix}mqtt-client-ids`,
    /** Broker node id → when its lease ends (ms): a node past it holds no connection. */
    nodes: `${prefix}mqtt-nodes`,
  }
}
