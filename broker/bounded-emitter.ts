import mqemitter from 'mqemitter'

type Message = mqemitter.Message
type Listener = (message: Message, done: () => void) => void
type Callback = (error?: Error) => void

/** What the bounded emitter wraps: a local mqemitter, or the Redis one of redis-bus.ts. */
export type MessageBus = {
  on: (topic: string, listener: Listener, callback?: () => void) => unknown
  removeListener: (topic: string, listener: Listener, callback?: () => void) => void
  emit: (message: Message, callback?: Callback) => void
  close: (callback: () => void) => void
}

export type BoundedEmitter = ReturnType<typeof createBoundedEmitter>

/**
 * aedes' message bus, made safe under overload (DESIGN.md § Known defects, mcollina/mqemitter#204):
 * - mqemitter recurses once per queued message when deliveries complete in the same turn, and aedes'
 *   publish path (PublishState.next → Client.nextBatch → the next publish) recurses through the emit
 *   callback; here every completion, listener's or emit's, runs on a fresh turn past a fixed depth.
 * - mqemitter's queue has no bound, and aedes keeps reading clients while it grows (each 'readable' event
 *   parses more); here the queue says when it is congested, so the broker stops reading until it drains.
 * Over the Redis bus (MQTT_CLUSTER=on) an emit completes when Redis took the PUBLISH, so the queue bounds
 * what waits to reach Redis; deliveries arrive from Redis one message per event, never queued behind another.
 */
export function createBoundedEmitter({
  concurrency,
  highWater,
  lowWater = Math.floor(highWater / 2),
  maxDepth = 200,
  // Unbounded inside: this wrapper keeps the count, the order and the queue.
  inner = mqemitter({ concurrency: 0, matchEmptyLevels: true }), // [MQTT-4.7.1-3]
}: {
  /** Messages being delivered at once; the rest wait in order. */
  concurrency: number
  /** Waiting messages past which the bus is congested, until they are down to lowWater. */
  highWater: number
  lowWater?: number
  maxDepth?: number
  /** Takes every message at once (concurrency 0): this wrapper does the queueing. */
  inner?: MessageBus
}) {
  const wrapped = new WeakMap<Listener, Listener>()
  const waiting: { message: Message; callback: Callback }[] = []
  let head = 0
  let active = 0
  let depth = 0
  let pumping = false
  let congested = false
  let closed = false
  const onClear = new Set<() => void>()

  /** Runs fn in this turn, or in the next one when the stack is already deep. */
  function settle(fn: () => void) {
    if (depth >= maxDepth) {
      setImmediate(fn)
      return
    }
    depth++
    try {
      fn()
    } finally {
      depth--
    }
  }

  const queued = () => waiting.length - head

  function shift() {
    const next = waiting[head]
    waiting[head++] = undefined as never
    // Compacted now and then, so the array does not keep every message it ever held.
    if (head > 1024 && head * 2 > waiting.length) {
      waiting.splice(0, head)
      head = 0
    }
    return next
  }

  function clearIfDrained() {
    if (!congested || queued() > lowWater) return
    congested = false
    const resumers = [...onClear]
    onClear.clear()
    setImmediate(() => {
      for (const resume of resumers) resume()
    })
  }

  function start(message: Message, callback: Callback) {
    active++
    inner.emit(message, (error?: Error) => {
      active--
      settle(() => callback(error))
      pump()
    })
  }

  // A loop, not recursion: a delivery that completes at once makes room the same loop fills.
  function pump() {
    if (pumping) return
    pumping = true
    try {
      while (active < concurrency && queued() > 0) {
        const next = shift()
        if (next) start(next.message, next.callback)
      }
    } finally {
      pumping = false
    }
    clearIfDrained()
  }

  function wrap(listener: Listener): Listener {
    const existing = wrapped.get(listener)
    if (existing) return existing
    const trampolined: Listener = function (this: unknown, message, done) {
      listener.call(this, message, () => settle(done))
    }
    wrapped.set(listener, trampolined)
    return trampolined
  }

  return {
    on(topic: string, listener: Listener, callback?: () => void) {
      inner.on(topic, wrap(listener), callback)
      return this
    },
    removeListener(topic: string, listener: Listener, callback?: () => void) {
      inner.removeListener(topic, wrapped.get(listener) ?? listener, callback)
    },
    emit(message: Message, callback: Callback = () => {}) {
      if (closed) return callback(new Error('the message bus is closed'))
      if (active < concurrency && queued() === 0) return start(message, callback)
      waiting.push({ message, callback })
      if (queued() > highWater) congested = true
    },
    close(callback: () => void) {
      closed = true
      inner.close(callback)
    },
    /** Messages waiting for a delivery slot. */
    get length(): number {
      return queued()
    },
    /** True while more than highWater messages wait: whoever feeds the bus should stop reading. */
    congested: () => congested,
    /** Calls resume once, when the bus is no longer congested. */
    whenClear(resume: () => void) {
      if (!congested) return resume()
      onClear.add(resume)
    },
  }
}
