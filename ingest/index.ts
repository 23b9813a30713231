export { type CommandAnswerMessage, commandAnswerSchema } from './command-answer.ts'
export {
  createIngest,
  type Ingest,
  type IngestMessage,
  type IngestOutcome,
  type IngestSettings,
} from './create-ingest.ts'
export { type DeadLetter, deadLetterSchema } from './dead-letters.ts'
export type { DeviceRecord, DeviceRegistry } from './device-registry.ts'
export type { DeviceState } from './device-state.ts'
export {
  createExternalBrokerIngest,
  type ExternalBrokerIngest,
  type ExternalBrokerOptions,
} from './external-broker.ts'
export { generateSecret, isIssuedSecret } from './issued-secret.ts'
export { type IngestKeys, ingestKeys, shardOf } from './keys.ts'
export { type ParsedReading, parseReading, validateReading } from './reading-parser.ts'
export type { ReadingRange, ReadingScan } from './reading-range.ts'
export {
  hashSecret,
  isSecretHash,
  type SecretScheme,
  secretScheme,
  storedScheme,
  verifySecret,
} from './secret-hash.ts'
export { type DeviceTopic, deviceTopicPrefix, parseDeviceTopic } from './topics.ts'
