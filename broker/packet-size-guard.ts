import { Duplex } from 'node:stream'

/**
 * aedes and mqtt-packet buffer a packet of any declared size (DESIGN.md § Known defects), so this reads
 * each fixed header's remaining length [MQTT-2.2.3] as bytes arrive and refuses an oversize packet
 * before its body is buffered.
 */
export function createPacketScanner(maxPacketSize: number) {
  let state: 'header' | 'length' | 'body' = 'header'
  let length = 0
  let multiplier = 1
  let lengthBytes = 0
  let bodyLeft = 0

  /** Scans one chunk; returns the reason to refuse the connection, or null. */
  return (chunk: Buffer): string | null => {
    let i = 0
    while (i < chunk.length) {
      if (state === 'body') {
        const skip = Math.min(bodyLeft, chunk.length - i)
        bodyLeft -= skip
        i += skip
        if (bodyLeft === 0) state = 'header'
        continue
      }
      const byte = chunk[i++] as number
      if (state === 'header') {
        state = 'length'
        length = 0
        multiplier = 1
        lengthBytes = 0
        continue
      }
      length += (byte & 0x7f) * multiplier
      multiplier *= 128
      lengthBytes++
      if (length + 1 + lengthBytes > maxPacketSize)
        return `packet of ${length} bytes is over the ${maxPacketSize} byte limit`
      if (byte & 0x80) {
        if (lengthBytes === 4) return 'malformed remaining length' // [MQTT-2.2.3] at most four bytes
        continue
      }
      bodyLeft = length
      state = bodyLeft === 0 ? 'header' : 'body'
    }
    return null
  }
}

/** Says when the broker cannot take more input: a congested message bus. */
export type ReadGate = { congested: () => boolean; whenClear: (resume: () => void) => void }

/**
 * A duplex over the client's connection that aedes reads through; an oversize packet destroys both, and
 * nothing more is read while the gate is congested (the client's TCP window then slows it down).
 */
export function guardConnection(
  inner: Duplex,
  {
    maxPacketSize,
    onRefused,
    gate,
  }: { maxPacketSize: number; onRefused: (reason: string) => void; gate?: ReadGate },
): Duplex {
  const scan = createPacketScanner(maxPacketSize)
  let wanted = true
  let held = false
  // Reads again once aedes wants more and the gate is clear; one wait at a time.
  const resumeWhenAllowed = () => {
    if (!wanted || held) return
    if (gate?.congested()) {
      held = true
      gate.whenClear(() => {
        held = false
        resumeWhenAllowed()
      })
      return
    }
    inner.resume()
  }
  const outer: Duplex = new Duplex({
    allowHalfOpen: false,
    read: () => {
      wanted = true
      resumeWhenAllowed()
    },
    write: (chunk: Buffer, _encoding, callback) => {
      if (inner.write(chunk)) callback()
      else inner.once('drain', () => callback())
    },
    // mqtt-packet corks while it writes a packet's parts; passing them on corked keeps one syscall a packet.
    writev: (chunks, callback) => {
      inner.cork()
      let flowing = true
      for (const { chunk } of chunks) flowing = inner.write(chunk as Buffer)
      inner.uncork()
      if (flowing) callback()
      else inner.once('drain', () => callback())
    },
    final: (callback) => {
      inner.end(callback)
    },
    destroy: (error, callback) => {
      inner.destroy()
      callback(error)
    },
  })
  inner.on('data', (chunk: Buffer) => {
    const refusal = scan(chunk)
    if (refusal) {
      onRefused(refusal)
      inner.destroy()
      outer.destroy()
      return
    }
    if (!outer.push(chunk)) wanted = false
    if (!wanted || gate?.congested()) {
      inner.pause()
      resumeWhenAllowed()
    }
  })
  inner.on('end', () => outer.push(null))
  inner.on('error', (error) => outer.destroy(error))
  inner.on('close', () => outer.destroy())
  return outer
}
