import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { VigieError } from '../domain/index.ts'
import { createStreamConsumer, type FailedWorkLog } from '../streams/index.ts'

/**
 * Issue 19: the API may run where no broker does, so it leaves each device command in a Redis stream (the
 * outbox, fields t: topic and p: payload); one broker node of the group takes each entry and publishes it at
 * QoS 1, and aedes keeps it for a persistent session that is offline. An entry is acknowledged only once
 * aedes took it; a failure is retried, then kept in failed work.
 */
export function createCommandRelay({
  redis,
  outbox,
  publish,
  failedWork,
  logger,
}: {
  /** A connection of its own: XREADGROUP blocks it. */
  redis: Redis
  outbox: string
  publish: (topic: string, payload: string) => Promise<void>
  failedWork: FailedWorkLog
  logger: Logger
}) {
  return createStreamConsumer({
    redis,
    stream: outbox,
    group: 'brokers',
    source: 'commands',
    failedWork,
    logger,
    // Commands wait on a person: a process gone has its entries taken over soon.
    claimIdleMs: 10_000,
    handle: async ({ fields }) => {
      const { t: topic, p: payload } = fields
      if (!topic?.startsWith('devices/') || !topic.includes('/commands/') || payload === undefined)
        throw new VigieError({ code: 'STREAM_ENTRY_REJECTED', message: 'not a command to publish' })
      await publish(topic, payload)
    },
  })
}
