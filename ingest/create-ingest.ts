import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Settings } from '../config/index.ts'
import type { Clock, DeviceKind } from '../domain/index.ts'
import { type CommandAnswerMessage, parseCommandAnswer } from './command-answer.ts'
import { createDeadLetters } from './dead-letters.ts'
import { createDeviceRegistry } from './device-registry.ts'
import { createDeviceStates } from './device-state.ts'
import { ingestKeys } from './keys.ts'
import { createReadingLog } from './reading-log.ts'
import { parseReading } from './reading-parser.ts'
import { createReadingRange } from './reading-range.ts'
import { parseDeviceTopic } from './topics.ts'

export type IngestSettings = Pick<
  Settings,
  'redisPrefix' | 'logShards' | 'readingsRetention' | 'deviceReadingsRetention' | 'deadLetterRetention'
>

/** What became of one message: kept, dropped as a duplicate, kept as bad input, or not ours. */
export type IngestOutcome = 'appended' | 'duplicate' | 'status' | 'dead-letter' | 'ignored'

export type IngestMessage = {
  topic: string
  payload: Buffer
  receivedAt: number
  /** The device kind when the caller knows it (the broker does, from authentication). */
  kind?: DeviceKind
}

export type Ingest = ReturnType<typeof createIngest>

export function createIngest({
  redis,
  settings,
  log,
  clock,
  lingerMs,
  replicated = async () => {},
  commandAnswers,
}: {
  redis: Redis
  settings: IngestSettings
  log: Logger
  clock: Clock
  /** How long a reading waits for others to share its write to Redis; a few ms by default. */
  lingerMs?: number
  /** Resolves once this connection's writes are on enough replicas (VIGIE_REDIS_REPLICAS_ACK): before any PUBACK. */
  replicated?: () => Promise<void>
  /** Issue 19: where a device's answer to a command goes (the command store); checked there, not here. */
  commandAnswers?: (deviceId: string, answer: CommandAnswerMessage, at: number) => Promise<unknown>
}) {
  const keys = ingestKeys(settings.redisPrefix)
  const registry = createDeviceRegistry({ redis, prefix: settings.redisPrefix, clock })
  const readings = createReadingLog({
    redis,
    keys,
    shards: settings.logShards,
    retention: settings.readingsRetention,
    deviceRetention: settings.deviceReadingsRetention,
    ...(lingerMs === undefined ? {} : { lingerMs }),
  })
  const deadLetters = createDeadLetters({ redis, keys, retention: settings.deadLetterRetention })
  const states = createDeviceStates({ redis, keys })
  const readingRange = createReadingRange({ redis, keys })

  // Device kinds looked up for messages whose sender ingest did not authenticate (external broker, bridges).
  const kinds = new Map<string, { kind: DeviceKind | null; until: number }>()
  async function kindOf(deviceId: string, now: number): Promise<DeviceKind | null> {
    const cached = kinds.get(deviceId)
    if (cached && cached.until > now) return cached.kind
    const kind = (await registry.get(deviceId))?.kind ?? null
    kinds.set(deviceId, { kind, until: now + 60_000 })
    return kind
  }

  async function reject(deviceId: string, message: IngestMessage, reason: string): Promise<IngestOutcome> {
    await deadLetters.record({
      device: deviceId,
      topic: message.topic,
      reason,
      payload: message.payload,
      receivedAt: message.receivedAt,
    })
    log.debug({ deviceId, reason }, 'dead letter')
    return 'dead-letter'
  }

  /** Validates and durably stores one message; resolves only once it is in Redis, and replicated when asked. */
  async function accept(message: IngestMessage): Promise<IngestOutcome> {
    const outcome = await store(message)
    if (outcome !== 'ignored') await replicated()
    return outcome
  }

  async function store(message: IngestMessage): Promise<IngestOutcome> {
    const target = parseDeviceTopic(message.topic)
    if (!target) return 'ignored'
    const { deviceId, channel } = target
    if (channel === 'status') {
      const raw = message.payload.toString('utf8').trim()
      if (raw.startsWith('{')) {
        const parsed = parseCommandAnswer(raw)
        if (!parsed.ok) return reject(deviceId, message, parsed.reason)
        await commandAnswers?.(deviceId, parsed.answer, message.receivedAt)
        return 'status'
      }
      const text = raw.toLowerCase()
      if (text !== 'online' && text !== 'offline')
        return reject(deviceId, message, 'status: expected "online" or "offline"')
      await states.setOnline(deviceId, text === 'online', message.receivedAt)
      return 'status'
    }
    const kind = message.kind ?? (await kindOf(deviceId, message.receivedAt))
    if (!kind) return reject(deviceId, message, 'device: no such device')
    const parsed = parseReading({ deviceId, kind, payload: message.payload, receivedAt: message.receivedAt })
    if (!parsed.ok) return reject(deviceId, message, parsed.reason)
    return (await readings.append(parsed.reading, message.receivedAt)) ? 'appended' : 'duplicate'
  }

  return { accept, registry, readings, readingRange, deadLetters, states, keys }
}
