export { type MqttIdentity, mayPublish, mayReceive, maySubscribe } from './access-policy.ts'
export { type Broker, type BrokerSettings, createBroker } from './create-broker.ts'
export { createPacketScanner } from './packet-size-guard.ts'
export { filterCovers, topicMatches } from './topic-filters.ts'
