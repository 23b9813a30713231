export type RetainedLimits = {
  maxMessages: number
  maxBytes: number
  perClientMessages: number
  perClientBytes: number
}

type Usage = { messages: number; bytes: number }

/**
 * What retained messages cost, kept beside aedes' own store (which has no bound): each topic's size and
 * the identity that last retained it. A retained publish that would pass a cap is refused before it is stored.
 */
export function createRetainedBook(limits: RetainedLimits) {
  const topics = new Map<string, { owner: string; bytes: number }>()
  const owners = new Map<string, Usage>()
  const total: Usage = { messages: 0, bytes: 0 }

  const usageOf = (owner: string): Usage => owners.get(owner) ?? { messages: 0, bytes: 0 }

  function apply(owner: string, delta: Usage) {
    const usage = usageOf(owner)
    const next = { messages: usage.messages + delta.messages, bytes: usage.bytes + delta.bytes }
    if (next.messages === 0) owners.delete(owner)
    else owners.set(owner, next)
    total.messages += delta.messages
    total.bytes += delta.bytes
  }

  return {
    /**
     * Admits a retained publish of `bytes` to `topic` (0 bytes clears it, always admitted) and books it;
     * or answers why not, booking nothing.
     */
    admit: (owner: string, topic: string, bytes: number): string | null => {
      const previous = topics.get(topic)
      if (bytes === 0) {
        if (previous) {
          apply(previous.owner, { messages: -1, bytes: -previous.bytes })
          topics.delete(topic)
        }
        return null
      }
      // The owner's figures once the previous message of this topic, if its own, is replaced.
      const own = usageOf(owner)
      const mine = previous?.owner === owner ? previous : undefined
      const ownAfter = {
        messages: own.messages + (mine ? 0 : 1),
        bytes: own.bytes - (mine?.bytes ?? 0) + bytes,
      }
      const totalAfter = {
        messages: total.messages + (previous ? 0 : 1),
        bytes: total.bytes - (previous?.bytes ?? 0) + bytes,
      }
      if (ownAfter.messages > limits.perClientMessages)
        return `over ${limits.perClientMessages} retained messages for this client`
      if (ownAfter.bytes > limits.perClientBytes)
        return `over ${limits.perClientBytes} bytes of retained messages for this client`
      if (totalAfter.messages > limits.maxMessages)
        return `over ${limits.maxMessages} retained messages in all`
      if (totalAfter.bytes > limits.maxBytes)
        return `over ${limits.maxBytes} bytes of retained messages in all`
      if (previous) apply(previous.owner, { messages: -1, bytes: -previous.bytes })
      apply(owner, { messages: 1, bytes })
      topics.set(topic, { owner, bytes })
      return null
    },

    usage: (owner?: string): Usage => (owner === undefined ? { ...total } : usageOf(owner)),
  }
}
