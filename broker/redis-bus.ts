import type { EventEmitter } from 'node:events'
import type { Redis } from 'ioredis'
import type mqemitter from 'mqemitter'
import mqemitterRedis from 'mqemitter-redis'
import type { MessageBus } from './bounded-emitter.ts'

type Message = mqemitter.Message
type Listener = (message: Message, done: () => void) => void

/**
 * aedes' message bus over Redis pub/sub (mqemitter-redis), shared by every broker node of a deployment: each
 * MQTT topic travels on `<channels><topic>`, so two deployments on one Redis never see each other's messages.
 * Delivery is at most once: a node whose subscriber connection drops (or that Redis cuts for falling behind)
 * misses what was published meanwhile, as an offline MQTT session would without a queue.
 */
export function createRedisBus({
  redis,
  channels,
  onError,
}: {
  /** Duplicated twice: a subscriber connection and a publisher. */
  redis: Redis
  channels: string
  onError: (error: Error) => void
}): MessageBus {
  const inner = mqemitterRedis({
    subConn: redis.duplicate(),
    // Many publishes per turn go out in one write.
    pubConn: redis.duplicate({ enableAutoPipelining: true }),
    // Each message is delivered as it arrives: bounded-emitter.ts queues what is sent, Redis what is received.
    concurrency: 0,
    matchEmptyLevels: true, // [MQTT-4.7.1-3]
  })
  // mqemitter-redis reports its connections' errors here; an 'error' with no listener would end the process.
  ;(inner as unknown as { state: EventEmitter }).state.on('error', onError)
  const unprefixed = new WeakMap<Listener, Listener>()

  /** The listener aedes gave, handed messages under their MQTT topic again. */
  function wrap(listener: Listener): Listener {
    const existing = unprefixed.get(listener)
    if (existing) return existing
    const inner: Listener = function (this: unknown, message, done) {
      listener.call(this, { ...message, topic: message.topic.slice(channels.length) }, done)
    }
    unprefixed.set(listener, inner)
    return inner
  }

  return {
    on(topic, listener, callback) {
      inner.on(channels + topic, wrap(listener), callback)
    },
    removeListener(topic, listener, callback) {
      inner.removeListener(channels + topic, unprefixed.get(listener) ?? listener, callback)
    },
    emit(message, callback) {
      inner.emit({ ...message, topic: channels + message.topic }, callback)
    },
    close(callback) {
      inner.close(callback)
    },
  }
}
