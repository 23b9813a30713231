export { type CompareAndDelete, createCompareAndDelete } from './compare-and-delete.ts'
export { entryFields } from './entry-fields.ts'
export {
  createFailedWorkLog,
  type FailedWork,
  type FailedWorkInput,
  type FailedWorkLog,
  type FailedWorkSource,
  failedWorkSchema,
  failedWorkSources,
  reasonOf,
} from './failed-work.ts'
export { type StreamKeys, streamKeys } from './keys.ts'
export { createLease, type Lease, type LeaseOptions } from './lease.ts'
export { createReplicaWait, type ReplicaWait } from './replica-wait.ts'
export {
  consumerName,
  createStreamConsumer,
  type StreamConsumer,
  type StreamConsumerOptions,
  type StreamEntry,
} from './stream-consumer.ts'
export { readStreamPage, type StreamPage } from './stream-page.ts'
