import { Redis } from 'ioredis'
import { pino } from 'pino'
import { createFailedWorkLog, createStreamConsumer, streamKeys } from '../../streams/index.ts'

/**
 * A process whose stream consumer takes a batch and never finishes it: run with node --import tsx, given
 * REDIS_URL, STREAM, GROUP and PREFIX, it says which entry it is stuck on, for a test to kill it there.
 */
const { REDIS_URL = '', STREAM = '', GROUP = '', PREFIX = '' } = process.env
// ioredis and pino themselves, not service/: the whole service's imports would triple this process's start.
const redis = new Redis(REDIS_URL)
const consumer = createStreamConsumer({
  redis,
  stream: STREAM,
  group: GROUP,
  source: 'notifier',
  failedWork: createFailedWorkLog({ redis: new Redis(REDIS_URL), keys: streamKeys(PREFIX) }),
  logger: pino({ level: 'silent' }),
  handle: ({ id }) => {
    process.stdout.write(`stuck on ${id} as ${consumer.consumer}\n`)
    return new Promise<void>(() => {})
  },
})
await consumer.start()
process.stdout.write(`consuming as ${consumer.consumer}\n`)
