import mqemitter from 'mqemitter'

type Message = mqemitter.Message
type Listener = (message: Message, done: () => void) => void

/**
 * aedes' default mqemitter recurses once per queued message when a slow QoS 1 subscriber catches up, and
 * overflows the stack under heavy publishing (DESIGN.md § Known defects, mcollina/mqemitter#204). This one
 * wraps each listener's completion: past a fixed depth of synchronous completions it resumes on the next
 * turn of the event loop, so the stack stays bounded whatever the queue length.
 */
export function createTrampolinedEmitter({
  concurrency,
  maxDepth = 200,
}: {
  concurrency: number
  maxDepth?: number
}) {
  const inner = mqemitter({ concurrency, matchEmptyLevels: true }) // [MQTT-4.7.1-3]
  const wrapped = new WeakMap<Listener, Listener>()
  let depth = 0

  function wrap(listener: Listener): Listener {
    const existing = wrapped.get(listener)
    if (existing) return existing
    const trampolined: Listener = function (this: unknown, message, done) {
      listener.call(this, message, () => {
        if (depth >= maxDepth) {
          setImmediate(done)
          return
        }
        depth++
        try {
          done()
        } finally {
          depth--
        }
      })
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
    emit(message: Message, callback?: (error?: Error) => void) {
      inner.emit(message, callback)
    },
    close(callback: () => void) {
      inner.close(callback)
    },
    /** Messages waiting for a delivery slot. */
    get length(): number {
      return (inner as unknown as { length: number }).length
    },
  }
}
